"""DaemonSet controller: one pod on every node the template fits, placed by the scheduler (node affinity on
``metadata.name``), with the tolerations the real controller adds; rolling updates one node at a time."""

from __future__ import annotations

import copy
from typing import Any

from labkit import component
from labkit.controllers.deployment import scaled_value, template_hash
from labkit.controllers.manager import Manager, active, random_suffix
from labkit.controllers.replicaset import pod_from_template
from labkit.scheduler import matches_affinity, tolerates

REVISION_LABEL = "controller-revision-hash"


def daemon_tolerations(template_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """``util.AddOrUpdateDaemonPodTolerations``."""
    added = [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    ]
    if template_spec.get("hostNetwork"):
        added.append({"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"})
    existing = list(template_spec.get("tolerations") or [])
    keys = {(t.get("key"), t.get("effect")) for t in existing}
    return existing + [t for t in added if (t["key"], t["effect"]) not in keys]


def should_run(template_spec: dict[str, Any], node: dict[str, Any]) -> bool:
    """``NodeShouldRunDaemonPod``: selector/affinity fits and every NoSchedule/NoExecute taint is tolerated."""
    pod = {"spec": template_spec}
    if not matches_affinity(pod, node):
        return False
    tolerations = daemon_tolerations(template_spec)
    return all(
        tolerates(tolerations, taint)
        for taint in node.get("spec", {}).get("taints") or []
        if taint.get("effect") in ("NoSchedule", "NoExecute")
    )


def daemon_pod(ds: dict[str, Any], node_name: str, revision: str) -> dict[str, Any]:
    pod = pod_from_template(ds, "DaemonSet", f"{ds['metadata']['name']}-{random_suffix()}", ds["spec"]["template"])
    pod["metadata"]["labels"][REVISION_LABEL] = revision
    pod["metadata"]["labels"]["pod-template-generation"] = str(ds["metadata"].get("generation", 1))
    spec = pod["spec"]
    spec["tolerations"] = daemon_tolerations(spec)
    affinity = copy.deepcopy(spec.get("affinity") or {})
    affinity.setdefault("nodeAffinity", {})["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]
    }
    spec["affinity"] = affinity
    return pod


def sync(mgr: Manager, key: str) -> None:
    ds = mgr.store("daemonsets").get(key)
    if ds is None or ds["metadata"].get("deletionTimestamp"):
        return
    namespace, spec = ds["metadata"]["namespace"], ds["spec"]["template"].get("spec") or {}
    revision = template_hash(ds["spec"]["template"])
    nodes = {n["metadata"]["name"]: n for n in mgr.store("nodes").values()}
    eligible = {name for name, node in nodes.items() if should_run(spec, node)}
    pods = [p for p in mgr.owned_pods(ds["metadata"]["uid"]) if active(p)]
    by_node: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        node = pod["spec"].get("nodeName") or pod["spec"].get("targetNode") or ""
        by_node.setdefault(node, []).append(pod)
    for node in sorted(eligible - set(by_node)):
        mgr.create_pod(namespace, daemon_pod(ds, node, revision))
    for node, node_pods in by_node.items():
        node_pods.sort(key=lambda p: p["metadata"].get("creationTimestamp", ""))
        excess = node_pods if node not in eligible else node_pods[1:]
        for pod in excess:
            mgr.delete_pod(pod)
    # rolling update: replace one outdated pod while the rest is available (maxUnavailable 1 by default)
    current = {n: ps[0] for n, ps in by_node.items() if n in eligible and ps}
    rolling = (ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
    max_unavailable = max(1, scaled_value(rolling.get("maxUnavailable", 1), len(eligible), True))
    strategy = (ds["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
    unavailable = len(eligible) - sum(1 for p in current.values() if component.is_pod_ready(p))
    if strategy == "RollingUpdate":
        for pod in current.values():
            if unavailable >= max_unavailable:
                break
            if pod["metadata"].get("labels", {}).get(REVISION_LABEL) != revision and component.is_pod_ready(pod):
                mgr.delete_pod(pod)
                unavailable += 1
    ready = sum(1 for p in current.values() if component.is_pod_ready(p))
    status = {
        "currentNumberScheduled": sum(1 for n in by_node if n in eligible),
        "numberMisscheduled": sum(1 for n in by_node if n not in eligible),
        "desiredNumberScheduled": len(eligible),
        "numberReady": ready,
        "observedGeneration": ds["metadata"].get("generation", 1),
        "updatedNumberScheduled": sum(
            1 for p in current.values() if p["metadata"].get("labels", {}).get(REVISION_LABEL) == revision
        ),
        "numberAvailable": ready,
        "numberUnavailable": len(eligible) - ready,
    }
    for field in ("numberAvailable", "numberUnavailable", "updatedNumberScheduled"):
        if not status[field]:
            status.pop(field)
    mgr.update_status("daemonsets", ds, status)


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "daemonsets":
        mgr.enqueue("daemonset", f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
    elif resource == "nodes":
        relevant = (
            old is None
            or kind == "DELETED"
            or (
                (obj.get("spec") or {}) != (old.get("spec") or {})
                or obj["metadata"].get("labels") != old["metadata"].get("labels")
            )
        )
        if relevant:
            for ds in mgr.store("daemonsets").values():
                mgr.enqueue("daemonset", f"{ds['metadata']['namespace']}/{ds['metadata']['name']}", after=0.05)
    elif resource == "pods":
        for pod in (obj, old):
            if not pod:
                continue
            ref = component.controller_of(pod)
            if ref and ref.get("kind") == "DaemonSet":
                mgr.enqueue("daemonset", f"{pod['metadata']['namespace']}/{ref['name']}")
