#!/usr/bin/env python3
"""Benchmark: api_removals vs ``kubectl get <the same kinds> -A -o json`` on the scale lab.

Needs a running lab seeded with ``scale`` (5,000 nodes, 50,000 pods; ``make bench-scale`` brings one up at
v1.21.0 so that the path to v1.26 crosses the removals of 1.22, 1.25 and 1.26). Each repetition times:

- module: ``ansible localhost -m cluster_ops.kubeadm.api_removals`` end to end (Ansible's start-up included),
  scanning the last-applied annotations, the Helm release secrets and the metric;
- kubectl: the real kubectl listing, as JSON, every kind the module listed (its ``sources.last_applied.kinds``)
  plus the Helm release secrets.

Prints the medians and their ratio. The pods, the bulk of the scale seed, are never read by the scan: no hop
removes a pod API.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests")]

from ansible_run import run_module  # noqa: E402

KUBECTL = REPO / ".venv" / "bin" / "kubectl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", required=True, help="a running lab seeded with the scale profile")
    parser.add_argument("--target", default="1.26")
    parser.add_argument("--reps", type=int, default=3)
    options = parser.parse_args()
    kubeconfig = str(Path(options.state_dir) / "admin.conf")
    module_times, kubectl_times = [], []
    result: dict = {}
    for rep in range(1, options.reps + 1):
        started = time.perf_counter()
        result = run_module("api_removals", {"kubeconfig": kubeconfig, "target_version": options.target})
        module_times.append(time.perf_counter() - started)
        assert not result.get("failed"), result
        # "Ingress (networking.k8s.io/v1)": each kind listed, at the version the API server serves it
        kinds = [entry.rstrip(")").split(" (") for entry in result["sources"]["last_applied"].get("kinds") or []]
        resources = [f"{kind}.{version.split('/')[0]}" if "/" in version else kind for kind, version in kinds]
        started = time.perf_counter()
        listed = 0
        for resource in [*resources, "secrets"]:
            selector = ["-l", "owner=helm"] if resource == "secrets" else []
            out = subprocess.run(
                [str(KUBECTL), "--kubeconfig", kubeconfig, "get", resource, "-A", *selector, "-o", "json"],
                capture_output=True,
                text=True,
                check=False,
            )
            listed += len(json.loads(out.stdout or '{"items": []}').get("items") or [])
        kubectl_times.append(time.perf_counter() - started)
        print(
            f"rep {rep}: module {module_times[-1]:.2f} s ({result['sources']['last_applied'].get('scanned')} objects,"
            f" {result['counts']['total']} findings), kubectl {kubectl_times[-1]:.2f} s ({listed} objects,"
            f" {len(resources) + 1} lists)",
            flush=True,
        )
    module, kubectl = statistics.median(module_times), statistics.median(kubectl_times)
    print(f"\nkinds scanned: {result['sources']['last_applied'].get('kinds')}")
    ratio = module / kubectl
    print(f"median: api_removals {module:.2f} s, kubectl {kubectl:.2f} s; api_removals / kubectl = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
