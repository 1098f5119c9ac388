#!/usr/bin/env python3
"""Benchmark: cluster_info vs ``kubectl get nodes -o json`` + ``kubectl get pods -A -o json`` on one lab.

Starts its own lab (host mode, 1 node) in a temporary state dir, seeds ``base`` (kube-system, so kube-proxy
pods exist) and ``scale`` (5,000 nodes, 50,000 pods), then, against that same API server, each repetition times:

- kubectl: the real kubectl (``.venv/bin/kubectl``, default ``--chunk-size 500``) listing nodes, then all pods;
- module: the cluster_info module run as Ansible runs it (``python -m`` the module with an args file),
  its peak RSS taken from ``wait4`` by a small launcher that forks it (a child forked from this process would
  inherit this process's high-water mark across exec, and this process holds kubectl's JSON);
- ansible: ``ansible localhost -m cluster_ops.kubeadm.cluster_info`` end to end (Ansible's start-up included);
- gather: the module_utils ``gather()`` in this process (no interpreter start, no JSON output).

Prints the medians, the ratios to kubectl and the module's peak memory. Goals: module <= 1.5x kubectl's time,
<= 200 MB peak. ``--state-dir DIR`` reuses a running, seeded lab instead (no up/seed/down).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
LABCTL = REPO / "tests" / "lab" / "labctl"
COLLECTIONS = REPO / ".build" / "collections"
MODULE = "ansible_collections.cluster_ops.kubeadm.plugins.modules.cluster_info"
TIME_GOAL = 1.5
MEMORY_GOAL_MB = 200


def env() -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        PYTHONPATH=str(COLLECTIONS),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_PYTHON_INTERPRETER=str(PYTHON),
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    )
    environment.pop("KUBECONFIG", None)
    return environment


# Forks and execs its arguments after the first, waits, and writes the child's peak RSS (kB) to the file
# descriptor the first names.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
os.write(int(sys.argv[1]), str(usage.ru_maxrss).encode())
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(command: list[str], out: Path) -> tuple[float, float]:
    """Run ``command`` with stdout to ``out``: (wall seconds, peak RSS in MB of that process)."""
    read_end, write_end = os.pipe()
    with open(out, "wb") as stdout, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(PYTHON), "-c", LAUNCHER, str(write_end), *command],
            stdout=stdout,
            stderr=stderr,
            env=env(),
            cwd=REPO,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        proc.wait()
        elapsed = time.perf_counter() - started
        with os.fdopen(read_end, "rb") as report:
            peak_kb = int(report.read() or 0)
        if proc.returncode:
            stderr.seek(0)
            raise SystemExit(f"{command[0]} failed ({proc.returncode}): {stderr.read().decode()[-2000:]}")
    return elapsed, peak_kb / 1024


def labctl(*args: str) -> None:
    started = time.perf_counter()
    subprocess.run([str(LABCTL), *args], check=True, cwd=REPO, env=env())
    print(f"labctl {' '.join(args[:3])}: {time.perf_counter() - started:.1f}s", flush=True)


def kubectl_items(path: Path) -> int:
    """Items in ``kubectl get -o json`` output (kubectl indents each item of the List by 8 spaces)."""
    with open(path) as listing:
        return sum(1 for line in listing if line == "        {\n")


def module_result(path: Path) -> dict:
    return json.loads(path.read_text())


def ansible_result(path: Path) -> dict:
    return json.loads(path.read_text())["plays"][0]["tasks"][0]["hosts"]["localhost"]


def in_process_gather(kubeconfig: str) -> tuple[float, dict]:
    sys.path.insert(0, str(COLLECTIONS))
    from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import gather
    from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import api_client

    started = time.perf_counter()
    result = gather(api_client({"kubeconfig": kubeconfig, "validate_certs": True}))
    return time.perf_counter() - started, result


def wait_until_settled(kubeconfig: str, timeout: float = 600.0) -> int:
    """Wait until the number of pods holds still for 10 s (controllers replace what an earlier benchmark evicted),
    so that every reader of a repetition sees the same cluster; that number."""
    sys.path.insert(0, str(COLLECTIONS))
    from kubernetes import client

    from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import api_client

    core = client.CoreV1Api(api_client({"kubeconfig": kubeconfig, "validate_certs": True}))
    deadline, last = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        pages = core.list_pod_for_all_namespaces(limit=5000, _preload_content=False).json()
        count = len(pages["items"])
        while pages["metadata"].get("continue"):
            pages = core.list_pod_for_all_namespaces(
                limit=5000, _continue=pages["metadata"]["continue"], _preload_content=False
            ).json()
            count += len(pages["items"])
        if count == last:
            return count
        last = count
        time.sleep(10)
    raise SystemExit(f"the pods did not settle within {timeout:.0f}s (last count {last})")


def bench(state_dir: Path, repetitions: int, work: Path) -> bool:
    kubeconfig = str(state_dir / "admin.conf")
    print(f"pods settled at {wait_until_settled(kubeconfig)}", flush=True)
    kubectl = [str(VENV_BIN / "kubectl"), "--kubeconfig", kubeconfig, "get"]
    args_file = work / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"kubeconfig": kubeconfig}}))
    ansible = [str(VENV_BIN / "ansible"), "localhost", "-m", "cluster_ops.kubeadm.cluster_info"]
    ansible += ["-a", json.dumps({"kubeconfig": kubeconfig})]

    times: dict[str, list[float]] = {"kubectl": [], "module": [], "ansible": [], "gather": []}
    module_mb: list[float] = []
    kubectl_mb: list[float] = []
    for repetition in range(1, repetitions + 1):
        nodes_s, nodes_mb = measured([*kubectl, "nodes", "-o", "json"], work / "nodes.json")
        pods_s, pods_mb = measured([*kubectl, "pods", "-A", "-o", "json"], work / "pods.json")
        times["kubectl"].append(nodes_s + pods_s)
        kubectl_mb.append(max(nodes_mb, pods_mb))
        module_s, peak_mb = measured([str(PYTHON), "-m", MODULE, str(args_file)], work / "module.json")
        times["module"].append(module_s)
        module_mb.append(peak_mb)
        ansible_s, _ = measured(ansible, work / "ansible.json")
        times["ansible"].append(ansible_s)
        gather_s, gathered = in_process_gather(kubeconfig)
        times["gather"].append(gather_s)

        # Every run must have read the same cluster kubectl saw.
        node_count, pod_count = kubectl_items(work / "nodes.json"), kubectl_items(work / "pods.json")
        for name, result in (
            ("module", module_result(work / "module.json")),
            ("ansible", ansible_result(work / "ansible.json")),
            ("gather", gathered),
        ):
            counts = result.get("counts") or {}
            if result.get("failed") or (counts.get("nodes"), counts.get("pods")) != (node_count, pod_count):
                raise SystemExit(f"{name} disagrees with kubectl ({node_count} nodes, {pod_count} pods): {counts}")
        print(
            f"rep {repetition}: {node_count} nodes, {pod_count} pods | kubectl {nodes_s:.2f}+{pods_s:.2f}s "
            f"({max(nodes_mb, pods_mb):.0f} MB) | module {module_s:.2f}s ({peak_mb:.0f} MB) | "
            f"ansible {ansible_s:.2f}s | gather {gather_s:.2f}s (module says {gathered['duration']:.2f}s)",
            flush=True,
        )

    medians = {name: statistics.median(values) for name, values in times.items()}
    peak = max(module_mb)
    ratio = medians["module"] / medians["kubectl"]
    print(f"\nmedians over {repetitions} repetitions:")
    print(f"  kubectl get nodes + get pods -A:      {medians['kubectl']:.2f}s (peak {max(kubectl_mb):.0f} MB)")
    for name, label in (
        ("module", "cluster_info module (python -m)"),
        ("ansible", "ansible localhost -m cluster_info"),
        ("gather", "gather() in-process"),
    ):
        print(f"  {label + ':':<38}{medians[name]:.2f}s  ratio {medians[name] / medians['kubectl']:.2f}x")
    print(f"  cluster_info module peak memory:     {peak:.0f} MB")
    ok = ratio <= TIME_GOAL and peak <= MEMORY_GOAL_MB
    verdict = "PASS" if ok else "FAIL"
    print(
        f"{verdict}: module/kubectl time ratio {ratio:.2f}x (goal <= {TIME_GOAL}x), peak {peak:.0f} MB "
        f"(goal <= {MEMORY_GOAL_MB} MB)"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--state-dir", type=Path, help="a running lab seeded with --profile scale (kept as is)")
    parser.add_argument("--profile", default="scale", help="seed profile for the lab this script starts")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-facts-") as tmp:
        work = Path(tmp)
        if options.state_dir:
            return 0 if bench(options.state_dir.resolve(), options.repetitions, work) else 1
        if not LABCTL.exists():
            print(f"{LABCTL} does not exist: the lab is needed for this benchmark", file=sys.stderr)
            return 2
        state_dir = work / "lab"
        try:
            labctl("up", "--mode", "host", "--nodes", "1", "--state-dir", str(state_dir))
            labctl("seed", "--profile", "base", "--state-dir", str(state_dir))  # kube-system as kubeadm leaves it
            labctl("seed", "--profile", options.profile, "--timeout", "1800", "--state-dir", str(state_dir))
            return 0 if bench(state_dir, options.repetitions, work) else 1
        finally:
            subprocess.run([str(LABCTL), "down", "--state-dir", str(state_dir)], cwd=REPO, check=False)


if __name__ == "__main__":
    sys.exit(main())
