"""The versions kubeadm deploys with each Kubernetes minor (its constants), shared by the manifests,
the bootstrap and the simulated kubeadm."""

from __future__ import annotations

COREDNS = {"1.31": "v1.11.3", "1.32": "v1.11.3", "1.33": "v1.12.0", "1.34": "v1.12.1", "1.35": "v1.12.1"}
ETCD = {"1.31": "3.5.15-0", "1.32": "3.5.16-0", "1.33": "3.5.21-0", "1.34": "3.6.4-0", "1.35": "3.6.5-0"}
PAUSE = "registry.k8s.io/pause:3.10"


def minor(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])
