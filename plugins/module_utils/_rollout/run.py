# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout_plan module's options and logic: read the cluster once, plan, report."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import api_client as connect
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._options import argspec, check_seconds, spec
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout import planner, snapshot


@dataclass
class PlanOptions:
    nodes: Optional[list[str]] = field(default=None, metadata=spec(type="list", elements="str"))
    max_batch: Optional[Any] = field(default=None, metadata=spec(type="raw"))
    zone_label: str = field(default=planner.ZONE_LABEL, metadata=spec(type="str"))
    pod_ready_seconds: float = field(default=30.0, metadata=spec(type="float"))
    node_seconds: float = field(default=0.0, metadata=spec(type="float"))
    timeout: int = field(default=600, metadata=spec(type="int"))


PLAN_ARGSPEC = argspec(PlanOptions)


def candidates(cluster: snapshot.Snapshot, nodes: Optional[list[str]]) -> list[str]:
    """The nodes to plan: those named (each must exist), or every node without the control-plane role."""
    if nodes is None:
        return [name for name, node in cluster.nodes.items() if not node.control_plane]
    missing = sorted(set(nodes) - set(cluster.nodes))
    if missing:
        raise InvalidInput(f"nodes not found in the cluster: {', '.join(missing)}", missing=missing)
    return sorted(set(nodes))


def run(params: dict[str, Any], api_client: Any = None) -> dict[str, Any]:
    started = time.monotonic()
    check_seconds("pod_ready_seconds", params.get("pod_ready_seconds", 30.0), allow_zero=True)
    check_seconds("node_seconds", params.get("node_seconds", 0.0), allow_zero=True)
    check_seconds("timeout", params.get("timeout", 600))
    if not (params.get("zone_label") or "").strip():
        raise InvalidInput("zone_label must be a label key such as topology.kubernetes.io/zone")
    planner.resolve_max_batch(params.get("max_batch"), 1)  # a malformed value fails before the read
    cluster = snapshot.read(api_client or connect(params), timeout=params.get("timeout", 600))
    names = candidates(cluster, params.get("nodes"))
    result = planner.plan(
        cluster,
        names,
        max_batch=planner.resolve_max_batch(params.get("max_batch"), len(names)),
        zone_label=params["zone_label"],
        pod_ready_seconds=params.get("pod_ready_seconds", 30.0),
        node_seconds=params.get("node_seconds", 0.0),
    )
    result["changed"] = False
    result["duration"] = round(time.monotonic() - started, 3)
    return result
