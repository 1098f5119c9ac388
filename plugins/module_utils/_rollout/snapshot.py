# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the rollout planner knows of a cluster, from one paginated read: nodes, pods reduced to what a drain and
the scheduler need, and PodDisruptionBudgets with the disruptions each allows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import _Reader, summarize_node
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.pods import FINISHED_PHASES, is_mirror
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.selectors import Pdb, PdbIndex
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.api import PAGE_SIZE
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout.budgets import Budget, budget_from
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout.quantity import (
    node_allocatable,
    pod_requests,
)


@dataclass
class Node:
    name: str
    ready: bool
    unschedulable: bool
    cordoned_by: Optional[str]
    control_plane: bool
    labels: dict[str, str]
    taints: list[dict[str, Any]]
    allocatable: dict[str, int]

    @property
    def schedulable(self) -> bool:
        """Whether the scheduler places new pods here (Ready and not cordoned)."""
        return self.ready and not self.unschedulable


@dataclass
class Pod:
    key: str  # namespace/name
    node: str
    requests: dict[str, int]
    stays: bool = False  # a DaemonSet or mirror pod: a drain leaves it where it is
    moves: bool = True  # evicted and recreated elsewhere by its controller, so it needs room on another node
    healthy: bool = False  # Running and Ready, not terminating: an eviction spends one of its budgets' disruptions
    budgets: tuple[str, ...] = ()  # namespace/name of every budget that selects it
    tolerations: tuple[dict[str, Any], ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)
    affinity_terms: Optional[list[dict[str, Any]]] = None  # required nodeAffinity nodeSelectorTerms

    @property
    def evicted(self) -> bool:
        return not self.stays


@dataclass
class Snapshot:
    nodes: dict[str, Node]
    pods: list[Pod]
    budgets: dict[str, Budget]


def node_from(obj: dict[str, Any]) -> Node:
    name, facts = summarize_node(obj)
    metadata = obj.get("metadata") or {}
    return Node(
        name=name,
        ready=facts["ready"],
        unschedulable=facts["unschedulable"],
        cordoned_by=facts["cordoned_by"],
        control_plane=facts["control_plane"],
        labels=dict(metadata.get("labels") or {}),
        taints=facts["taints"],
        allocatable=node_allocatable(obj.get("status") or {}),
    )


def _controller_kind(metadata: dict[str, Any]) -> Optional[str]:
    for owner in metadata.get("ownerReferences") or ():
        if owner.get("controller"):
            return str(owner.get("kind") or "")
    return None


def _is_ready(status: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())


def pod_from(obj: dict[str, Any], pdbs: PdbIndex) -> Optional[Pod]:
    """The planner's view of a pod bound to a node, or None for pods that hold nothing (finished, terminating,
    not bound)."""
    metadata = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    node = spec.get("nodeName")
    if not node or metadata.get("deletionTimestamp") or status.get("phase") in FINISHED_PHASES:
        return None
    kind = _controller_kind(metadata)
    namespace = metadata.get("namespace", "")
    selecting = pdbs.matching(namespace, metadata.get("labels") or {})
    affinity = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms")
    return Pod(
        key=f"{namespace}/{metadata.get('name', '')}",
        node=node,
        requests=pod_requests(spec),
        stays=kind == "DaemonSet" or is_mirror(obj),
        moves=kind is not None and kind != "DaemonSet",
        healthy=status.get("phase") == "Running" and _is_ready(status),
        budgets=tuple(sorted(f"{pdb.namespace}/{pdb.name}" for pdb in selecting)),
        tolerations=tuple(spec.get("tolerations") or ()),
        node_selector=dict(spec.get("nodeSelector") or {}),
        affinity_terms=list(affinity) if affinity else None,
    )


def build(nodes: list[dict[str, Any]], pods: list[dict[str, Any]], pdbs: list[dict[str, Any]]) -> Snapshot:
    """A snapshot from plain JSON objects (as listed), for tests and for ``read``."""
    return _assemble((node_from(n) for n in nodes), pods, pdbs)


def _assemble(nodes: Any, pods: Any, pdbs: Any) -> Snapshot:
    node_map: dict[str, Node] = {}
    for node in nodes:
        node_map[node.name] = node
    raw_budgets: dict[str, dict[str, Any]] = {}
    for pdb in pdbs:
        metadata = pdb.get("metadata") or {}
        raw_budgets[f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"] = pdb  # a relisted page repeats
    index = PdbIndex(
        [
            Pdb(
                key.split("/", 1)[0],
                key.split("/", 1)[1],
                (obj.get("spec") or {}).get("selector"),
                int((obj.get("status") or {}).get("disruptionsAllowed") or 0),
            )
            for key, obj in sorted(raw_budgets.items())
        ]
    )
    seen: dict[str, Pod] = {}
    for obj in pods:
        pod = pod_from(obj, index)
        if pod is not None:
            seen[pod.key] = pod  # keyed: a list restarted after an expired continue token repeats pods
    pod_list = [seen[key] for key in sorted(seen)]
    selected: dict[str, int] = {}
    healthy: dict[str, int] = {}
    for pod in pod_list:
        for key in pod.budgets:
            selected[key] = selected.get(key, 0) + 1
            healthy[key] = healthy.get(key, 0) + int(pod.healthy)
    budgets = {
        key: budget_from(key, obj, selected.get(key, 0), healthy.get(key, 0))
        for key, obj in sorted(raw_budgets.items())
    }
    return Snapshot(nodes={name: node_map[name] for name in sorted(node_map)}, pods=pod_list, budgets=budgets)


def read(api_client: Any, timeout: float = 600, page_size: int = PAGE_SIZE) -> Snapshot:
    """One paginated read of nodes, every pod and every budget; pods are reduced page by page."""
    reader = _Reader(api_client, timeout=timeout, page_size=page_size)
    nodes = [node_from(obj) for obj in reader.nodes()]
    pdbs = list(reader.pdbs())
    return _assemble(nodes, reader.all_pods(), pdbs)
