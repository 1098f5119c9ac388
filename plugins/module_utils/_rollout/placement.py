# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the scheduler could put a pod: taints and tolerations, nodeSelector, required node affinity, room.

The filters are kube-scheduler's (TaintToleration for NoSchedule/NoExecute, NodeAffinity, NodeResourcesFit on
requests against allocatable). Among the nodes that pass, the one with the fewest pods of the same budgets wins
(the default soft topology spreading of replicas over nodes), then LeastAllocated's choice (the most room left on
CPU and memory), then the node name, so that a plan is the same every time.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout.snapshot import Node, Pod

FILTERED_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
SCORED = ("cpu", "memory")


def tolerates(toleration: dict[str, Any], taint: dict[str, Any]) -> bool:
    """``v1.Toleration.ToleratesTaint``."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if toleration.get("operator") == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and (toleration.get("value") or "") == (taint.get("value") or "")


def _expression(expression: dict[str, Any], value: Optional[str]) -> bool:
    operator = expression.get("operator")
    values = [str(v) for v in expression.get("values") or ()]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            number, bound = int(value), int(values[0])
        except ValueError:
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


def _term(term: dict[str, Any], node: Node) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term selects no node
    if not all(_expression(e, node.labels.get(e.get("key", ""))) for e in expressions):
        return False
    return all(_expression(f, node.name if f.get("key") == "metadata.name" else None) for f in fields)


def may_run_on(pod: Pod, node: Node) -> bool:
    """Whether the scheduler's filters other than resources let ``pod`` onto ``node``."""
    if any(node.labels.get(key) != value for key, value in pod.node_selector.items()):
        return False
    if pod.affinity_terms is not None and not any(_term(term, node) for term in pod.affinity_terms):
        return False
    for taint in node.taints:
        if taint.get("effect") in FILTERED_EFFECTS and not any(tolerates(t, taint) for t in pod.tolerations):
            return False
    return True


class Room:
    """What every node has requested of it, as the plan moves pods around."""

    def __init__(self, nodes: dict[str, Node], pods: list[Pod]) -> None:
        self.nodes = nodes
        self.used: dict[str, dict[str, int]] = {name: {} for name in nodes}
        for pod in pods:
            if pod.node in self.used:
                self.add(pod.node, pod.requests)

    def add(self, node: str, requests: dict[str, int], sign: int = 1) -> None:
        used = self.used[node]
        for resource, amount in requests.items():
            used[resource] = used.get(resource, 0) + sign * amount

    def free(self, node: str, resource: str, extra: Optional[dict[str, int]] = None) -> int:
        taken = self.used[node].get(resource, 0) + ((extra or {}).get(resource, 0))
        return self.nodes[node].allocatable.get(resource, 0) - taken

    def fits(self, pod: Pod, node: str, extra: Optional[dict[str, int]] = None) -> bool:
        return all(self.free(node, r, extra) >= amount for r, amount in pod.requests.items() if amount > 0)

    def score(self, pod: Pod, node: str, extra: Optional[dict[str, int]] = None) -> float:
        """LeastAllocated: the mean share of CPU and memory left free once the pod is there."""
        shares = []
        for resource in SCORED:
            allocatable = self.nodes[node].allocatable.get(resource, 0)
            if allocatable > 0:
                left = self.free(node, resource, extra) - pod.requests.get(resource, 0)
                shares.append(left / allocatable)
        return sum(shares) / len(shares) if shares else 0.0

    def best(
        self, pod: Pod, targets: list[str], extra: dict[str, dict[str, int]], siblings: Callable[[str], int]
    ) -> Optional[str]:
        """The target the scheduler would most likely pick, or None when the pod fits nowhere.

        ``siblings(node)`` counts the pods on a node that share a budget with ``pod``.
        """
        chosen: Optional[str] = None
        chosen_rank = (0, 0.0)
        for name in targets:  # sorted: the first of equal ranks wins
            if not may_run_on(pod, self.nodes[name]) or not self.fits(pod, name, extra.get(name)):
                continue
            rank = (-siblings(name), self.score(pod, name, extra.get(name)))
            if chosen is None or rank > chosen_rank:
                chosen, chosen_rank = name, rank
        return chosen

    def shortfall(self, pod: Pod, targets: list[str], extra: dict[str, dict[str, int]]) -> str:
        """Why ``pod`` fits nowhere: the resources no eligible node has enough of, or ``placement``."""
        eligible = [name for name in targets if may_run_on(pod, self.nodes[name])]
        if not eligible:
            return "placement"
        short = [
            resource
            for resource, amount in sorted(pod.requests.items())
            if amount > 0 and max(self.free(name, resource, extra.get(name)) for name in eligible) < amount
        ]
        return "+".join(short) if short else "+".join(r for r in sorted(pod.requests) if pod.requests[r] > 0)
