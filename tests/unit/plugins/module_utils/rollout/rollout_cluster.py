"""Clusters for the planner's tests: the recorded lab cluster (fixtures/cluster_info/rollout) and small made ones.

The recording: a host-mode lab of cp-1 and six workers, the ``base`` and ``apps`` profiles (five budgets that allow
one disruption each, a StatefulSet, pods with emptyDir, a bare pod), and namespace ``shop`` - ``front`` (six pods of
250m/256Mi behind a budget of maxUnavailable 50%) and ``report`` (two pods with an init container of 2 CPU, a
sidecar and 1 CPU/1Gi, no budget). Zones: worker-1/2 zone-a, worker-3/4 zone-b, worker-5/6 zone-c.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.cluster.cluster_info_fake import load_list

SCENARIO = "rollout"
WORKERS = [f"worker-{n}" for n in range(1, 7)]


def recorded() -> dict[str, list[dict[str, Any]]]:
    """Deep copies of the recorded nodes, pods and budgets, for a test to change."""
    lists = {
        "nodes": load_list(SCENARIO, "api_v1_nodes"),
        "pods": load_list(SCENARIO, "api_v1_pods"),
        "pdbs": load_list(SCENARIO, "apis_policy_v1_poddisruptionbudgets"),
    }
    return {key: copy.deepcopy(value or []) for key, value in lists.items()}


def node_of(lists: dict[str, list[dict[str, Any]]], name: str) -> dict[str, Any]:
    return next(n for n in lists["nodes"] if n["metadata"]["name"] == name)


def make_node(
    name: str,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    zone: Optional[str] = None,
    ready: bool = True,
    unschedulable: bool = False,
    control_plane: bool = False,
) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name}
    if zone:
        labels["topology.kubernetes.io/zone"] = zone
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def make_pod(
    name: str,
    node: str,
    app: str,
    cpu: str = "100m",
    memory: str = "64Mi",
    namespace: str = "ns",
    kind: Optional[str] = "ReplicaSet",
    ready: bool = True,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"app": app}}
    if kind:
        metadata["ownerReferences"] = [{"kind": kind, "name": app, "controller": True}]
    return {
        "metadata": metadata,
        "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}],
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def make_pdb(
    name: str,
    app: str,
    allowed: int,
    namespace: str = "ns",
    max_unavailable: Any = None,
    min_available: Any = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": app}}}
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    if min_available is not None:
        spec["minAvailable"] = min_available
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec, "status": {"disruptionsAllowed": allowed}}
