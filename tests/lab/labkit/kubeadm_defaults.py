"""The versions kubeadm deploys with each Kubernetes minor (its constants), shared by the manifests,
the bootstrap and the simulated kubeadm."""

from __future__ import annotations

# 1.36 and 1.37: composed (no published kubeadm constants were at hand); they move etcd at 1.35 -> 1.36 and keep it at
# 1.36 -> 1.37, so the lab's upgrades meet both a changed and an unchanged etcd manifest.
COREDNS = {"1.31": "v1.11.3", "1.32": "v1.11.3", "1.33": "v1.12.0", "1.34": "v1.12.1", "1.35": "v1.12.1",
           "1.36": "v1.13.1", "1.37": "v1.13.1"}  # fmt: skip
ETCD = {"1.31": "3.5.15-0", "1.32": "3.5.16-0", "1.33": "3.5.21-0", "1.34": "3.6.4-0", "1.35": "3.6.5-0",
        "1.36": "3.6.6-0", "1.37": "3.6.6-0"}  # fmt: skip
PAUSE = "registry.k8s.io/pause:3.10"


def minor(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])
