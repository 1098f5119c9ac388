#!/usr/bin/env python3
"""Benchmark: node_drain vs ``kubectl drain`` vs kubernetes.core.k8s_drain on the same 100-pod node.

Starts its own lab (host mode, 4 nodes: cp-1 and worker-1..3) in a temporary state dir and puts on worker-1:
10 Deployments (8,8,8,8,8,8,8,8,8,7 replicas) each behind a PodDisruptionBudget with maxUnavailable 1, a
Deployment of 20 pods with an emptyDir volume, and one DaemonSet pod: 100 pods. Every repetition resets that
workload (the other workers cordoned, the moved pods deleted so their controllers recreate them on worker-1,
every budget allowing one disruption again), then drains worker-1 with each tool in turn, all with the same
flags (ignore DaemonSets, delete emptyDir data, the pods' own grace period):

- node_drain: ``ansible localhost -m cluster_ops.kubeadm.node_drain`` (Ansible's start-up included; the
  module's own ``duration`` is printed too);
- kubectl: the real ``kubectl drain --ignore-daemonsets --delete-emptydir-data``;
- k8s_drain: kubernetes.core.k8s_drain (the ``ansible`` package) in a playbook task with
  ``until: result is succeeded``, ``retries``, ``delay: 1``, as its users must: it fails on the first 429.

A watcher samples the Ready pods behind every budget the whole time; a violation is a moment with fewer than
replicas - 1. The bound no drain can beat: a budget's first ``disruptionsAllowed`` evictions go at once, each
further one waits for a replacement to be Ready, and the drain ends when the last evicted pod has terminated:
(its pods on the node - disruptions allowed) x (the lab's pod-ready delay) + the pods' grace period (scaled by
the lab's time factor); the longest such chain.
Goals: node_drain <= 0.8x kubectl, within 1.2x of the bound, >= 3x faster than k8s_drain, zero violations.

kubectl sleeps a real 5 s after every 429 while the lab's delays are short, which flatters node_drain at the
default pod-ready delay of 1 s: ``--pod-ready-delay 5`` gives replacements a realistic start-up time
(``make bench-drain`` runs both).

``--reps N`` (default 5), ``--tools node_drain,kubectl,k8s_drain``, ``--pod-ready-delay S`` (default 1) for the
lab it starts, ``--state-dir DIR`` to reuse a running 4-node lab (no up/down).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
LABCTL = REPO / "tests" / "lab" / "labctl"
COLLECTIONS = REPO / ".build" / "collections"
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration" / "drain")]

from ansible_run import ansible_env  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402
from workload import TARGET, BudgetWatcher, Cluster, budgets_settled, is_ready, wait_for  # noqa: E402

NAMESPACE = "bench"
BUDGETED = {f"app-{i:02d}": 8 if i < 9 else 7 for i in range(10)}  # 79 pods behind 10 budgets
SCRATCH = 20  # emptyDir pods, no budget
GOALS = {"kubectl": 0.8, "bound": 1.2, "k8s_drain": 3.0}
TOOLS = ("node_drain", "kubectl", "k8s_drain")

PLAYBOOK = """
- name: Drain with kubernetes.core.k8s_drain, retried as its users must
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Drain
      kubernetes.core.k8s_drain:
        kubeconfig: {kubeconfig}
        name: {node}
        state: drain
        delete_options:
          ignore_daemonsets: true
          delete_emptydir_data: true
          wait_timeout: 600
          wait_sleep: 1
      register: drained
      until: drained is succeeded
      retries: 600
      delay: 1
"""


def labctl(state_dir: Path, *args: str, timeout: float = 300) -> None:
    subprocess.run([str(LABCTL), *args, "--state-dir", str(state_dir)], check=True, timeout=timeout)


def create_workload(cluster: Cluster) -> None:
    cluster.namespace(NAMESPACE)
    for name, replicas in BUDGETED.items():
        cluster.deployment(NAMESPACE, name, replicas)
        cluster.pdb_create(NAMESPACE, name, name, max_unavailable=1)
    cluster.deployment(NAMESPACE, "scratch", SCRATCH, empty_dir=True)
    cluster.daemonset(NAMESPACE, "agent")


def reset(cluster: Cluster, workers: list[str]) -> None:
    """Every pod of the workload back on the target node, Ready, every budget allowing one disruption."""
    others = [n for n in workers if n != TARGET]
    for node in others:
        cluster.set_unschedulable(node, True)
    cluster.set_unschedulable(TARGET, False)
    for pod in cluster.pods(NAMESPACE):
        if pod["spec"].get("nodeName") != TARGET and not _daemon(pod):
            with contextlib.suppress(ApiException):  # already gone
                cluster.core.delete_namespaced_pod(
                    pod["metadata"]["name"], NAMESPACE, grace_period_seconds=0, _preload_content=False
                )
    want = sum(BUDGETED.values()) + SCRATCH + 1

    def settled():
        pods = cluster.pods(NAMESPACE)
        elsewhere = [p for p in pods if p["spec"].get("nodeName") != TARGET and not _daemon(p)]
        return not elsewhere and sum(is_ready(p) for p in pods if p["spec"].get("nodeName") == TARGET) == want

    wait_for(f"{want} Ready pods on {TARGET}", settled, timeout=300, interval=0.5)
    budgets_settled(cluster, NAMESPACE, timeout=120)
    for node in others:
        cluster.set_unschedulable(node, False)


def _daemon(pod: dict[str, Any]) -> bool:
    return any(ref.get("kind") == "DaemonSet" for ref in pod["metadata"].get("ownerReferences") or [])


def run_tool(tool: str, kubeconfig: str, workdir: Path) -> tuple[float, bool, dict[str, Any]]:
    """Drain the target with one tool: (wall seconds, succeeded, details)."""
    env = ansible_env()
    env.pop("KUBECONFIG", None)
    if tool == "node_drain":
        args = {
            "kubeconfig": kubeconfig,
            "node": TARGET,
            "ignore_daemonsets": True,
            "delete_emptydir_data": True,
            "timeout": 600,
        }
        command = [
            str(VENV_BIN / "ansible"),
            "localhost",
            "-m",
            "cluster_ops.kubeadm.node_drain",
            "-a",
            json.dumps(args),
        ]
    elif tool == "kubectl":
        command = [str(VENV_BIN / "kubectl"), "--kubeconfig", kubeconfig, "drain", TARGET]
        command += ["--ignore-daemonsets", "--delete-emptydir-data", "--timeout=600s"]
    else:
        playbook = workdir / "k8s_drain.yml"
        playbook.write_text(PLAYBOOK.format(kubeconfig=kubeconfig, node=TARGET))
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
        command = [str(VENV_BIN / "ansible-playbook"), str(playbook)]
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO, timeout=900, check=False)
    wall = time.perf_counter() - started
    details: dict[str, Any] = {}
    if tool == "node_drain":
        try:
            result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
            details = {k: result.get(k) for k in ("duration", "timings", "retries", "msg")}
            details["evicted"] = len(result.get("evicted") or [])
        except (ValueError, KeyError, IndexError):
            details = {"output": proc.stdout[-2000:]}
    elif tool == "k8s_drain":
        details["attempts"] = proc.stdout.count("FAILED - RETRYING") + 1
    if proc.returncode != 0:
        details["error"] = (proc.stdout + proc.stderr)[-1500:]
    return wall, proc.returncode == 0, details


def bound(cluster: Cluster, pod_ready_delay: float, time_factor: float) -> tuple[float, str]:
    """The longest chain: per budget, (its pods on the node - disruptions allowed) x the pod-ready delay, plus the
    grace period of the last pod evicted."""
    on_node: dict[str, int] = {}
    grace = 0.0
    for pod in cluster.pods(NAMESPACE, node=TARGET):
        app = (pod["metadata"].get("labels") or {}).get("app")
        if app in BUDGETED:
            on_node[app] = on_node.get(app, 0) + 1
            grace = max(grace, float(pod["spec"].get("terminationGracePeriodSeconds", 30)) * time_factor)
    allowed = {app: int(cluster.pdb(NAMESPACE, app)["status"].get("disruptionsAllowed", 0)) for app in on_node}
    app = max(on_node, key=lambda name: on_node[name] - allowed[name])
    waits = max(on_node[app] - allowed[app], 0)
    return waits * pod_ready_delay + grace, (
        f"{on_node[app]} pods of {app} - {allowed[app]} allowed at once = {waits} x {pod_ready_delay:g} s"
        f" + {grace:g} s grace"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--pod-ready-delay", type=float, default=1.0, help="of the lab it starts (seconds)")
    parser.add_argument("--state-dir", help="a running 4-node lab to use (default: start one)")
    options = parser.parse_args()
    tools = [t for t in options.tools.split(",") if t]
    assert set(tools) <= set(TOOLS), f"tools are {TOOLS}"
    subprocess.run(["make", "-s", "collection"], cwd=REPO, check=True)

    own_lab = options.state_dir is None
    state_dir = Path(options.state_dir or tempfile.mkdtemp(prefix="bench-drain-"))
    try:
        if own_lab:
            delay_flag = ["--pod-ready-delay", f"{options.pod_ready_delay:g}"]
            labctl(state_dir, "up", "--mode", "host", "--nodes", "4", *delay_flag, timeout=180)
        info = json.loads((state_dir / "lab.json").read_text())
        kubeconfig = str(state_dir / "admin.conf")
        cluster = Cluster(kubeconfig, pool=32)
        workers = [n for n in info["nodes"] if n not in info.get("control_plane_nodes", ["cp-1"])]
        delay = float(info.get("pod_ready_delay", 1.0))
        required = {app: replicas - 1 for app, replicas in BUDGETED.items()}
        print(f"lab: {len(info['nodes'])} nodes, pod-ready delay {delay:g} s, time factor {info.get('time_factor')}")
        if own_lab or not cluster.pods(NAMESPACE):
            for node in workers:
                cluster.set_unschedulable(node, node != TARGET)
            create_workload(cluster)
        times: dict[str, list[float]] = {t: [] for t in tools}
        module_durations: list[float] = []
        violations: dict[str, list[int]] = {t: [] for t in tools}
        failures: dict[str, int] = dict.fromkeys(tools, 0)
        limit = None
        for rep in range(1, options.reps + 1):
            order = tools[rep % len(tools) :] + tools[: rep % len(tools)]  # rotate: no tool always runs first
            for tool in order:
                reset(cluster, workers)
                limit, chain = bound(cluster, delay, float(info.get("time_factor", 0.05)))
                total = len(cluster.pods(NAMESPACE, node=TARGET))
                with BudgetWatcher(cluster, NAMESPACE, required, interval=0.1) as watcher:
                    wall, ok, details = run_tool(tool, kubeconfig, state_dir)
                broken = watcher.violations
                times[tool].append(wall)
                violations[tool].append(len(broken))
                failures[tool] += 0 if ok else 1
                if tool == "node_drain" and details.get("duration"):
                    module_durations.append(float(details["duration"]))
                extra = {k: v for k, v in details.items() if k in ("duration", "timings", "attempts", "evicted")}
                print(
                    f"rep {rep} {tool:10s} {wall:7.2f} s  pods on node {total}  ok={ok}  "
                    f"violations={len(broken)} {broken or ''} samples={watcher.samples} {extra}",
                    flush=True,
                )
                if not ok:
                    print(f"  error: {details.get('error') or details.get('msg')}", flush=True)
                cluster.set_unschedulable(TARGET, False)
        report(tools, times, module_durations, violations, failures, limit, chain)
        return 0
    finally:
        if own_lab:
            labctl(state_dir, "down", timeout=120)


def report(tools, times, module_durations, violations, failures, limit, chain) -> None:
    median = {t: statistics.median(v) for t, v in times.items() if v}
    print("\nmedian wall time (s): " + ", ".join(f"{t} {median[t]:.2f}" for t in tools if t in median))
    if module_durations:
        print(f"node_drain module's own duration (s): median {statistics.median(module_durations):.2f}")
    print(f"bound no drain can beat: {limit:.2f} s (longest budget chain: {chain})")
    print("PDB violations per run: " + ", ".join(f"{t} {violations[t]}" for t in tools))
    print("failed runs: " + ", ".join(f"{t} {failures[t]}" for t in tools))
    if "node_drain" not in median:
        return
    ours = median["node_drain"]
    lines = []
    if "kubectl" in median:
        ratio = ours / median["kubectl"]
        lines.append(f"node_drain / kubectl drain = {ratio:.2f}x (goal <= {GOALS['kubectl']}x)")
    ratio = ours / limit
    lines.append(f"node_drain / bound = {ratio:.2f}x wall, Ansible start-up included (goal <= {GOALS['bound']}x)")
    if module_durations:
        lines.append(f"node_drain module duration / bound = {statistics.median(module_durations) / limit:.2f}x")
    if "k8s_drain" in median:
        lines.append(f"k8s_drain / node_drain = {median['k8s_drain'] / ours:.2f}x (goal >= {GOALS['k8s_drain']}x)")
    zero = all(v == 0 for t in tools for v in violations[t] if t == "node_drain")
    lines.append(f"node_drain PDB violations: {'none' if zero else violations['node_drain']}")
    print("\n".join(lines))


if __name__ == "__main__":
    os.environ.pop("KUBECONFIG", None)
    sys.exit(main())
