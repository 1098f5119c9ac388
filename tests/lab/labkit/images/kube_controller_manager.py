"""``kube-controller-manager`` image: the lab's controllers (labkit.controllers) behind leader election."""

from __future__ import annotations

import sys

from labkit.controllers.__main__ import main as controllers
from labkit.images.control_loop import run

KNOWN = {
    "allocate-node-cidrs", "authentication-kubeconfig", "authorization-kubeconfig", "bind-address", "client-ca-file",
    "cluster-cidr", "cluster-name", "cluster-signing-cert-file", "cluster-signing-key-file", "controllers",
    "kubeconfig", "leader-elect", "requestheader-client-ca-file", "root-ca-file", "service-account-private-key-file",
    "service-cluster-ip-range", "use-service-account-credentials", "node-cidr-mask-size", "feature-gates", "v",
    "secure-port", "profiling", "node-monitor-grace-period", "terminated-pod-gc-threshold",
    "concurrent-deployment-syncs",
    "leader-elect-lease-duration", "leader-elect-renew-deadline", "leader-elect-retry-period", "cloud-provider",
}  # fmt: skip


def main(argv: list[str]) -> int:
    return run("kube-controller-manager", "kube-controller-manager", "controller-manager", KNOWN, argv, controllers)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
