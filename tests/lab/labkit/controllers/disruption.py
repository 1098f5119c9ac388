"""Disruption controller: PodDisruptionBudget status as ``pkg/controller/disruption`` computes it.

expectedPods / desiredHealthy: an integer minAvailable counts the selected pods and needs that many;
a percentage minAvailable or any maxUnavailable takes the scale of the pods' controllers (Deployment,
ReplicaSet, StatefulSet), rounding the percentage up. currentHealthy counts Ready pods that are not being
deleted and not recently evicted (``status.disruptedPods``, kept for the scaled DeletionTimeout).
"""

from __future__ import annotations

import time
from typing import Any

from labkit import component
from labkit.controllers.deployment import scaled_value
from labkit.controllers.manager import Manager, match_labels
from labkit.controllers.replicaset import replicas_of

DELETION_TIMEOUT = 120.0  # seconds an evicted pod may take to get its deletionTimestamp


class SyncFailed(Exception):
    pass


def expected_scale(pods: list[dict[str, Any]], lookup) -> tuple[int, list[str]]:
    """``getExpectedScale``: the sum of the scales of the controllers of ``pods``, and the unmanaged pods.

    ``lookup(ref, namespace)`` returns (controller uid, scale) for a controller reference or None.
    """
    scales: dict[str, int] = {}
    unmanaged = []
    for pod in pods:
        ref = component.controller_of(pod)
        if ref is None:
            unmanaged.append(pod["metadata"]["name"])
            continue
        found = lookup(ref, pod["metadata"]["namespace"])
        if found is None:
            raise SyncFailed(f'found no controllers for pod "{pod["metadata"]["name"]}"')
        uid, scale = found
        scales[uid] = scale
    return sum(scales.values()), unmanaged


def expected_and_desired(pdb: dict[str, Any], pods: list[dict[str, Any]], lookup) -> tuple[int, int]:
    """``getExpectedPodCount``."""
    spec = pdb.get("spec") or {}
    if spec.get("maxUnavailable") is not None:
        expected, _ = expected_scale(pods, lookup)
        return expected, max(0, expected - scaled_value(spec["maxUnavailable"], expected, True))
    min_available = spec.get("minAvailable")
    if isinstance(min_available, int):
        return len(pods), min_available
    if min_available is not None:
        if not str(min_available).endswith("%"):
            return len(pods), int(min_available)
        expected, _ = expected_scale(pods, lookup)
        return expected, scaled_value(min_available, expected, True)
    return 0, 0


def healthy_count(pods: list[dict[str, Any]], disrupted: dict[str, str], now: float, timeout: float) -> int:
    """``countHealthyPods``."""
    count = 0
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        when = disrupted.get(pod["metadata"]["name"])
        if when and component.parse_time(when) + timeout > now:
            continue
        if component.is_pod_ready(pod):
            count += 1
    return count


def live_disrupted(
    pods: list[dict[str, Any]], disrupted: dict[str, str], now: float, timeout: float
) -> tuple[dict[str, str], float | None]:
    """``buildDisruptedPodMap``: entries still pending (pod present, not deleted, not expired), and when the
    next one expires."""
    names = {p["metadata"]["name"]: p for p in pods}
    kept, next_expiry = {}, None
    for name, when in (disrupted or {}).items():
        pod = names.get(name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            continue
        expiry = component.parse_time(when) + timeout
        if expiry <= now:
            continue
        kept[name] = when
        next_expiry = expiry if next_expiry is None else min(next_expiry, expiry)
    return kept, next_expiry


def pdb_status(
    pdb: dict[str, Any], pods: list[dict[str, Any]], lookup, now: float, timeout: float
) -> tuple[dict[str, Any], float | None]:
    old = pdb.get("status") or {}
    generation = pdb["metadata"].get("generation", 1)
    previous: dict[str, Any] = next(
        (c for c in old.get("conditions") or [] if c.get("type") == "DisruptionAllowed"), {}
    )

    def cond(ok: bool, reason: str, message: str = "") -> dict[str, Any]:
        status = "True" if ok else "False"
        since = previous.get("lastTransitionTime") if previous.get("status") == status else component.now()
        return {
            "type": "DisruptionAllowed",
            "status": status,
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": since,
        }

    try:
        expected, desired = expected_and_desired(pdb, pods, lookup)
    except SyncFailed as exc:
        status = {
            **old,
            "disruptionsAllowed": 0,
            "observedGeneration": generation,
            "conditions": [cond(False, "SyncFailed", str(exc))],
        }
        return status, None
    disrupted, next_expiry = live_disrupted(pods, old.get("disruptedPods") or {}, now, timeout)
    healthy = healthy_count(pods, disrupted, now, timeout)
    allowed = healthy - desired
    if expected <= 0 or allowed <= 0:
        allowed = 0
    status = {
        "observedGeneration": generation,
        "disruptionsAllowed": allowed,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "expectedPods": expected,
        "conditions": [cond(True, "SufficientPods") if allowed > 0 else cond(False, "InsufficientPods")],
    }
    if disrupted:
        status["disruptedPods"] = disrupted
    return status, next_expiry


def sync(mgr: Manager, key: str) -> None:
    pdb = mgr.store("poddisruptionbudgets").get(key)
    if pdb is None or pdb["metadata"].get("deletionTimestamp"):
        return
    namespace = pdb["metadata"]["namespace"]
    selector = (pdb.get("spec") or {}).get("selector")
    with mgr.lock:
        pods = [
            p
            for p in mgr.pods_by_namespace.get(namespace, {}).values()
            if match_labels(selector, p["metadata"].get("labels"))
        ]

    def lookup(ref: dict[str, Any], ns: str) -> tuple[str, int] | None:
        kind = ref.get("kind", "")
        resource = {"ReplicaSet": "replicasets", "StatefulSet": "statefulsets", "Deployment": "deployments"}.get(kind)
        owner = mgr.get(resource, ns, ref["name"]) if resource else None
        if owner is None or owner["metadata"]["uid"] != ref.get("uid"):
            return None
        if kind == "ReplicaSet":
            parent = component.controller_of(owner)
            if parent and parent.get("kind") == "Deployment":
                deployment = mgr.get("deployments", ns, parent["name"])
                if deployment is None or deployment["metadata"]["uid"] != parent.get("uid"):
                    return None
                return deployment["metadata"]["uid"], replicas_of(deployment)
        return owner["metadata"]["uid"], replicas_of(owner)

    timeout = DELETION_TIMEOUT * mgr.factor
    status, next_expiry = pdb_status(pdb, pods, lookup, time.time(), timeout)
    mgr.update_status("poddisruptionbudgets", pdb, status)
    if next_expiry is not None:
        mgr.enqueue("disruption", key, after=max(0.05, next_expiry - time.time()))


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "poddisruptionbudgets":
        mgr.enqueue("disruption", f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
        return
    if resource not in ("pods", "replicasets", "deployments", "statefulsets"):
        return
    namespace = obj["metadata"].get("namespace")
    for pdb in list(mgr.store("poddisruptionbudgets").values()):
        if pdb["metadata"]["namespace"] != namespace:
            continue
        selector = (pdb.get("spec") or {}).get("selector")
        if resource != "pods" or any(match_labels(selector, o["metadata"].get("labels")) for o in (obj, old) if o):
            mgr.enqueue("disruption", f"{namespace}/{pdb['metadata']['name']}", after=0.02)
