"""Pod garbage collector, after ``pkg/controller/podgc`` (orphaned pods only): a pod bound to a node that no
longer exists is marked Failed with the ``DisruptionTarget`` condition (reason ``DeletionByPodGC``) and
force-deleted. The real controller waits 40 s (quarantine) before it does; the lab does not."""

from __future__ import annotations

from typing import Any

from labkit import component
from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, path

GC_PERIOD = 20.0  # the controller's resync period, scaled like the other durations


def orphan_status(pod: dict[str, Any]) -> dict[str, Any]:
    status: dict[str, Any] = {
        "conditions": [{"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                        "message": "PodGC: node no longer exists", "lastTransitionTime": component.now()}],
    }  # fmt: skip
    if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
        status["phase"] = "Failed"
    return status


def sync(mgr: Manager, node: str) -> None:
    if f"/{node}" in mgr.store("nodes"):
        return  # it came back
    for pod in mgr.client.list_all(path("pods"), fieldSelector=f"spec.nodeName={node}")[0]:
        meta = pod["metadata"]
        url = path("pods", meta["namespace"], meta["name"])
        try:
            mgr.client.patch(f"{url}/status", {"status": orphan_status(pod)}, kind="strategic")
            mgr.client.delete(url, grace_period=0, uid=meta["uid"])
        except ApiError as exc:
            if exc.status not in (404, 409):
                raise
        mgr.log.info("podgc: deleted %s/%s of the missing node %s", meta["namespace"], meta["name"], node)


def monitor(mgr: Manager) -> None:
    """The periodic pass: pods bound to a node the node informer does not have."""
    nodes = mgr.store("nodes")
    with mgr.lock:
        bound = {p["spec"].get("nodeName") for p in mgr.pods.values()}
    for node in bound:
        if node and f"/{node}" not in nodes:
            mgr.enqueue("podgc", node)


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "nodes" and kind == "DELETED":
        mgr.enqueue("podgc", obj["metadata"]["name"])
