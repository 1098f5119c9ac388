"""``labctl seed --profile``: create a profile and wait until its pods are Running and Ready.

``base`` is kube-system as kubeadm leaves it (labkit.bootstrap); ``apps`` and ``scale`` are workloads
(labkit.workloads); ``legacy-apis`` what a removed-API scan must find (labkit.legacy_apis)."""

from __future__ import annotations

import time
from typing import Any

from labkit import bootstrap, component, legacy_apis, workloads
from labkit.kubeclient import KubeClient, path


def pods_not_ready(client: KubeClient, namespaces: list[str]) -> list[str]:
    """Names of pods in these namespaces that are not Running and Ready (paginated read)."""
    waiting = []
    for namespace in namespaces:
        for page in client.list_pages(path("pods", namespace), limit=2000):
            for pod in page.get("items") or []:
                if not component.is_pod_ready(pod):
                    waiting.append(f"{namespace}/{pod['metadata']['name']}")
    return waiting


def run(lab, profile: str, timeout: float, nodes: int = 5000, pods: int = 50000) -> str:
    """Seed one profile and wait until its pods are Running and Ready."""
    info = lab.info
    client = lab.client(timeout=60)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"  {profile}: {message}", flush=True)

    if profile == "base":
        namespaces = bootstrap.base(client, info, lab.state_dir)
    elif profile == "apps":
        namespaces = workloads.apps(client)
    elif profile == "legacy-apis":
        namespaces = legacy_apis.legacy(client)
    else:
        namespaces = workloads.scale(lab, client, info, nodes, pods, log)
    deadline = started + timeout
    while profile == "scale" and time.monotonic() < started + timeout:  # cheap polls first
        pending = client.get(path("pods"), fieldSelector="status.phase=Pending", limit=1)["items"]
        if not pending:
            break
        time.sleep(2.0)
    while True:
        waiting = pods_not_ready(client, namespaces)
        expected = {"base": lambda: expected_base(client, info)}.get(profile, lambda: [])()
        if not waiting and not expected:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{profile}: not ready after {timeout:.0f}s: {(expected + waiting)[:10]}"
                f"{' ...' if len(waiting) > 10 else ''}"
            )
        time.sleep(0.2 if profile != "scale" else 3.0)
    count = sum(len(client.list_all(path("pods", ns), limit=5000)[0]) for ns in namespaces)
    return f"{count} pods Ready in {', '.join(namespaces)}"


def expected_base(client: KubeClient, info: dict[str, Any]) -> list[str]:
    """What ``base`` still lacks: the mirror pods and the DaemonSet/Deployment pods."""
    pods = {p["metadata"]["name"] for p in client.list_all(path("pods", "kube-system"))[0]}
    missing = [
        f"{c}-{n}"
        for n in info.get("control_plane_nodes", info["nodes"][:1])
        for c in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
        if f"{c}-{n}" not in pods
    ]
    coredns = client.get(path("deployments", "kube-system", "coredns"))
    if coredns.get("status", {}).get("availableReplicas", 0) < 2:
        missing.append("deployment/coredns")
    proxy = client.get(path("daemonsets", "kube-system", "kube-proxy"))
    if proxy.get("status", {}).get("numberReady", 0) < len(info["nodes"]) or not proxy.get("status", {}).get(
        "desiredNumberScheduled"
    ):
        missing.append("daemonset/kube-proxy")
    return missing
