#!/usr/bin/env python3
"""Benchmark: playbooks/upgrade.yml on lab nodes, its orchestration overhead and what a wider batch gains.

Brings up a nodes lab (one control plane, four workers at v1.35.2, the ``apps`` workloads behind budgets),
upgrades it to v1.36 with ``upgrade_serial: 1``, takes it down, brings the same lab up again and upgrades it with
``upgrade_serial: 2``. For each run it prints the wall time and, from the phases the playbook hands to
``set_stats`` (per node: drain, kubeadm package, kubeadm, kubelet packages, restart, wait), their sum:

- overhead = wall time / the sum of every node's phases, with ``upgrade_serial: 1`` (everything in turn: what is
  not a phase is preflight, the snapshot, the repository switch and Ansible's own work; goal at most 1.3x);
- speed-up = the workers' part of the serial-1 run / that of the serial-2 run (the control plane goes one node at
  a time in both).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LABCTL = REPO / "tests" / "lab" / "labctl"
sys.path[:0] = [str(REPO / "tests")]

from ansible_run import ansible_env  # noqa: E402

PHASES = ("drain", "kubeadm_package", "kubeadm", "packages", "restart", "wait")
GOAL = 1.3


def labctl(state: Path, *args: str, timeout: float = 900) -> None:
    subprocess.run([str(LABCTL), *args, "--state-dir", str(state)], check=True, timeout=timeout, capture_output=True)


def kubectl(state: Path, *args: str) -> None:
    command = [str(REPO / ".venv" / "bin" / "kubectl"), "--kubeconfig", str(state / "admin.conf"), *args]
    subprocess.run(command, check=True, capture_output=True, timeout=300)


def upgrade(state: Path, serial: int) -> dict[str, Any]:
    """One run: wall time, the custom stats, and the start/end of the workers' plays."""
    extra = {"kubernetes_version": "1.36", "upgrade_serial": serial, "upgrade_delete_emptydir_data": True}
    command = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(state / "hosts.yml")]
    command += [str(REPO / "playbooks" / "upgrade.yml"), "-e", json.dumps(extra)]
    env = ansible_env({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    env.pop("KUBECONFIG", None)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, timeout=3600, check=False)
    wall = time.perf_counter() - started
    report = json.loads(done.stdout)
    if done.returncode != 0:
        raise SystemExit(f"upgrade with serial {serial} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    # Every hop imports the same plays, so names repeat: the workers' plays that ran are those with an end.
    workers = [
        play["play"]["duration"]
        for play in report["plays"]
        if play["play"]["name"].startswith("Upgrade hop - the workers") and play["play"]["duration"].get("end")
    ]
    return {"wall": wall, "stats": report["global_custom_stats"]["upgrade"], "workers": workers}


def seconds(duration: dict[str, str]) -> float:
    from datetime import datetime

    def parse(value: str) -> float:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()

    return parse(duration["end"]) - parse(duration["start"])


def fresh_lab(state: Path) -> None:
    labctl(state, "down")
    labctl(state, "up", "--mode", "nodes", "--control-planes", "1", "--workers", "4", "--version", "1.35.2")
    labctl(state, "seed", "--profile", "apps")
    kubectl(state, "-n", "apps", "delete", "pod", "standalone", "--wait=true")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, default=None)
    options = parser.parse_args()
    subprocess.run(["make", "-s", "collection"], cwd=REPO, check=True)
    state = options.state_dir or Path(tempfile.mkdtemp(prefix="bench-upgrade-"))
    runs = {}
    try:
        for serial in (1, 2):
            fresh_lab(state)
            runs[serial] = upgrade(state, serial)
    finally:
        labctl(state, "down")
    for serial, run in runs.items():
        phases = run["stats"]["phases"]
        total = {phase: sum(h["timings"].get(phase, 0) for hops in phases.values() for h in hops) for phase in PHASES}
        run["phase_sum"] = sum(float(v) for v in total.values())
        run["workers_s"] = sum(seconds(d) for d in run["workers"])
        print(f"serial {serial}: wall {run['wall']:.1f} s, workers' plays {run['workers_s']:.1f} s, phases "
              + ", ".join(f"{phase} {float(total[phase]):.1f}" for phase in PHASES), flush=True)  # fmt: skip
    overhead = runs[1]["wall"] / runs[1]["phase_sum"]
    print(f"\norchestration overhead (serial 1): wall / sum of phases = {overhead:.2f}x (goal <= {GOAL}x)")
    print(f"upgrade_serial 2 over 1, workers: {runs[1]['workers_s'] / runs[2]['workers_s']:.2f}x faster; "
          f"whole run {runs[1]['wall'] / runs[2]['wall']:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
