#!/usr/bin/env python3
"""Benchmark: etcd_snapshot (save + verify) vs plain ``etcdctl snapshot save`` + ``etcdctl snapshot status``.

Self-contained: starts its own single-member etcd (plain http on a free loopback port, in a temporary dir,
``--quota-backend-bytes`` raised), fills it with at least ``--mb`` MB (default 256) of random values, then,
against that same etcd, each repetition times (interleaved, page cache equally warm):

- plain: ``etcdctl snapshot save F`` then ``etcdctl snapshot status F`` (no sha256 check);
- module_utils: ``snapshot.run()`` in this process: probe, save under a temporary name, sha256 trailer
  check in Python overlapped with ``snapshot status``, rename, .sha256 file, retention (keep 2).

Then once through ``ansible localhost -m cluster_ops.kubeadm.etcd_snapshot`` (Ansible's start-up included,
reported, not part of the ratio). Prints the medians and the median ratio. Goal: <= 1.15x.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(REPO / ".build" / "collections"),
    str(REPO / "tests"),
    str(REPO / "tests" / "lab"),
    str(REPO / "tests" / "integration" / "etcd"),
]

from ansible_run import run_module  # noqa: E402
from etcdlab import ETCDCTL, Cluster  # noqa: E402

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import snapshot  # noqa: E402

GOAL = 1.15
VALUE_BYTES = 96 * 1024
PUTS_PER_TXN = 16  # etcdctl sends at most 2 MiB a request


def fill(cluster: Cluster, megabytes: int) -> None:
    count = megabytes * 1024 * 1024 // VALUE_BYTES + 1
    for start in range(0, count, PUTS_PER_TXN):
        puts = "\n".join(
            f"put /bench/{i:06d} {secrets.token_hex(VALUE_BYTES // 2)}"
            for i in range(start, min(count, start + PUTS_PER_TXN))
        )
        proc = cluster.etcdctl("txn", stdin=f"\n{puts}\n\n\n", timeout=120)
        if proc.returncode != 0 or "SUCCESS" not in proc.stdout:
            raise SystemExit(f"fill failed: {proc.stderr[-500:]}")


def plain(endpoint: str, target: Path) -> tuple[float, float]:
    """Seconds for save + status, and for the save alone."""
    env = dict(os.environ, ETCDCTL_API="3")
    started = time.perf_counter()
    subprocess.run(
        [ETCDCTL, f"--endpoints={endpoint}", "snapshot", "save", str(target)], env=env, check=True, capture_output=True
    )
    saved = time.perf_counter()
    subprocess.run(
        [ETCDCTL, "snapshot", "status", str(target), "--write-out=json"], env=env, check=True, capture_output=True
    )
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed, saved - started


def ours(endpoint: str, backup_dir: Path) -> tuple[float, dict]:
    started = time.perf_counter()
    result = snapshot.run({"endpoints": [endpoint], "backup_dir": str(backup_dir), "keep": 2, "timeout": 600})
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256, help="data to put in etcd (MB)")
    parser.add_argument("--repetitions", type=int, default=5)
    options = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-etcd-"))
    cluster = Cluster(
        base / "etcd",
        1,
        None,
        extra_flags=[
            "--quota-backend-bytes=4294967296",
            "--max-request-bytes=10485760",
            "--auto-compaction-retention=0",
        ],
    )
    try:
        cluster.start()
        started = time.perf_counter()
        fill(cluster, options.mb)
        endpoint = cluster.endpoints[0]
        print(f"filled etcd with {options.mb} MB in {time.perf_counter() - started:.1f}s")
        plain_times, our_times, ratios = [], [], []
        plain_target = base / "plain.db"
        for repetition in range(options.repetitions):
            plain_time, plain_save = plain(endpoint, plain_target)
            our_time, result = ours(endpoint, base / "backups")
            plain_times.append(plain_time)
            our_times.append(our_time)
            ratios.append(our_time / plain_time)
            print(
                f"  #{repetition + 1}: plain {plain_time:.2f}s (save {plain_save:.2f}s), etcd_snapshot {our_time:.2f}s "
                f"(probe + save {result['save_duration']:.2f}s) "
                f"({result['size'] / 2**20:.0f} MiB, {result['total_keys']} keys), ratio {our_time / plain_time:.3f}"
            )
        module = run_module(
            "etcd_snapshot", {"endpoints": [endpoint], "backup_dir": str(base / "backups"), "keep": 2}, timeout=900
        )
        if module.get("failed"):
            raise SystemExit(f"module failed: {module.get('msg')}")
        print(f"module through ansible: task duration {module['duration']:.2f}s ({module['size'] / 2**20:.0f} MiB)")
        ratio = statistics.median(ratios)
        print(
            f"etcd_snapshot save+verify: median {statistics.median(our_times):.2f}s vs etcdctl save+status "
            f"{statistics.median(plain_times):.2f}s: ratio {ratio:.3f}x (goal <= {GOAL}x) "
            + ("OK" if ratio <= GOAL else "OVER GOAL")
        )
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
