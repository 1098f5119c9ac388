"""``python -m labkit.controllers --state-dir DIR``: the simulated kube-controller-manager."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import ModuleType
from typing import Callable

from labkit import component
from labkit.controllers import (
    daemonset,
    deployment,
    disruption,
    job,
    nodelifecycle,
    replicaset,
    statefulset,
    ttlafterfinished,
)
from labkit.controllers.manager import Manager

CONTROLLERS: dict[str, ModuleType] = {
    "replicaset": replicaset,
    "deployment": deployment,
    "daemonset": daemonset,
    "statefulset": statefulset,
    "disruption": disruption,
    "nodelifecycle": nodelifecycle,
    "job": job,
    "ttlafterfinished": ttlafterfinished,
}


def _watcher(mgr: Manager, module: ModuleType) -> Callable[[str, str, dict, dict | None], None]:
    """The manager's event callback for one controller module: its on_event(mgr, ...)."""
    return lambda resource, kind, obj, old: module.on_event(mgr, resource, kind, obj, old)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args()
    component.setup("controllers")
    mgr = Manager(component.client_for(args.state_dir, "controller-manager"), component.lab_info(args.state_dir))
    for name, module in CONTROLLERS.items():
        mgr.syncs[name] = module.sync
        mgr.watchers.append(_watcher(mgr, module))
    mgr.syncs["job-orphan"] = job.release_orphan
    period = max(nodelifecycle.MONITOR_PERIOD * mgr.factor, 0.25)
    mgr.run(periodic=[(period, nodelifecycle.monitor)])


if __name__ == "__main__":
    main()
