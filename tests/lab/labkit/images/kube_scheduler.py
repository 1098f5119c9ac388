"""``kube-scheduler`` image: the lab's scheduler (labkit.scheduler) behind leader election."""

from __future__ import annotations

import sys

from labkit.images.control_loop import run
from labkit.scheduler import main as scheduler

KNOWN = {
    "authentication-kubeconfig", "authorization-kubeconfig", "bind-address", "kubeconfig", "leader-elect",
    "config", "feature-gates", "v", "secure-port", "profiling", "leader-elect-lease-duration",
    "leader-elect-renew-deadline", "leader-elect-retry-period",
}  # fmt: skip


def main(argv: list[str]) -> int:
    return run("kube-scheduler", "kube-scheduler", "scheduler", KNOWN, argv, scheduler)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
