"""What the kube-controller-manager and kube-scheduler images share: flags, leader election, the lab's program."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable

from labkit import component
from labkit.images.flags import FlagError, parse_flags
from labkit.images.leader import LeaderElector
from labkit.images.runtime_env import fail, lab_settings, private_dir
from labkit.kubeclient import KubeClient


def run(
    component_name: str, lease: str, conf_name: str, known: set[str], argv: list[str], program: Callable[[], None]
) -> int:
    """Parse ``argv``, lay out the private state dir the lab's program reads (lab.json, <conf_name>.conf -> the
    ``--kubeconfig``), win the leader lease when ``--leader-elect`` (the default), then run ``program``."""
    try:
        flags = parse_flags(argv, known, component_name)
    except FlagError as exc:
        fail(str(exc))
    kubeconfig = flags.get("kubeconfig")
    if not kubeconfig:
        fail("--kubeconfig is required in the lab")
    settings = lab_settings()
    state = private_dir(component_name)
    (state / "lab.json").write_text(json.dumps(settings) + "\n")
    link = state / f"{conf_name}.conf"
    link.unlink(missing_ok=True)
    os.symlink(kubeconfig, link)
    component.setup(component_name)
    if flags.get("leader-elect", "true") != "false":
        elector = LeaderElector(KubeClient.from_kubeconfig(kubeconfig), lease, float(settings.get("time_factor", 0.05)))
        elector.acquire()
        elector.keep()
    sys.argv = [component_name, "--state-dir", str(state)]
    program()
    return 0
