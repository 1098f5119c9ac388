#!/usr/bin/env python3
"""Benchmark: the lab's API server under the load the modules put on it (the numbers docs/lab.md reports).

Starts a lab (host mode, 3 nodes) in a temporary state dir, seeds ``base`` and ``scale`` (5,000 nodes,
50,000 pods), then measures against that API server:

- a full paginated list (limit 500) of the nodes and of all pods: with the official Python client
  (typed call, raw JSON, as the modules read) and with the real kubectl (``get nodes`` / ``get pods -A``,
  default ``--chunk-size 500``);
- evictions per second with 50 concurrent clients (each its own TLS connection) on pods without a budget;
- the API server's resident memory (now and peak).

Goal: the 5,000-node list in under 2 s. ``--state-dir DIR`` reuses a running, seeded lab (no up/seed/down);
``--nodes``/``--pods`` change the scale profile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABCTL = REPO / "tests" / "lab" / "labctl"
KUBECTL = REPO / ".venv" / "bin" / "kubectl"
sys.path.insert(0, str(REPO / "tests" / "lab"))

from labkit.kubeclient import ApiError, KubeClient, path  # noqa: E402

NODE_LIST_GOAL = 2.0
CLIENTS = 50


def labctl(state_dir: Path, *args: str) -> str:
    result = subprocess.run([str(LABCTL), *args, "--state-dir", str(state_dir)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"labctl {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def median_time(action, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def official_list(kubeconfig: str, resource: str) -> int:
    """Every item of a paginated list through the official client, as the modules read (raw JSON pages)."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(kubeconfig, client_configuration=configuration)
    core = client.CoreV1Api(client.ApiClient(configuration))
    call = core.list_node if resource == "nodes" else core.list_pod_for_all_namespaces
    count, token = 0, None
    while True:
        page = json.loads(call(limit=500, _continue=token, _preload_content=False).data)
        count += len(page["items"])
        token = page["metadata"].get("continue")
        if not token:
            return count


def kubectl_list(kubeconfig: str, *args: str) -> int:
    out = subprocess.run([str(KUBECTL), "--kubeconfig", kubeconfig, "get", *args, "--no-headers"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return len(out.splitlines())


def evictions_per_second(kubeconfig: str, namespace: str, count: int) -> tuple[float, int, int]:
    """Evict ``count`` pods of ``namespace`` with CLIENTS threads: (evictions/s, evicted, refused)."""
    api = KubeClient.from_kubeconfig(kubeconfig, timeout=60)
    victims = []
    for page in api.list_pages(path("pods", namespace), limit=500):
        victims += [p["metadata"]["name"] for p in page["items"] if not p["metadata"].get("deletionTimestamp")]
        if len(victims) >= count:
            break
    victims = victims[:count]

    def evict(name: str) -> bool:
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
        try:
            api.create(path("pods", namespace, name, "eviction"), body)
            return True
        except ApiError:
            return False

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda _: api.get("/version"), range(CLIENTS)))  # open the 50 connections first
        started = time.perf_counter()
        results = list(pool.map(evict, victims))
        elapsed = time.perf_counter() - started
    return sum(results) / elapsed, sum(results), len(results) - sum(results)


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, help="a running lab already seeded with scale")
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=50000)
    parser.add_argument("--evictions", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    own = args.state_dir is None
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="bench-lab-"))
    try:
        if own:
            started = time.perf_counter()
            labctl(state_dir, "up", "--mode", "host", "--nodes", "3")
            print(f"lab up: {time.perf_counter() - started:.1f}s")
            labctl(state_dir, "seed", "--profile", "base")
            started = time.perf_counter()
            out = labctl(state_dir, "seed", "--profile", "scale", "--nodes", str(args.nodes), "--pods",
                         str(args.pods), "--timeout", "1800")  # fmt: skip
            print(f"seed scale ({args.nodes} nodes, {args.pods} pods): {time.perf_counter() - started:.1f}s")
            print("  " + out.strip().replace("\n", "\n  "))
        info = json.loads((state_dir / "lab.json").read_text())
        kubeconfig = str(state_dir / "admin.conf")
        results = {}
        for what, action in [
            ("nodes, Python client", lambda: official_list(kubeconfig, "nodes")),
            ("nodes, kubectl", lambda: kubectl_list(kubeconfig, "nodes")),
            ("pods -A, Python client", lambda: official_list(kubeconfig, "pods")),
            ("pods -A, kubectl", lambda: kubectl_list(kubeconfig, "pods", "-A")),
        ]:
            seconds, count = median_time(action, args.repeat)
            results[what] = seconds
            print(f"list {what:<24} {count:>6} items  {seconds:6.2f}s (median of {args.repeat})")
        rate, evicted, refused = evictions_per_second(kubeconfig, "scale", args.evictions)
        print(f"evictions, {CLIENTS} clients: {rate:.0f}/s ({evicted} evicted, {refused} refused)")
        rss, peak = rss_mb(info["pids"]["apiserver"])
        print(f"API server memory: {rss:.0f} MB resident, {peak:.0f} MB peak")
        node_list = results["nodes, Python client"]
        verdict = "PASS" if node_list < NODE_LIST_GOAL else "FAIL"
        print(f"goal: {args.nodes}-node list < {NODE_LIST_GOAL:.1f}s: {node_list:.2f}s "
              f"(ratio {node_list / NODE_LIST_GOAL:.2f} of the goal) {verdict}")  # fmt: skip
        return 0 if verdict == "PASS" else 1
    finally:
        if own:
            labctl(state_dir, "down")


if __name__ == "__main__":
    sys.exit(main())
