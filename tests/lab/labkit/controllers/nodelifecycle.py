"""Node lifecycle controller: a node whose kubelet stopped renewing its Lease and posting status for longer
than the (time-scaled) node-monitor-grace-period gets its conditions set to Unknown and the
``node.kubernetes.io/unreachable`` taints; a NotReady node gets ``not-ready`` taints; a cordoned node the
``unschedulable`` taint (TaintNodesByCondition). Taints go when the condition does. Nodes annotated as
part of the scale fleet have no kubelet process and are left alone. Pods are not evicted from
unreachable nodes (real clusters do so after the pods' 300 s toleration)."""

from __future__ import annotations

import time
from typing import Any

from labkit import component
from labkit.controllers.manager import Manager
from labkit.kubeclient import path

GRACE = 40.0  # kube-controller-manager --node-monitor-grace-period
MONITOR_PERIOD = 5.0  # --node-monitor-period
MIN_GRACE = 3.0  # floor under the scaled grace so a busy machine does not flap nodes
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


def last_heartbeat(node: dict[str, Any], lease: dict[str, Any] | None) -> float:
    ready = component.condition(node, "Ready") or {}
    renewed = component.parse_time((lease or {}).get("spec", {}).get("renewTime"))
    return max(renewed, component.parse_time(ready.get("lastHeartbeatTime")))


def wanted_taints(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The node's taints with the condition taints this controller owns made to match its state."""
    ready = (component.condition(node, "Ready") or {}).get("status")
    owned = {UNREACHABLE: ready == "Unknown", NOT_READY: ready == "False"}
    taints = [t for t in node.get("spec", {}).get("taints") or [] if t.get("key") not in (*owned, UNSCHEDULABLE)]
    existing = {(t.get("key"), t.get("effect")): t for t in node.get("spec", {}).get("taints") or []}
    for key, present in owned.items():
        if present:
            for effect in ("NoSchedule", "NoExecute"):
                taint = existing.get((key, effect)) or {"key": key, "effect": effect}
                if effect == "NoExecute" and "timeAdded" not in taint:
                    taint = {**taint, "timeAdded": component.now()}
                taints.append(taint)
    if node.get("spec", {}).get("unschedulable"):
        taints.append(existing.get((UNSCHEDULABLE, "NoSchedule")) or {"key": UNSCHEDULABLE, "effect": "NoSchedule"})
    return taints


def unknown_conditions(node: dict[str, Any], now: str) -> list[dict[str, Any]]:
    conditions = []
    for cond in node.get("status", {}).get("conditions") or []:
        if cond.get("status") != "Unknown":
            cond = {
                **cond,
                "status": "Unknown",
                "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status.",
                "lastTransitionTime": now,
            }
        conditions.append(cond)
    return conditions


def sync(mgr: Manager, key: str) -> None:
    node = mgr.store("nodes").get(key)
    if node is None or (node["metadata"].get("annotations") or {}).get(component.FLEET_ANNOTATION) == "true":
        return
    name = node["metadata"]["name"]
    grace = max(GRACE * mgr.factor, MIN_GRACE)
    lease = mgr.get("leases", "kube-node-lease", name)
    ready = component.condition(node, "Ready")
    # like the real controller, time runs from when *this controller* saw the heartbeat change (its own
    # clock), and not across a gap in its view (a relist after an API server outage): an outage or a
    # controller restart does not make every node look dead
    heartbeat = last_heartbeat(node, lease)
    seen = mgr.node_health.get(name)
    if seen is None or seen[0] != heartbeat:
        seen = mgr.node_health[name] = (heartbeat, time.monotonic())
    leases_since, nodes_since = (mgr.informers[r].connected_since for r in ("leases", "nodes"))
    if leases_since is None or nodes_since is None:
        return  # cut off from the API server: no verdict on anybody
    silent = time.monotonic() - max(seen[1], leases_since, nodes_since)
    if ready and ready.get("status") != "Unknown" and silent > grace:
        mgr.log.info("node %s: no heartbeat seen for %.1fs, marking it Unknown", name, silent)
        status = {**node["status"], "conditions": unknown_conditions(node, component.now())}
        node = mgr.client.update(path("nodes", name=name, sub="status"), {**node, "status": status})
    taints = wanted_taints(node)
    if taints != (node.get("spec", {}).get("taints") or []):
        mgr.client.patch(path("nodes", name=name), {"spec": {"taints": taints or None}})


def monitor(mgr: Manager) -> None:
    for node in list(mgr.store("nodes").values()):
        if (node["metadata"].get("annotations") or {}).get(component.FLEET_ANNOTATION) != "true":
            mgr.enqueue("nodelifecycle", f"/{node['metadata']['name']}")


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    fleet = (obj["metadata"].get("annotations") or {}).get(component.FLEET_ANNOTATION) == "true"
    if resource == "nodes" and kind != "DELETED" and not fleet:
        mgr.enqueue("nodelifecycle", f"/{obj['metadata']['name']}")
