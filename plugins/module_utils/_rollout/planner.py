# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ordered batches of nodes that can be drained at the same time without waiting on each other.

The plan is a simulation of the rollout on a snapshot: each batch is filled from the candidates in one fixed order
(see ``order``), a node joining only when the batch still keeps every rule (``Batch.hold``); then the batch's
evicted pods are moved where the scheduler would put them and the next batch is filled against that state.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout.placement import Room
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout.snapshot import Pod, Snapshot

ZONE_LABEL = "topology.kubernetes.io/zone"


@dataclass
class Hold:
    """Why a node could not join a batch."""

    node: str
    reason: str  # max_batch | budget | zone | capacity
    by: str  # the limit, the budget (namespace/name), the zone, or the resources short (cpu, memory, pods, ...)
    message: str

    def report(self) -> dict[str, Any]:
        return {"node": self.node, "reason": self.reason, "by": self.by, "message": self.message}


def chain_steps(count: int, allowance: int) -> int:
    """Evictions of ``count`` pods behind one budget come in rounds of ``allowance``, each waiting for the
    replacements to be Ready; a budget at zero still lets one through once a pod recovers."""
    return math.ceil(count / max(allowance, 1)) if count > 0 else 0


class State:
    """The cluster as the simulated rollout goes: where pods run and what each node has requested of it."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.nodes = snapshot.nodes
        self.budgets = snapshot.budgets
        self.room = Room(snapshot.nodes, snapshot.pods)
        self.pods_on: dict[str, list[Pod]] = {name: [] for name in snapshot.nodes}
        for pod in snapshot.pods:
            if pod.node in self.pods_on:
                self.pods_on[pod.node].append(pod)
        self.counts: dict[str, dict[str, int]] = {name: self._count(name) for name in snapshot.nodes}

    def _count(self, node: str) -> dict[str, int]:
        """Budget -> healthy pods a drain of ``node`` evicts, each spending one disruption."""
        counts: dict[str, int] = {}
        for pod in self.pods_on[node]:
            if pod.evicted and pod.healthy:
                for budget in pod.budgets:
                    if budget in self.budgets:
                        counts[budget] = counts.get(budget, 0) + 1
        return counts

    def movers(self, node: str) -> list[Pod]:
        return [pod for pod in self.pods_on[node] if pod.evicted and pod.moves]

    def in_service(self, zone_label: str) -> dict[str, int]:
        """Zone -> nodes that take new pods (Ready, not cordoned)."""
        zones: dict[str, int] = {}
        for node in self.nodes.values():
            zone = node.labels.get(zone_label)
            if zone is not None and node.schedulable:
                zones[zone] = zones.get(zone, 0) + 1
        return zones

    def drain(self, members: list[str], placed: dict[str, tuple[Pod, str]]) -> None:
        """The batch is done: its evicted pods run where they were placed (Ready); pods without a controller are
        gone."""
        touched = set(members)
        for node in members:
            kept = []
            for pod in self.pods_on[node]:
                if not pod.evicted:
                    kept.append(pod)
                    continue
                self.room.add(node, pod.requests, -1)
                if pod.moves and pod.key in placed:  # else it fits nowhere: Pending, out of the simulation
                    target = placed[pod.key][1]
                    moved = dataclasses.replace(pod, node=target, healthy=True)
                    self.pods_on[target].append(moved)
                    self.room.add(target, pod.requests)
                    touched.add(target)
            self.pods_on[node] = kept
        for node in touched:
            self.counts[node] = self._count(node)


def _size(pod: Pod) -> tuple[int, int, str]:
    return (-pod.requests.get("cpu", 0), -pod.requests.get("memory", 0), pod.key)


class Batch:
    """One batch being filled, with the placement of its evicted pods on the nodes that stay in service."""

    def __init__(self, state: State, max_batch: Optional[int], zone_label: str, balance: Optional[int] = None) -> None:
        self.state = state
        self.max_batch = max_batch
        self.balance = balance
        self.zone_label = zone_label
        self.zones = state.in_service(zone_label)
        self.members: list[str] = []
        self.budget_pods: dict[str, int] = {}  # budget -> healthy pods the batch evicts
        self.budget_nodes: dict[str, list[str]] = {}  # budget -> members with such pods
        self.zone_members: dict[str, int] = {}
        self.placed: dict[str, tuple[Pod, str]] = {}
        self.extra: dict[str, dict[str, int]] = {}  # target -> requests this batch's pods take there
        self.extra_budgets: dict[str, dict[str, int]] = {}  # target -> budget -> this batch's pods placed there
        self.schedulable = sorted(name for name, node in state.nodes.items() if node.schedulable)
        self._last_unplaced = ""

    def hold(self, node: str) -> Optional[Hold]:
        """Why ``node`` cannot join, cheapest rule first; None when it can (and then it has joined)."""
        if self.max_batch is not None and len(self.members) >= self.max_batch:
            return Hold(node, "max_batch", str(self.max_batch), f"the batch has max_batch={self.max_batch} nodes")
        if self.balance is not None and len(self.members) >= self.balance:
            message = f"batches of {self.balance} nodes leave fewer batches in all than fuller first ones"
            return Hold(node, "balance", str(self.balance), message)
        for budget, count in sorted(self.state.counts[node].items()):
            others = self.budget_nodes.get(budget)
            allowance = self.state.budgets[budget].allowance
            if others and self.budget_pods[budget] + count > allowance:
                message = (
                    f"{budget} allows {allowance} disruption(s) at once: {self.budget_pods[budget]} of its pods on "
                    f"{', '.join(others)} and {count} on {node}"
                )
                return Hold(node, "budget", budget, message)
        zone = self.state.nodes[node].labels.get(self.zone_label)
        if zone is not None and self.state.nodes[node].schedulable:
            limit = max(1, self.zones.get(zone, 0) - 1)
            if self.zone_members.get(zone, 0) + 1 > limit:
                message = f"zone {zone} has {self.zones.get(zone, 0)} node(s) in service: {node} would take the last"
                return Hold(node, "zone", zone, message)
        capacity = self._place(node)
        if capacity is not None:
            return capacity
        self.members.append(node)
        for budget, count in self.state.counts[node].items():
            self.budget_pods[budget] = self.budget_pods.get(budget, 0) + count
            self.budget_nodes.setdefault(budget, []).append(node)
        if zone is not None and self.state.nodes[node].schedulable:
            self.zone_members[zone] = self.zone_members.get(zone, 0) + 1
        return None

    def alone(self, node: str) -> list[str]:
        """Take ``node`` into an empty batch although some of its pods fit nowhere (they would stay Pending, and no
        order of the rollout avoids that); the pods that fit are placed. Returns the pods left without a node."""
        unplaced: list[str] = []
        while self._place(node, skip=set(unplaced)) is not None:
            unplaced.append(self._last_unplaced)
        self.members.append(node)
        for budget, count in self.state.counts[node].items():
            self.budget_pods[budget] = self.budget_pods.get(budget, 0) + count
            self.budget_nodes.setdefault(budget, []).append(node)
        return sorted(unplaced)

    def _place(self, node: str, skip: Optional[set[str]] = None) -> Optional[Hold]:
        """Place the node's evicted pods, and the batch's pods placed on it so far, on the nodes left in service."""
        room = self.state.room
        targets = [name for name in self.schedulable if name != node and name not in self.members]
        displaced = [pod for pod, target in self.placed.values() if target == node]
        extra = {name: requests for name, requests in self.extra.items() if name != node}
        extra_budgets = {name: counts for name, counts in self.extra_budgets.items() if name != node}
        placed: dict[str, tuple[Pod, str]] = {}
        for pod in sorted(self.state.movers(node) + displaced, key=_size):
            if skip and pod.key in skip:
                continue

            def siblings(name: str, pod: Pod = pod) -> int:
                counts, more = self.state.counts[name], extra_budgets.get(name) or {}
                return sum(counts.get(budget, 0) + more.get(budget, 0) for budget in pod.budgets)

            target = room.best(pod, targets, extra, siblings)
            if target is None:
                short = room.shortfall(pod, targets, extra)
                where = "no node left in service may run it" if short == "placement" else f"short of {short}"
                message = f"with {node} drained too, {pod.key} fits nowhere: {where}"
                self._last_unplaced = pod.key
                return Hold(node, "capacity", short, message)
            taken = dict(extra.get(target) or {})
            for resource, amount in pod.requests.items():
                taken[resource] = taken.get(resource, 0) + amount
            extra[target] = taken
            if pod.budgets:
                spread = dict(extra_budgets.get(target) or {})
                for budget in pod.budgets:
                    spread[budget] = spread.get(budget, 0) + 1
                extra_budgets[target] = spread
            placed[pod.key] = (pod, target)
        self.extra = extra
        self.extra_budgets = extra_budgets
        self.placed.update(placed)
        return None

    def steps(self) -> int:
        """The longest budget chain of the batch, in rounds of replacements."""
        return max(
            (chain_steps(count, self.state.budgets[b].allowance) for b, count in self.budget_pods.items()), default=0
        )


def order(state: State, candidates: list[str]) -> list[str]:
    """The greedy order: most conflicting nodes first (Welsh and Powell's order for colouring a graph, which keeps
    the number of batches low), then the longest budget chain first (long drains share a batch instead of each
    lengthening one), then by name. Two nodes conflict when one budget has pods on both and together more than it
    allows."""
    conflicts: dict[str, set[str]] = {name: set() for name in candidates}
    holders: dict[str, list[tuple[str, int]]] = {}
    for name in candidates:
        for budget, count in state.counts[name].items():
            holders.setdefault(budget, []).append((name, count))
    for budget, held in holders.items():
        allowance = state.budgets[budget].allowance
        for index, (first, first_count) in enumerate(held):
            for second, second_count in held[index + 1 :]:
                if first_count + second_count > allowance:
                    conflicts[first].add(second)
                    conflicts[second].add(first)

    def chain(name: str) -> int:
        counts = state.counts[name].items()
        return max((chain_steps(count, state.budgets[b].allowance) for b, count in counts), default=0)

    return sorted(candidates, key=lambda name: (-len(conflicts[name]), -chain(name), name))


def excluded_reason(state: State, name: str) -> Optional[str]:
    node = state.nodes[name]
    if not node.ready:
        return "NotReady"
    if node.unschedulable and not node.cordoned_by:
        return "cordoned by an administrator"
    return None


def resolve_max_batch(value: Any, count: int) -> Optional[int]:
    """``max_batch`` as a number of nodes: a number, or a percentage of ``count`` rounded down (at least 1), the
    way Ansible's ``serial`` counts; None or 0 means no bound."""
    if value is None or value == "" or value == 0 or value == "0":
        return None
    text = str(value).strip()
    try:
        if text.endswith("%"):
            percent = float(text[:-1])
            if not 0 < percent <= 100:
                raise ValueError
            return max(1, int(count * percent / 100))
        number = int(text)
    except ValueError:
        raise InvalidInput(f"max_batch must be a number of nodes or a percentage such as 25%, got {value!r}") from None
    if number < 0:
        raise InvalidInput(f"max_batch must be a number of nodes or a percentage such as 25%, got {value!r}")
    return number or None


def plan(
    snapshot: Snapshot,
    candidates: list[str],
    max_batch: Optional[int] = None,
    zone_label: str = ZONE_LABEL,
    pod_ready_seconds: float = 30,
    node_seconds: float = 0,
) -> dict[str, Any]:
    """Batches, excluded nodes, the reason of every split, and the estimate (see the rollout_plan module).

    Filling each batch to the brim can leave the rest stacked on few nodes (the first batch's pods land there), so
    the fill is repeated with a few smaller bounds (one to three nodes fewer than the first batch had, a half, a
    third) and the plan with the fewest batches wins, then the shortest estimate, then the largest bound.
    """

    def fill(balance: Optional[int]) -> dict[str, Any]:
        return _fill(snapshot, candidates, max_batch, zone_label, pod_ready_seconds, node_seconds, balance)

    best = fill(None)
    first = len(best["batches"][0]) if best["batches"] else 0
    bounds = {first - 1, first - 2, first - 3, math.ceil(first / 2), math.ceil(first / 3)}
    for bound in sorted((b for b in bounds if 1 <= b < first), reverse=True):
        other = fill(bound)
        if (len(other["batches"]), other["estimate"]) < (len(best["batches"]), best["estimate"]):
            best = other
    return best


def _fill(
    snapshot: Snapshot,
    candidates: list[str],
    max_batch: Optional[int],
    zone_label: str,
    pod_ready_seconds: float,
    node_seconds: float,
    balance: Optional[int],
) -> dict[str, Any]:
    """One greedy plan: batch after batch, every waiting node in the greedy order that keeps the rules joins."""
    state = State(snapshot)
    excluded = {name: reason for name in sorted(set(candidates)) if (reason := excluded_reason(state, name))}
    waiting = order(state, [name for name in sorted(set(candidates)) if name not in excluded])
    involved = {budget for name in waiting for budget in state.counts[name]}
    budgets = {key: {**state.budgets[key].report(), "pods": {}} for key in sorted(involved)}
    for name in waiting:
        for budget, count in state.counts[name].items():
            budgets[budget]["pods"][name] = count
    batches: list[list[str]] = []
    splits: list[dict[str, Any]] = []
    estimates: list[float] = []
    unplaced: dict[str, list[str]] = {}
    while waiting:
        batch = Batch(state, max_batch, zone_label, balance)
        held: list[Hold] = []
        for name in waiting:
            hold = batch.hold(name)
            if hold is not None:
                held.append(hold)
        if not batch.members:  # every node alone has a pod that fits nowhere: the first goes alone all the same
            batch = Batch(state, max_batch, zone_label)
            unplaced[waiting[0]] = batch.alone(waiting[0])
            held = [hold for hold in held if hold.node != waiting[0]]
        batches.append(sorted(batch.members))
        estimates.append(round(batch.steps() * pod_ready_seconds + node_seconds, 1))
        if held:
            tally: dict[str, int] = {}
            for hold in held:
                tally[hold.reason] = tally.get(hold.reason, 0) + 1
            splits.append({"after": len(batches), **held[0].report(), "held": tally})
        state.drain(batch.members, batch.placed)
        waiting = [name for name in waiting if name not in batch.members]
    return {
        "batches": batches,
        "excluded": excluded,
        "splits": splits,
        "estimate": round(sum(estimates), 1),
        "batch_estimates": estimates,
        "budgets": budgets,
        "unplaced": unplaced,
    }
