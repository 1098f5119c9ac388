"""Deployment controller: one ReplicaSet per pod template, rolled with maxSurge / maxUnavailable."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from typing import Any

from labkit import component
from labkit.controllers.manager import SUFFIX_ALPHABET, Manager
from labkit.controllers.replicaset import replicas_of
from labkit.kubeclient import path

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


def template_hash(template: dict[str, Any]) -> str:
    digest = int(hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest(), 16)
    out = ""
    for _ in range(10):
        digest, index = divmod(digest, len(SUFFIX_ALPHABET))
        out += SUFFIX_ALPHABET[index]
    return out


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        return int(text)
    exact = int(text[:-1]) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def surge_and_unavailable(deployment: dict[str, Any]) -> tuple[int, int]:
    """``deploymentutil.ResolveFenceposts``: surge rounds up, unavailable down, never both zero."""
    rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    replicas = replicas_of(deployment)
    surge = scaled_value(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def new_replicaset(deployment: dict[str, Any], digest: str, revision: int) -> dict[str, Any]:
    meta, spec = deployment["metadata"], deployment["spec"]
    template = copy.deepcopy(spec["template"])
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = digest
    selector = copy.deepcopy(spec["selector"])
    selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta['name']}-{digest}",
            "namespace": meta["namespace"],
            "labels": {**(template["metadata"]["labels"])},
            "annotations": {
                REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(replicas_of(deployment)),
                "deployment.kubernetes.io/max-replicas": str(
                    replicas_of(deployment) + surge_and_unavailable(deployment)[0]
                ),
            },
            "ownerReferences": [component.controller_ref("apps/v1", "Deployment", deployment)],
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": spec.get("minReadySeconds", 0),
            "selector": selector,
            "template": template,
        },
    }


def plan(deployment: dict[str, Any], new: dict[str, Any], olds: list[dict[str, Any]]) -> dict[str, int]:
    """The replica count of each ReplicaSet (by name) for one step of the rollout."""
    replicas = replicas_of(deployment)
    name = new["metadata"]["name"]
    if (deployment["spec"].get("strategy") or {}).get("type") == "Recreate":
        if any(replicas_of(rs) or rs.get("status", {}).get("replicas") for rs in olds):
            return {name: 0, **{rs["metadata"]["name"]: 0 for rs in olds}}
        return {name: replicas}
    surge, unavailable = surge_and_unavailable(deployment)
    counts = {rs["metadata"]["name"]: replicas_of(rs) for rs in olds}
    counts[name] = replicas_of(new)
    if not any(counts[rs["metadata"]["name"]] for rs in olds):
        counts[name] = replicas
        return counts
    total = sum(counts.values())
    room = replicas + surge - total
    if room > 0 and counts[name] < replicas:
        counts[name] = min(replicas, counts[name] + room)
    available = sum(rs.get("status", {}).get("availableReplicas", 0) for rs in [new, *olds])
    can_remove = max(0, available - (replicas - unavailable))
    # old pods that are not available count against nobody: remove them first
    for rs in sorted(olds, key=lambda r: r["metadata"].get("creationTimestamp", "")):
        rs_name = rs["metadata"]["name"]
        unhealthy = max(0, counts[rs_name] - rs.get("status", {}).get("availableReplicas", 0))
        counts[rs_name] -= min(unhealthy, counts[rs_name])
        take = min(can_remove, counts[rs_name])
        counts[rs_name] -= take
        can_remove -= take
    return counts


def sync(mgr: Manager, key: str) -> None:
    deployment = mgr.store("deployments").get(key)
    if deployment is None or deployment["metadata"].get("deletionTimestamp"):
        return
    uid, namespace = deployment["metadata"]["uid"], deployment["metadata"]["namespace"]
    owned = [
        rs
        for rs in mgr.store("replicasets").values()
        if rs["metadata"]["namespace"] == namespace and (component.controller_of(rs) or {}).get("uid") == uid
    ]
    digest = template_hash(deployment["spec"]["template"])
    new = next((rs for rs in owned if rs["metadata"].get("labels", {}).get(HASH_LABEL) == digest), None)
    if new is None:
        revision = 1 + max((int(rs["metadata"].get("annotations", {}).get(REVISION, 0)) for rs in owned), default=0)
        new = mgr.client.create(path("replicasets", namespace), new_replicaset(deployment, digest, revision))
        mgr.log.info("deployment %s: created replicaset %s", key, new["metadata"]["name"])
    olds = [rs for rs in owned if rs["metadata"]["name"] != new["metadata"]["name"]]
    targets = plan(deployment, new, olds)
    for rs in [new, *olds]:
        target = targets.get(rs["metadata"]["name"], 0)
        if replicas_of(rs) != target:
            rs = {**rs, "spec": {**rs["spec"], "replicas": target}}
            annotations = rs["metadata"].setdefault("annotations", {})
            annotations["deployment.kubernetes.io/desired-replicas"] = str(replicas_of(deployment))
            mgr.client.update(path("replicasets", namespace, rs["metadata"]["name"]), rs)
    all_rs = [new, *olds]
    replicas = replicas_of(deployment)
    available = sum(rs.get("status", {}).get("availableReplicas", 0) for rs in all_rs)
    total = sum(rs.get("status", {}).get("replicas", 0) for rs in all_rs)
    updated = new.get("status", {}).get("replicas", 0)
    _, max_unavailable = surge_and_unavailable(deployment)
    old_status = deployment.get("status") or {}
    now = component.now()

    def cond(kind: str, ok: bool, reason: str, message: str) -> dict[str, Any]:
        previous: dict[str, Any] = next((c for c in old_status.get("conditions") or [] if c["type"] == kind), {})
        since = previous.get("lastTransitionTime") if previous.get("status") == ("True" if ok else "False") else now
        return {
            "type": kind,
            "status": "True" if ok else "False",
            "reason": reason,
            "message": message,
            "lastUpdateTime": previous.get("lastUpdateTime", now) if since != now else now,
            "lastTransitionTime": since or now,
        }

    complete = updated == replicas and total == replicas and available == replicas
    status = {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": sum(rs.get("status", {}).get("readyReplicas", 0) for rs in all_rs),
        "availableReplicas": available,
        "unavailableReplicas": max(0, replicas - available),
        "conditions": [
            cond(
                "Available",
                available >= replicas - max_unavailable,
                "MinimumReplicasAvailable" if available >= replicas - max_unavailable else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if available >= replicas - max_unavailable
                else "Deployment does not have minimum availability.",
            ),
            cond(
                "Progressing",
                True,
                "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                f'ReplicaSet "{new["metadata"]["name"]}" '
                + ("has successfully progressed." if complete else "is progressing."),
            ),
        ],
    }
    for field in ("readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas", "replicas"):
        if not status[field]:
            status.pop(field)
    mgr.update_status("deployments", deployment, status)


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "deployments":
        mgr.enqueue("deployment", f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
    elif resource == "replicasets":
        ref = component.controller_of(obj)
        if ref and ref.get("kind") == "Deployment":
            mgr.enqueue("deployment", f"{obj['metadata']['namespace']}/{ref['name']}")
