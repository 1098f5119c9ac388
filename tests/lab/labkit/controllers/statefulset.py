"""StatefulSet controller: pods ``<name>-<ordinal>``, created in order (each waits for the previous to be
Running and Ready with the default OrderedReady policy), recreated under the same name when deleted or
evicted, removed from the highest ordinal down, rolled from the highest ordinal down."""

from __future__ import annotations

from typing import Any

from labkit import component
from labkit.controllers.deployment import template_hash
from labkit.controllers.manager import Manager, active
from labkit.controllers.replicaset import pod_from_template, replicas_of

REVISION_LABEL = "controller-revision-hash"


def ordinal(sts_name: str, pod_name: str) -> int | None:
    prefix, _, number = pod_name.rpartition("-")
    return int(number) if prefix == sts_name and number.isdigit() else None


def stateful_pod(sts: dict[str, Any], index: int, revision: str) -> dict[str, Any]:
    name = f"{sts['metadata']['name']}-{index}"
    pod = pod_from_template(sts, "StatefulSet", name, sts["spec"]["template"])
    pod["metadata"].pop("generateName")
    pod["metadata"]["labels"].update(
        {
            REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": str(index),
        }
    )
    pod["spec"]["hostname"] = name
    if sts["spec"].get("serviceName"):
        pod["spec"]["subdomain"] = sts["spec"]["serviceName"]
    return pod


def running_and_ready(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") == "Running" and component.is_pod_ready(pod)


def sync(mgr: Manager, key: str) -> None:
    sts = mgr.store("statefulsets").get(key)
    if sts is None or sts["metadata"].get("deletionTimestamp"):
        return
    name, namespace = sts["metadata"]["name"], sts["metadata"]["namespace"]
    revision = f"{name}-{template_hash(sts['spec']['template'])}"
    ordered = sts["spec"].get("podManagementPolicy", "OrderedReady") != "Parallel"
    replicas = replicas_of(sts)
    pods = owned_by_ordinal(mgr, sts)
    for owned in pods.values():
        if owned["status"].get("phase") in ("Succeeded", "Failed") and not owned["metadata"].get("deletionTimestamp"):
            mgr.delete_pod(owned)  # a failed stateful pod is deleted and recreated under its name
    for index in range(replicas):
        pod = pods.get(index)
        if pod is None:
            mgr.create_pod(namespace, stateful_pod(sts, index, revision))
            if ordered:
                break
        elif ordered and not (active(pod) and running_and_ready(pod)):
            break
    else:
        condemned = sorted((i for i in pods if i >= replicas), reverse=True)
        for index in condemned:
            if not pods[index]["metadata"].get("deletionTimestamp"):
                mgr.delete_pod(pods[index])
            if ordered:
                break
        if not condemned and (sts["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            healthy = all(active(p) and running_and_ready(p) for p in pods.values())
            for index in sorted(pods, reverse=True):
                if healthy and pods[index]["metadata"].get("labels", {}).get(REVISION_LABEL) != revision:
                    mgr.delete_pod(pods[index])
                    break
    current = [p for i, p in owned_by_ordinal(mgr, sts).items() if i < replicas and active(p)]
    ready = sum(1 for p in current if component.is_pod_ready(p))
    updated = sum(1 for p in current if p["metadata"].get("labels", {}).get(REVISION_LABEL) == revision)
    status = {
        "observedGeneration": sts["metadata"].get("generation", 1),
        "replicas": len(current),
        "readyReplicas": ready,
        "currentReplicas": updated,
        "updatedReplicas": updated,
        "availableReplicas": ready,
        "currentRevision": revision,
        "updateRevision": revision,
        "collisionCount": 0,
    }
    for field in ("readyReplicas", "currentReplicas", "updatedReplicas"):
        if not status[field]:
            status.pop(field)
    mgr.update_status("statefulsets", sts, status)


def owned_by_ordinal(mgr: Manager, sts: dict[str, Any]) -> dict[int, dict[str, Any]]:
    name = sts["metadata"]["name"]
    found = {}
    for pod in mgr.owned_pods(sts["metadata"]["uid"]):
        index = ordinal(name, pod["metadata"]["name"])
        if index is not None:
            found[index] = pod
    return found


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "statefulsets":
        mgr.enqueue("statefulset", f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
    elif resource == "pods":
        for pod in (obj, old):
            if not pod:
                continue
            ref = component.controller_of(pod)
            if ref and ref.get("kind") == "StatefulSet":
                mgr.enqueue("statefulset", f"{pod['metadata']['namespace']}/{ref['name']}")
