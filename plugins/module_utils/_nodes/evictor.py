# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The concurrent eviction engine: evict (or delete) pods, retry what a budget blocks, wait until they are gone.

One coordinator thread owns all state (under one condition variable); a pool of ``concurrency`` workers
makes the API calls. A pod refused with 429 by a PodDisruptionBudget is parked on that budget and
retried the moment a watch on the namespace's budgets reports ``disruptionsAllowed`` above zero (no more
pods released than the budget allows), instead of kubectl's fixed 5 s sleep; when the watch is down, a
capped backoff (0.1 s doubling to 2 s) takes over. Deletion is awaited by UID through a watch on the
node's pods, polled when that watch is down.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.api import (
    error_message,
    is_transient,
    status_body,
    status_of,
    tls_problem,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.watch import Watcher
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.api import NodeApi
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.filters import (
    deleting_for_longer_than,
    pod_key,
)

FAST_BACKOFF = (0.1, 2.0)  # retry delays while a watch is down: start, cap
PROBE_EVERY = 5.0  # while a budget's watch is healthy, one of its parked pods is still retried this often
POLL_HEALTHY = 5.0  # a pod awaited for deletion is read at least this often even while the pod watch is healthy
POLL_DOWN = 0.5
_BUDGET_NAME = re.compile(r"[Tt]he disruption budget (\S+)")

PENDING, INFLIGHT, PARKED, REQUESTED, DONE, FAILED = "pending", "inflight", "parked", "requested", "done", "failed"


@dataclass
class Task:
    pod: dict[str, Any]
    action: str  # "evict" or "delete"
    key: str = ""
    state: str = PENDING
    not_before: float = 0.0
    backoff: float = 0.0
    sent_at: float = 0.0
    pdb: Optional[str] = None
    retries: int = 0
    message: str = ""
    gone_note: str = ""
    next_poll: float = 0.0
    polling: bool = False
    retry_after_until: float = 0.0
    deletion_timestamp: Optional[str] = None

    def __post_init__(self) -> None:
        self.key = pod_key(self.pod)
        meta = self.pod.get("metadata") or {}
        self.namespace = meta.get("namespace") or ""
        self.name = meta.get("name") or ""
        self.uid = meta.get("uid") or ""
        self.deletion_timestamp = meta.get("deletionTimestamp")


@dataclass
class Outcome:
    evicted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    blocked: list[dict[str, str]] = field(default_factory=list)  # {"pod", "pdb", "message"}
    errors: list[dict[str, str]] = field(default_factory=list)  # {"pod", "message"}
    not_waited: list[str] = field(default_factory=list)  # skip_wait_for_delete_timeout
    retries: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return not (self.blocked or self.errors)


class Evictor:
    """Evicts ``evict`` pods (deletes them with ``disable_eviction``) and deletes ``delete`` pods, concurrently."""

    def __init__(
        self,
        api: NodeApi,
        node: str,
        evict: list[dict[str, Any]],
        delete: list[dict[str, Any]],
        deadline: float,
        grace_period: Optional[int] = None,
        disable_eviction: bool = False,
        concurrency: int = 50,
        skip_wait_for_delete_timeout: int = 0,
        resource_version: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.node = node
        self.deadline = deadline
        self.grace_period = grace_period
        self.concurrency = max(1, concurrency)
        self.skip_wait = skip_wait_for_delete_timeout
        self.clock = clock
        use_delete = "delete" if disable_eviction else "evict"
        self.tasks = [Task(pod, use_delete) for pod in evict] + [Task(pod, "delete") for pod in delete]
        self.cv = threading.Condition()
        self.inflight = 0
        self.pdbs: dict[str, tuple[int, float]] = {}  # "ns/name" -> (disruptionsAllowed, when learned)
        self.pdb_watchers: dict[str, Watcher] = {}
        self.pdb_retries: dict[str, int] = {}
        self.pdb_sent: dict[str, float] = {}  # budget -> when a request for one of its pods last went out
        self.transient_retries = 0
        self.gone_uids: set[str] = set()
        self.present_uids: Optional[set[str]] = None
        self.pod_watcher = Watcher(
            f"pods-on-{node}",
            lambda: api.list_pods(node, None),
            lambda rv: api.watch_pods(node, rv),
            self._pods_synced,
            self._pod_event,
            on_health=self._pod_watch_health,
            resource_version=resource_version or None,
        )

    def accepted(self) -> tuple[list[str], list[str]]:
        """The pods evicted and deleted so far (the API accepted the request, or the pod was already gone)."""
        with self.cv:
            done = [t for t in self.tasks if t.state in (REQUESTED, DONE)]
        evicted = sorted(t.key for t in done if t.action == "evict")
        return evicted, sorted(t.key for t in done if t.action == "delete")

    # --- the coordinator -------------------------------------------------------------------------------

    def run(self) -> Outcome:
        start = self.clock()
        evict_done_at: Optional[float] = None
        self.pod_watcher.start()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="evict")
        try:
            with self.cv:
                while True:
                    now = self.clock()
                    if evict_done_at is None and not any(t.state in (PENDING, INFLIGHT, PARKED) for t in self.tasks):
                        evict_done_at = now
                    if all(t.state in (DONE, FAILED) for t in self.tasks) or now >= self.deadline:
                        break
                    wake = self._dispatch(pool, now)
                    self.cv.wait(max(0.0, min(wake, self.deadline) - now))
                end = self.clock()
                return self._outcome(start, evict_done_at or end, end)
        finally:
            self.pod_watcher.stop()
            for watcher in self.pdb_watchers.values():
                watcher.stop()
            pool.shutdown(wait=False, cancel_futures=True)

    def _dispatch(self, pool: ThreadPoolExecutor, now: float) -> float:
        """Start every call that is due (within ``concurrency``); the time of the next thing to do."""
        wake = min(self.deadline, self._probe(now))
        for task in self.tasks:
            if task.state in (PENDING, PARKED):
                if task.not_before > now:
                    wake = min(wake, task.not_before)
                elif self.inflight < self.concurrency:  # else a finishing call frees a slot and wakes us
                    task.state = INFLIGHT
                    task.sent_at = now
                    if task.pdb:
                        self.pdb_sent[task.pdb] = now
                    self.inflight += 1
                    pool.submit(self._attempt, task)
            elif task.state == REQUESTED and not task.polling:
                if task.next_poll > now:
                    wake = min(wake, task.next_poll)
                elif self.inflight < self.concurrency:
                    task.polling = True
                    self.inflight += 1
                    pool.submit(self._poll, task)
        return wake

    # --- workers: one API call each, then the verdict under the lock ----------------------------------------

    def _attempt(self, task: Task) -> None:
        error: Optional[BaseException] = None
        try:
            if task.action == "evict":
                self.api.evict(task.namespace, task.name, self.grace_period)
            else:
                self.api.delete_pod(task.namespace, task.name, self.grace_period, task.uid)
        except Exception as exc:  # every failure is judged in _judge
            error = exc
        with self.cv:
            self.inflight -= 1
            self._judge(task, error)
            self.cv.notify_all()

    def _judge(self, task: Task, error: Optional[BaseException]) -> None:
        now = self.clock()
        pdb = task.pdb
        if error is None:
            self._requested(task, now)
            if pdb and pdb in self.pdbs:  # the server just spent one disruption of this budget
                allowed, learned = self.pdbs[pdb]
                self.pdbs[pdb] = (max(0, allowed - 1), learned)
            self._release(pdb, now)
            return
        status = status_of(error)
        body = status_body(error)
        message = body.get("message") or error_message(error)
        if status == 404 or (status == 409 and task.action == "delete"):
            # 404: already gone; 409 on a uid-preconditioned delete: the name now belongs to a new pod.
            task.state, task.gone_note = DONE, "already gone"
        elif status == 429:
            self._park(task, error, body, now)
        elif status == 403 and _has_cause(body, "NamespaceTerminating"):
            if task.deletion_timestamp:
                self._requested(task, now)
            else:
                self._retry_later(task, message, now)
        elif status == 500 and "more than one" in message:
            task.state, task.message = FAILED, message
        elif is_transient(error) or (status == 0 and not tls_problem(error)):
            self.transient_retries += 1
            self._retry_later(task, message, now)
        else:
            task.state, task.message = FAILED, error_message(error)
        if pdb and task.state != PARKED:
            self._release(pdb, now)

    def _requested(self, task: Task, now: float) -> None:
        task.state = REQUESTED
        task.next_poll = now + self._poll_interval()
        if task.uid in self.gone_uids or (self.present_uids is not None and task.uid not in self.present_uids):
            task.state = DONE

    def _retry_later(self, task: Task, message: str, now: float) -> None:
        task.message = message
        task.backoff = min(task.backoff * 2, FAST_BACKOFF[1]) if task.backoff else FAST_BACKOFF[0]
        task.state, task.not_before = PARKED, now + task.backoff

    def _park(self, task: Task, error: BaseException, body: dict[str, Any], now: float) -> None:
        task.retries += 1
        cause = next((c.get("message") or "" for c in _causes(body) if _cause_type(c) == "DisruptionBudget"), "")
        match = _BUDGET_NAME.search(cause or body.get("message") or "")
        task.pdb = f"{task.namespace}/{match.group(1)}" if match else None
        task.message = cause or body.get("message") or error_message(error)
        if task.pdb:
            self.pdb_retries[task.pdb] = self.pdb_retries.get(task.pdb, 0) + 1
            self.pdb_sent[task.pdb] = max(self.pdb_sent.get(task.pdb, 0.0), task.sent_at)
            self._watch_budgets(task.namespace)
        retry_after = _retry_after(error)
        watched = task.pdb is not None and not self.pdb_watchers[task.namespace].down
        if watched:
            task.backoff = 0.0
            delay = self.deadline  # the budget's watch releases it (or _probe, should the watch miss a rise)
        else:
            task.backoff = min(task.backoff * 2, FAST_BACKOFF[1]) if task.backoff else FAST_BACKOFF[0]
            delay = task.backoff
        task.state = PARKED
        task.not_before = now + max(delay, retry_after)
        task.retry_after_until = now + retry_after
        if task.pdb:
            self._release(task.pdb, now)

    def _probe(self, now: float) -> float:
        """Retry the oldest parked pod of each watched budget that saw no request for PROBE_EVERY seconds.

        A safety net against a rise the watch did not deliver, at one request per budget instead of one per
        parked pod. Returns when the next probe is due.
        """
        due = self.deadline
        waiting: dict[str, Task] = {}
        for task in self.tasks:
            if task.pdb and task.state == INFLIGHT:
                waiting[task.pdb] = task  # a request is out: no probe needed
            elif task.pdb and task.state == PARKED and task.not_before >= self.deadline:
                oldest = waiting.setdefault(task.pdb, task)
                if oldest.state == PARKED and task.sent_at < oldest.sent_at:
                    waiting[task.pdb] = task
        for pdb, task in waiting.items():
            if task.state != PARKED:
                continue
            probe_at = self.pdb_sent.get(pdb, 0.0) + PROBE_EVERY
            if probe_at <= now:
                task.not_before = max(now, task.retry_after_until)
            else:
                due = min(due, probe_at)
        return due

    def _release(self, pdb: Optional[str], now: float) -> None:
        """Retry as many pods parked on ``pdb`` as it allows now, if what we know is newer than their 429."""
        if not pdb or pdb not in self.pdbs:
            return
        allowed, learned = self.pdbs[pdb]
        busy = sum(1 for t in self.tasks if t.pdb == pdb and t.state == INFLIGHT)
        parked = sorted(
            (t for t in self.tasks if t.pdb == pdb and t.state == PARKED and t.sent_at < learned),
            key=lambda t: t.sent_at,
        )
        for task in parked[: max(0, allowed - busy)]:
            task.not_before = max(now, task.retry_after_until)
        self.cv.notify_all()

    def _poll(self, task: Task) -> None:
        """Read one pod awaited for deletion: 404 or another uid means gone."""
        gone, stamp = False, None
        try:
            current = self.api.get_pod(task.namespace, task.name)
            gone = (current.get("metadata") or {}).get("uid") != task.uid
            stamp = (current.get("metadata") or {}).get("deletionTimestamp")
        except ApiError as exc:
            gone = exc.details.get("status") == 404
        except Exception as exc:  # a failed read is retried at the next poll
            gone = status_of(exc) == 404
        with self.cv:
            self.inflight -= 1
            task.polling = False
            if stamp:
                task.deletion_timestamp = stamp
            if task.state == REQUESTED:
                if gone:
                    task.state = DONE
                else:
                    self._maybe_stop_waiting(task)
                task.next_poll = self.clock() + self._poll_interval()
            self.cv.notify_all()

    def _maybe_stop_waiting(self, task: Task) -> None:
        pod = {"metadata": {"deletionTimestamp": task.deletion_timestamp}}
        if deleting_for_longer_than(pod, self.skip_wait, datetime.now(timezone.utc)):
            task.state, task.gone_note = DONE, "not waited for"

    # --- watches ---------------------------------------------------------------------------------------------

    def _watch_budgets(self, namespace: str) -> None:
        if namespace in self.pdb_watchers:
            return
        self.pdb_watchers[namespace] = Watcher(
            f"pdbs-in-{namespace}",
            lambda: self.api.list_pdbs(namespace),
            lambda rv: self.api.watch_pdbs(namespace, rv),
            self._budgets_seen,
            lambda kind, obj: self._budgets_seen([obj], deleted=kind == "DELETED"),
            on_health=lambda healthy: self._budget_watch_health(namespace, healthy),
        ).start()

    def _budget_watch_health(self, namespace: str, healthy: bool) -> None:
        """When a budget watch goes down, parked pods of that namespace switch to the fast backoff."""
        with self.cv:
            if not healthy:
                now = self.clock()
                for task in self.tasks:
                    if task.state == PARKED and task.namespace == namespace:
                        task.not_before = min(task.not_before, max(now + FAST_BACKOFF[0], task.retry_after_until))
            self.cv.notify_all()

    def _budgets_seen(self, items: list[dict[str, Any]], deleted: bool = False) -> None:
        with self.cv:
            now = self.clock()
            for pdb in items:
                meta = pdb.get("metadata") or {}
                key = f"{meta.get('namespace')}/{meta.get('name')}"
                allowed = len(self.tasks) if deleted else int((pdb.get("status") or {}).get("disruptionsAllowed") or 0)
                self.pdbs[key] = (allowed, now)
                self._release(key, now)

    def _pods_synced(self, items: list[dict[str, Any]]) -> None:
        with self.cv:
            self.present_uids = {str((p.get("metadata") or {}).get("uid")) for p in items}
            for task in self.tasks:
                if task.state == REQUESTED and task.uid not in self.present_uids:
                    task.state = DONE
            self.cv.notify_all()

    def _pod_event(self, kind: str, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        uid = str(meta.get("uid"))
        with self.cv:
            if kind == "DELETED":
                self.gone_uids.add(uid)
            elif self.present_uids is not None:
                self.present_uids.add(uid)
            for task in self.tasks:
                if task.uid != uid:
                    continue
                task.deletion_timestamp = meta.get("deletionTimestamp") or task.deletion_timestamp
                if task.state == REQUESTED:
                    if kind == "DELETED":
                        task.state = DONE
                    else:
                        self._maybe_stop_waiting(task)
            self.cv.notify_all()

    def _pod_watch_health(self, healthy: bool) -> None:
        with self.cv:
            if not healthy:
                soon = self.clock() + POLL_DOWN
                for task in self.tasks:
                    task.next_poll = min(task.next_poll, soon)
            self.cv.notify_all()

    def _poll_interval(self) -> float:
        return POLL_DOWN if self.pod_watcher.down else POLL_HEALTHY

    # --- the result ------------------------------------------------------------------------------------------

    def _outcome(self, start: float, evict_done: float, end: float) -> Outcome:
        out = Outcome(timed_out=end >= self.deadline and not all(t.state in (DONE, FAILED) for t in self.tasks))
        for task in self.tasks:
            if task.state == DONE:
                (out.evicted if task.action == "evict" else out.deleted).append(task.key)
                if task.gone_note == "not waited for":
                    out.not_waited.append(task.key)
            elif task.state == FAILED:
                out.errors.append({"pod": task.key, "message": task.message})
            elif task.state == PARKED and task.pdb:
                out.blocked.append({"pod": task.key, "pdb": task.pdb, "message": task.message})
            elif task.state == REQUESTED:
                out.errors.append({"pod": task.key, "message": "still terminating when the timeout was reached"})
            else:
                reason = task.message or "no answer from the API server before the timeout"
                out.errors.append({"pod": task.key, "message": reason})
        out.retries = {
            "total": sum(t.retries for t in self.tasks),
            "pods": {t.key: t.retries for t in self.tasks if t.retries},
            "pdbs": dict(self.pdb_retries),
            "transient": self.transient_retries,
        }
        out.timings = {"evict": round(evict_done - start, 3), "wait_delete": round(end - evict_done, 3)}
        return out


def _causes(body: dict[str, Any]) -> list[dict[str, Any]]:
    return (body.get("details") or {}).get("causes") or []


def _cause_type(cause: dict[str, Any]) -> Any:
    # StatusCause's Go field Type is serialized as "reason".
    return cause.get("reason") or cause.get("type")


def _has_cause(body: dict[str, Any], cause_type: str) -> bool:
    return any(_cause_type(c) == cause_type for c in _causes(body))


def _retry_after(error: BaseException) -> float:
    headers = getattr(error, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
