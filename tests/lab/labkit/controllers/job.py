"""Job controller, after ``pkg/controller/job`` (NonIndexed completion mode).

Pods are made from the template with the Job's controller reference and the ``batch.kubernetes.io/job-tracking``
finalizer; a finished pod is first recorded in ``status.uncountedTerminatedPods``, then its finalizer is
removed, then it moves to ``succeeded`` / ``failed`` (so a pod is counted exactly once, even if it is deleted).
A pod being deleted before it succeeded counts as failed (``podReplacementPolicy: TerminatingOrFailed``).
Failed pods are replaced after the pod failure backoff (10 s doubling, at most 10 min, scaled). The Job
finishes as the real one does since 1.31: first the interim condition ``SuccessCriteriaMet`` (reason
``CompletionsReached``) or ``FailureTarget`` (``BackoffLimitExceeded``, ``DeadlineExceeded``), then, once no
pod is left terminating or uncounted, ``Complete`` (with ``completionTime``) or ``Failed``.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from labkit import component
from labkit.controllers.manager import Manager, active, trim_pod
from labkit.controllers.replicaset import deletion_rank
from labkit.kubeclient import ApiError, path

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
POD_FAILURE_BACKOFF = 10.0  # DefaultJobPodFailureBackOff
MAX_POD_FAILURE_BACKOFF = 600.0  # MaxJobPodFailureBackOff
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_LIMIT_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
FINAL = {"SuccessCriteriaMet": "Complete", "FailureTarget": "Failed"}


def condition_true(job: dict[str, Any], kind: str) -> dict[str, Any] | None:
    cond = component.condition(job, kind)
    return cond if cond and cond.get("status") == "True" else None


def finished(job: dict[str, Any]) -> dict[str, Any] | None:
    """The Complete or Failed condition of a finished Job (``util.IsJobFinished``)."""
    return condition_true(job, "Complete") or condition_true(job, "Failed")


def tracked(pod: dict[str, Any]) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or ())


def is_failed(pod: dict[str, Any], job: dict[str, Any]) -> bool:
    """``isPodFailed``: Failed, or deleted before it succeeded (unless only Failed pods are replaced)."""
    phase = pod["status"].get("phase")
    if phase == "Failed":
        return True
    if (job.get("spec") or {}).get("podReplacementPolicy") == "Failed":
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded"


def is_terminating(pod: dict[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp")) and pod["status"].get("phase") not in ("Succeeded", "Failed")


def new_condition(kind: str, reason: str, message: str, status: str = "True") -> dict[str, Any]:
    now = component.now()
    return {"type": kind, "status": status, "lastProbeTime": now, "lastTransitionTime": now, "reason": reason,
            "message": message}  # fmt: skip


def pod_from_job(job: dict[str, Any]) -> dict[str, Any]:
    template = job["spec"]["template"]
    meta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{job['metadata']['name']}-",
            "namespace": job["metadata"]["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": dict(meta.get("annotations") or {}),
            "finalizers": [*(f for f in meta.get("finalizers") or () if f != TRACKING_FINALIZER), TRACKING_FINALIZER],
            "ownerReferences": [component.controller_ref("batch/v1", "Job", job)],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def wanted_active(job: dict[str, Any], active_count: int, succeeded: int) -> int:
    spec = job["spec"]
    parallelism = int(spec.get("parallelism") or 0)
    if spec.get("completions") is None:
        return active_count if succeeded > 0 else parallelism
    return max(0, min(int(spec["completions"]) - succeeded, parallelism))


def backoff_remaining(mgr: Manager, key: str) -> float:
    """``backoffRecord.getRemainingTime``: the delay before a failed pod is replaced, scaled."""
    failures, last = mgr.job_backoff.get(key, (0, 0.0))
    if failures == 0:
        return 0.0
    delay = min(POD_FAILURE_BACKOFF * 2 ** (failures - 1), MAX_POD_FAILURE_BACKOFF) * mgr.factor
    return max(0.0, last + delay - time.monotonic())


def record_backoff(mgr: Manager, key: str, new_succeeded: int, new_failed: int) -> None:
    failures, last = mgr.job_backoff.get(key, (0, 0.0))
    if new_succeeded:
        failures = 0
    if new_failed:
        failures, last = failures + new_failed, time.monotonic()
    mgr.job_backoff[key] = (failures, last)


def remove_finalizer(mgr: Manager, pod: dict[str, Any]) -> None:
    """Drop the tracking finalizer (the strategic merge patch the real controller sends). The answer goes
    into the pod cache at once, so the next sync does not count the pod again (the real controller's
    finalizer expectations)."""
    meta = pod["metadata"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}
    try:
        answer = mgr.client.patch(path("pods", meta["namespace"], meta["name"]), patch, kind="strategic")
    except ApiError as exc:
        if exc.status != 404:
            raise
        mgr.observe(pod, deleted=True)
        return
    gone = answer.get("metadata", {})
    if gone.get("deletionTimestamp") and not gone.get("finalizers") and gone.get("deletionGracePeriodSeconds") == 0:
        mgr.observe(pod, deleted=True)  # the last finalizer of a deleted pod: the answer is its final state
    elif answer.get("kind") == "Pod":
        mgr.observe(trim_pod(answer))


def put_status(mgr: Manager, job: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    meta = job["metadata"]
    updated = mgr.client.update(path("jobs", meta["namespace"], meta["name"], "status"), {**job, "status": status})
    with mgr.lock:
        store = mgr.informers["jobs"].store
        key = f"{meta['namespace']}/{meta['name']}"
        if key in store:
            store[key] = updated
    return updated


def manage(mgr: Manager, key: str, job: dict[str, Any], active_pods: list[dict[str, Any]], succeeded: int) -> int:
    """``manageJob``: create or delete pods towards the wanted active count; returns the active count."""
    namespace = job["metadata"]["namespace"]
    if job["spec"].get("suspend"):
        for pod in active_pods:
            if tracked(pod):
                remove_finalizer(mgr, pod)
            mgr.delete_pod(pod)
        return 0
    want = wanted_active(job, len(active_pods), succeeded)
    if len(active_pods) > want:
        for pod in sorted(active_pods, key=deletion_rank)[: len(active_pods) - want]:
            if tracked(pod):
                remove_finalizer(mgr, pod)
            mgr.delete_pod(pod)
        return want
    missing = want - len(active_pods)
    if missing <= 0:
        return len(active_pods)
    wait = backoff_remaining(mgr, key)
    if wait > 0:
        mgr.enqueue("job", key, after=wait)
        return len(active_pods)
    for _ in range(missing):
        created = mgr.create_pod(namespace, pod_from_job(job))
        mgr.log.info("job %s: created pod %s", key, created["metadata"]["name"])
    return want


def deadline_left(job: dict[str, Any]) -> float | None:
    """Seconds until ``activeDeadlineSeconds`` runs out (not scaled: a deadline is the user's wall clock)."""
    deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
    start = (job.get("status") or {}).get("startTime")
    if deadline is None or not start or job["spec"].get("suspend"):
        return None
    return component.parse_time(start) + int(deadline) - time.time()


def finish_condition(job: dict[str, Any], failed: int) -> dict[str, Any] | None:
    """The interim condition the Job has or now earns by failing: SuccessCriteriaMet or FailureTarget."""
    for kind in ("SuccessCriteriaMet", "FailureTarget"):
        existing = condition_true(job, kind)
        if existing:
            return existing
    if failed > int(job["spec"].get("backoffLimit", 6)):
        return new_condition("FailureTarget", *BACKOFF_LIMIT_EXCEEDED)
    left = deadline_left(job)
    if left is not None and left <= 0:
        return new_condition("FailureTarget", *DEADLINE_EXCEEDED)
    return None


def suspended_condition(job: dict[str, Any], status: dict[str, Any]) -> None:
    """The Suspended condition: True while ``spec.suspend``, False (JobResumed) once resumed."""
    suspend = bool(job["spec"].get("suspend"))
    current = next((c for c in status.get("conditions") or [] if c.get("type") == "Suspended"), None)
    if suspend and (current is None or current.get("status") != "True"):
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "Suspended"]
        status["conditions"].append(new_condition("Suspended", "JobSuspended", "Job suspended"))
    elif not suspend and current is not None and current.get("status") == "True":
        current.update(new_condition("Suspended", "JobResumed", "Job resumed", "False"))
        status["startTime"] = component.now()


def counted(status: dict[str, Any], with_finalizer: set[str]) -> None:
    """``cleanUncountedPodsWithoutFinalizers``: uncounted pods whose finalizer is gone move to the counters."""
    uncounted = status["uncountedTerminatedPods"]
    for field, counter in (("succeeded", "succeeded"), ("failed", "failed")):
        uids = uncounted.get(field) or []
        kept = [u for u in uids if u in with_finalizer]
        if len(kept) != len(uids):
            status[counter] = int(status.get(counter) or 0) + len(uids) - len(kept)
        if kept:
            uncounted[field] = kept
        else:
            uncounted.pop(field, None)


def omit_zero_counters(status: dict[str, Any]) -> None:
    """active, succeeded and failed are omitempty in JobStatus; ready and terminating (pointers) are not."""
    for counter in ("active", "succeeded", "failed"):
        if not status.get(counter):
            status.pop(counter, None)


def sync(mgr: Manager, key: str) -> None:
    job = mgr.store("jobs").get(key)
    if job is None:
        mgr.job_backoff.pop(key, None)
        return
    if finished(job):
        mgr.job_backoff.pop(key, None)
        return
    status = copy.deepcopy(job.get("status") or {})
    uncounted = status.setdefault("uncountedTerminatedPods", {})
    counted_uids = set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or [])
    pods = mgr.owned_pods(job["metadata"]["uid"])
    active_pods = [p for p in pods if active(p)]
    fresh = [p for p in pods if tracked(p) and p["metadata"]["uid"] not in counted_uids]
    new_succeeded = [p for p in fresh if p["status"].get("phase") == "Succeeded"]
    new_failed = [p for p in fresh if is_failed(p, job)]
    succeeded = int(status.get("succeeded") or 0) + len(new_succeeded) + len(uncounted.get("succeeded") or [])
    failed = int(status.get("failed") or 0) + len(new_failed) + len(uncounted.get("failed") or [])
    if not status.get("startTime") and not job["spec"].get("suspend"):
        status["startTime"] = component.now()
    record_backoff(mgr, key, len(new_succeeded), len(new_failed))

    finish = finish_condition({**job, "status": status}, failed)
    left = deadline_left({**job, "status": status})
    if finish is None and left is not None:
        mgr.enqueue("job", key, after=left)
    count = len(active_pods)
    terminating = sum(1 for p in pods if is_terminating(p))
    if finish is not None and finish["type"] == "FailureTarget":
        for pod in active_pods:  # finalizers stay: the pods are counted as failed below
            mgr.delete_pod(pod)
        terminating += count
        count = 0
    elif finish is None:
        if not job["metadata"].get("deletionTimestamp"):
            count = manage(mgr, key, job, active_pods, succeeded)
            suspended_condition(job, status)
        completions = job["spec"].get("completions")
        if count == 0 and (succeeded >= int(completions) if completions is not None else succeeded > 0):
            finish = new_condition("SuccessCriteriaMet", *COMPLETIONS_REACHED)
    status["active"] = count
    status["ready"] = min(count, sum(1 for p in active_pods if component.is_pod_ready(p)))
    status["terminating"] = terminating

    track(mgr, key, job, status, pods, finish)


def record_uncounted(job: dict[str, Any], status: dict[str, Any], pods: list[dict[str, Any]],
                     finish: dict[str, Any] | None) -> list[dict[str, Any]]:  # fmt: skip
    """Add the finished tracked pods to ``uncountedTerminatedPods``; return the pods to release."""
    uncounted = status["uncountedTerminatedPods"]
    failing = finish is not None and finish["type"] == "FailureTarget"
    releasing = []
    for pod in (p for p in pods if tracked(p)):
        uid, failed_pod = pod["metadata"]["uid"], is_failed(pod, job)
        succeeded = pod["status"].get("phase") == "Succeeded"
        if not (job["metadata"].get("deletionTimestamp") or finish is not None or succeeded or failed_pod):
            continue  # still running: keeps its finalizer
        releasing.append(pod)
        if succeeded and uid not in (uncounted.get("failed") or []):
            field = "succeeded"
        elif failed_pod or failing:  # once the Job fails, every pod not succeeded counts as failed
            field = "failed"
        else:
            continue
        if uid not in (uncounted.get(field) or []):
            uncounted.setdefault(field, []).append(uid)
    return releasing


def track(mgr: Manager, key: str, job: dict[str, Any], status: dict[str, Any], pods: list[dict[str, Any]],
          finish: dict[str, Any] | None) -> None:  # fmt: skip
    """``trackJobStatusAndRemoveFinalizers``: flush the uncounted pods (and the interim condition), drop their
    finalizers, move them to the counters, then add the final condition once nothing is pending."""
    releasing = record_uncounted(job, status, pods, finish)
    if finish is not None and not condition_true({"status": status}, finish["type"]):
        status.setdefault("conditions", []).append(finish)
    omit_zero_counters(status)
    if status != (job.get("status") or {}):
        job = put_status(mgr, job, status)
        status = copy.deepcopy(job["status"])
    with_finalizer = {p["metadata"]["uid"] for p in pods if tracked(p)}
    for pod in releasing:
        remove_finalizer(mgr, pod)
        with_finalizer.discard(pod["metadata"]["uid"])
    status.setdefault("uncountedTerminatedPods", {})
    counted(status, with_finalizer)
    omit_zero_counters(status)
    pending = status["uncountedTerminatedPods"] or status.get("terminating")
    if finish is not None and not pending and not condition_true({"status": status}, FINAL[finish["type"]]):
        final = new_condition(FINAL[finish["type"]], finish["reason"], finish["message"])
        status.setdefault("conditions", []).append(final)
        if final["type"] == "Complete":
            status["completionTime"] = final["lastTransitionTime"]
        mgr.log.info("job %s: %s (%s)", key, final["type"], final["reason"])
    if status != (job.get("status") or {}):
        put_status(mgr, job, status)


def release_orphan(mgr: Manager, key: str) -> None:
    """The orphan pod worker: a tracked pod whose Job is gone loses the finalizer (so it can be deleted)."""
    namespace, name = key.split("/", 1)
    pod = mgr.client.get_or_none(path("pods", namespace, name))
    if pod is None or not tracked(pod):
        return
    ref = component.controller_of(pod) or {}
    job = mgr.get("jobs", namespace, ref["name"]) if ref.get("kind") == "Job" else None
    if job is None or job["metadata"]["uid"] != ref.get("uid"):
        remove_finalizer(mgr, pod)


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "jobs":
        key = f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"
        mgr.enqueue("job", key)
        if kind == "DELETED":
            for pod in mgr.owned_pods(obj["metadata"]["uid"]):
                if tracked(pod):
                    mgr.enqueue("job-orphan", f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
    elif resource == "pods" and kind != "DELETED":
        ref = component.controller_of(obj)
        namespace = obj["metadata"]["namespace"]
        if ref and ref.get("kind") == "Job":
            job = mgr.get("jobs", namespace, ref["name"])
            if job is not None and job["metadata"]["uid"] == ref.get("uid"):
                mgr.enqueue("job", f"{namespace}/{ref['name']}", after=0.02)
                return
        if tracked(obj):
            mgr.enqueue("job-orphan", f"{namespace}/{obj['metadata']['name']}")
    elif resource == "pods":
        ref = component.controller_of(obj)
        if ref and ref.get("kind") == "Job":
            mgr.enqueue("job", f"{obj['metadata']['namespace']}/{ref['name']}", after=0.02)
