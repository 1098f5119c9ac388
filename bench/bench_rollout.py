#!/usr/bin/env python3
"""Benchmark: upgrade_serial auto against 1 and against a fixed 2, on lab nodes with budgets of different tightness.

Each run gets a fresh lab (one control plane, six workers at v1.35.2: a lab cannot be downgraded, so it is taken
down and brought up again at the same version) with namespace ``bench``: ``solo`` (two pods, one on worker-1 and
one on worker-2, maxUnavailable 1), ``pair`` (four pods, maxUnavailable 2), ``wide`` (six pods, maxUnavailable 50%)
and ``free`` (six pods, no budget). Each run upgrades it to v1.36 with the rollout report enabled while a
BudgetWatcher samples the healthy pods behind every budget. Prints the wall times, the ratios against auto, the
batch sizes and the budget violations of every run; keeps the auto run's report and a screenshot of its page in
bench/out/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LABCTL = REPO / "tests" / "lab" / "labctl"
OUT = REPO / "bench" / "out"
sys.path[:0] = [
    str(REPO / "tests"),
    str(REPO / "tests" / "integration" / "drain"),
    str(REPO / "tests" / "integration" / "report"),
]

from ansible_run import ansible_env  # noqa: E402
from chromium_page import check_page  # noqa: E402
from workload import BudgetWatcher, Cluster, wait_for  # noqa: E402

WORKERS = [f"worker-{n}" for n in range(1, 7)]
REQUIRED = {"solo": 1, "pair": 2, "wide": 3}  # the fewest healthy pods each budget allows
SETTINGS = ("auto", 1, 2)
REQUESTS = {"cpu": "100m", "memory": "64Mi"}  # what each pod asks of the scheduler


def labctl(state: Path, *args: str, timeout: float = 900) -> None:
    subprocess.run([str(LABCTL), *args, "--state-dir", str(state)], check=True, timeout=timeout, capture_output=True)


def seed(state: Path) -> Cluster:
    cluster = Cluster(str(state / "admin.conf"))
    cluster.namespace("bench")
    for name, node in (("solo-a", "worker-1"), ("solo-b", "worker-2")):
        cluster.pinned_deployment("bench", name, node, [w for w in WORKERS if w != node], app="solo", requests=REQUESTS)
    for name, replicas in (("pair", 4), ("wide", 6), ("free", 6)):
        cluster.deployment("bench", name, replicas, labels={"app": name, "deployment": name}, requests=REQUESTS)
    cluster.pdb_create("bench", "solo", "solo", max_unavailable=1)
    cluster.pdb_create("bench", "pair", "pair", max_unavailable=2)
    cluster.pdb_create("bench", "wide", "wide", max_unavailable="50%")

    def settled() -> bool:
        ready = [p for p in cluster.pods("bench") if p["status"].get("phase") == "Running"]
        allowed = {
            p["metadata"]["name"]: (p.get("status") or {}).get("disruptionsAllowed") for p in cluster.pdbs("bench")
        }
        return len(ready) == 18 and allowed == {"solo": 1, "pair": 2, "wide": 3}

    wait_for("the bench workloads and their budgets", settled, timeout=180)
    return cluster


def upgrade(state: Path, serial: Any, report_dir: Path) -> float:
    extra = {"kubernetes_version": "1.36", "upgrade_serial": serial}
    command = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(state / "hosts.yml")]
    command += [str(REPO / "playbooks" / "upgrade.yml"), "-e", json.dumps(extra)]
    env = ansible_env(
        {
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_CALLBACKS_ENABLED": "cluster_ops.kubeadm.rollout_report",
            "CLUSTER_OPS_ROLLOUT_REPORT_DIR": str(report_dir),
        }
    )
    env.pop("KUBECONFIG", None)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, timeout=3600, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"upgrade with upgrade_serial {serial} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return wall


def one_run(state: Path, serial: Any, report_dir: Path) -> dict[str, Any]:
    labctl(state, "down")
    labctl(state, "up", "--mode", "nodes", "--control-planes", "1", "--workers", "6", "--version", "1.35.2")
    cluster = seed(state)
    with BudgetWatcher(cluster, "bench", REQUIRED, interval=0.2) as watcher:
        wall = upgrade(state, serial, report_dir)
    report = json.loads((report_dir / "rollout-report.json").read_text())
    workers = [b for b in report["batches"] if b["nodes"] != ["cp-1"]]
    return {
        "wall": wall,
        "batches": [len(b["nodes"]) for b in workers],
        "workers_s": sum(b["end"] - b["start"] for b in workers),
        "violations": watcher.violations,
        "samples": watcher.samples,
        "minimum": watcher.minimum,
        "report": report,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, default=None)
    options = parser.parse_args()
    subprocess.run(["make", "-s", "collection"], cwd=REPO, check=True)
    state = options.state_dir or Path(tempfile.mkdtemp(prefix="bench-rollout-"))
    reports = Path(tempfile.mkdtemp(prefix="bench-rollout-reports-"))
    runs: dict[Any, dict[str, Any]] = {}
    try:
        for serial in SETTINGS:
            runs[serial] = one_run(state, serial, reports / str(serial))
            run = runs[serial]
            print(f"upgrade_serial {serial}: wall {run['wall']:.1f} s, workers' batches {run['workers_s']:.1f} s, "
                  f"batch sizes {run['batches']}, budget violations {run['violations'] or 'none'} "
                  f"({run['samples']} samples, lowest healthy {run['minimum']})", flush=True)  # fmt: skip
    finally:
        labctl(state, "down")
    OUT.mkdir(parents=True, exist_ok=True)
    for suffix in ("json", "html"):
        shutil.copy(reports / "auto" / f"rollout-report.{suffix}", OUT / f"rollout-report.{suffix}")
    check_page(runs["auto"]["report"], OUT / "rollout-report.html", OUT / "rollout-report.png")
    plan = runs["auto"]["report"]["summary"]["plans"][0]
    print(f"\nfirst plan of the auto run: {plan['batches']}, splits "
          + "; ".join(f"after {s['after']}: {s['reason']} {s['by']}" for s in plan["splits"]))  # fmt: skip
    auto = runs["auto"]
    for serial in (1, 2):
        print(f"upgrade_serial {serial} / auto: whole run {runs[serial]['wall'] / auto['wall']:.2f}x, "
              f"workers {runs[serial]['workers_s'] / auto['workers_s']:.2f}x")  # fmt: skip
    print(f"budget violations: {sum(len(r['violations']) for r in runs.values())} in {len(runs)} runs")
    print(f"report of the auto run: {OUT / 'rollout-report.html'}, screenshot {OUT / 'rollout-report.png'}")
    return 1 if any(r["violations"] for r in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
