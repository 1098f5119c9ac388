"""``python -m labkit.controllers --state-dir DIR``: the simulated kube-controller-manager."""

from __future__ import annotations

import argparse
from pathlib import Path

from labkit import component
from labkit.controllers import daemonset, deployment, disruption, nodelifecycle, replicaset, statefulset
from labkit.controllers.manager import Manager

CONTROLLERS = {
    "replicaset": replicaset,
    "deployment": deployment,
    "daemonset": daemonset,
    "statefulset": statefulset,
    "disruption": disruption,
    "nodelifecycle": nodelifecycle,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args()
    component.setup("controllers")
    mgr = Manager(component.client_for(args.state_dir, "controller-manager"), component.lab_info(args.state_dir))
    for name, module in CONTROLLERS.items():
        mgr.syncs[name] = module.sync
        mgr.watchers.append(lambda resource, kind, obj, old, m=module: m.on_event(mgr, resource, kind, obj, old))
    period = max(nodelifecycle.MONITOR_PERIOD * mgr.factor, 0.25)
    mgr.run(periodic=[(period, nodelifecycle.monitor)])


if __name__ == "__main__":
    main()
