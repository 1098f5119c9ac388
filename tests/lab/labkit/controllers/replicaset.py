"""ReplicaSet controller: keep ``spec.replicas`` active pods from the template, report the counts."""

from __future__ import annotations

import copy
from typing import Any

from labkit import component
from labkit.controllers.manager import Manager, active, random_suffix


def pod_from_template(owner: dict[str, Any], kind: str, name: str, template: dict[str, Any]) -> dict[str, Any]:
    meta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{owner['metadata']['name']}-",
            "namespace": owner["metadata"]["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": dict(meta.get("annotations") or {}),
            "ownerReferences": [component.controller_ref("apps/v1", kind, owner)],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def deletion_rank(pod: dict[str, Any]) -> tuple:
    """Which pods go first when scaling down (``controller.ActivePods`` order): unscheduled, pending,
    not ready, then the newest."""
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}
    return (
        bool(pod["spec"].get("nodeName")),
        phase_rank.get(pod["status"].get("phase") or "Pending", 0),
        component.is_pod_ready(pod),
        "".join(chr(255 - ord(c)) for c in pod["metadata"].get("creationTimestamp") or ""),
    )


def replicas_of(obj: dict[str, Any]) -> int:
    value = obj.get("spec", {}).get("replicas")
    return 1 if value is None else int(value)


def sync(mgr: Manager, key: str) -> None:
    rs = mgr.store("replicasets").get(key)
    if rs is None or rs["metadata"].get("deletionTimestamp"):
        return
    pods = [p for p in mgr.owned_pods(rs["metadata"]["uid"]) if active(p)]
    wanted = replicas_of(rs)
    if len(pods) < wanted:
        for _ in range(wanted - len(pods)):
            name = f"{rs['metadata']['name']}-{random_suffix()}"
            mgr.create_pod(
                rs["metadata"]["namespace"], pod_from_template(rs, "ReplicaSet", name, rs["spec"]["template"])
            )
    elif len(pods) > wanted:
        for pod in sorted(pods, key=deletion_rank)[: len(pods) - wanted]:
            mgr.delete_pod(pod)
    pods = [p for p in mgr.owned_pods(rs["metadata"]["uid"]) if active(p)]
    ready = sum(1 for p in pods if component.is_pod_ready(p))
    labels = rs["spec"]["template"].get("metadata", {}).get("labels") or {}
    status = {
        "replicas": len(pods),
        "fullyLabeledReplicas": sum(
            1 for p in pods if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
        ),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs["metadata"].get("generation", 1),
    }
    if not ready:
        status.pop("readyReplicas")
        status.pop("availableReplicas")
    mgr.update_status("replicasets", rs, status)


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "replicasets":
        mgr.enqueue("replicaset", f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
    elif resource == "pods":
        for pod in (obj, old):
            if not pod:
                continue
            ref = component.controller_of(pod)
            if ref and ref.get("kind") == "ReplicaSet":
                mgr.enqueue("replicaset", f"{pod['metadata']['namespace']}/{ref['name']}")
