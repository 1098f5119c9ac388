"""TTL-after-finished controller, after ``pkg/controller/ttlafterfinished``: a finished Job with
``ttlSecondsAfterFinished`` is deleted (background propagation, uid precondition) that long (scaled) after
its Complete or Failed condition, re-checked against a fresh read first."""

from __future__ import annotations

import time
from typing import Any

from labkit import component
from labkit.controllers.job import finished
from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, path

MIN_TTL_SECONDS = 5.0


def expires_in(job: dict[str, Any], factor: float) -> float | None:
    """Seconds until the Job may be deleted (<= 0: now); None when it never expires (yet)."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    done = finished(job)
    if ttl is None or done is None or job["metadata"].get("deletionTimestamp"):
        return None
    # Scaled, but not below a few seconds: a client polling a Job it made (kubeadm's CreateJob check, every half
    # second on one-second timestamps) must see it finished before it goes, as it always does on a real cluster.
    keep = 0.0 if int(ttl) == 0 else max(int(ttl) * factor, MIN_TTL_SECONDS)
    return component.parse_time(done.get("lastTransitionTime")) + keep - time.time()


def sync(mgr: Manager, key: str) -> None:
    job = mgr.store("jobs").get(key)
    left = expires_in(job, mgr.factor) if job else None
    if job is None or left is None:
        return
    if left > 0:
        mgr.enqueue("ttlafterfinished", key, after=left)
        return
    meta = job["metadata"]
    fresh = mgr.client.get_or_none(path("jobs", meta["namespace"], meta["name"]))
    left = expires_in(fresh, mgr.factor) if fresh else None
    if fresh is None or left is None or left > 0 or fresh["metadata"]["uid"] != meta["uid"]:
        if left:
            mgr.enqueue("ttlafterfinished", key, after=left)
        return
    mgr.log.info("ttlafterfinished: deleting job %s", key)
    try:
        mgr.client.delete(path("jobs", meta["namespace"], meta["name"]), uid=meta["uid"], propagation="Background")
    except ApiError as exc:
        if exc.status not in (404, 409):
            raise


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "jobs" and kind != "DELETED" and (obj.get("spec") or {}).get("ttlSecondsAfterFinished") is not None:
        mgr.enqueue("ttlafterfinished", f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
