# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-memory API server implementing ``_nodes.api.NodeApi``, for the drain engine's unit tests.

Evictions follow the real API server's rules (404 when gone, 429 with a DisruptionBudget cause when a
budget allows no disruption, 500 when several budgets select the pod); a budget whose pods are evicted
gets its disruption back ``ready_delay`` seconds later, as when the replacement pod becomes Ready.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.api import ApiException

_uids = itertools.count(1)


def make_pod(
    name: str,
    namespace: str = "default",
    node: str = "worker-1",
    owner: Optional[str] = "ReplicaSet",
    labels: Optional[dict[str, str]] = None,
    phase: str = "Running",
    empty_dir: bool = False,
    mirror: bool = False,
    deletion_timestamp: Optional[str] = None,
    owner_name: str = "owner",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "uid": f"uid-{next(_uids)}", "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": owner_name, "controller": True, "apiVersion": "apps/v1"}]
    if mirror:
        meta["annotations"] = {"kubernetes.io/config.mirror": "x"}
    if deletion_timestamp:
        meta["deletionTimestamp"] = deletion_timestamp
    spec: dict[str, Any] = {"nodeName": node, "volumes": [{"name": "scratch", "emptyDir": {}}] if empty_dir else []}
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


def api_exception(status: int, message: str, causes: Optional[list[dict[str, str]]] = None, retry_after=None):
    body = {"kind": "Status", "status": "Failure", "message": message, "code": status}
    if causes:
        body["details"] = {"causes": causes}
    exc = ApiException(status=status, reason=message)
    exc.body = json.dumps(body)
    exc.headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return exc


class FakeStream:
    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()

    def __iter__(self):
        while True:
            event = self.events.get()
            if event is None:
                return
            yield event

    def close(self) -> None:
        self.events.put(None)


class FakeApi:
    def __init__(
        self, ready_delay: float = 0.2, termination: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock  # stamps every call and event; the engine under test gets the same clock
        self.ready_delay = ready_delay
        self.termination = termination
        self.nodes: dict[str, dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.daemonsets: set[tuple[str, str]] = set()
        self.pdbs: dict[tuple[str, str], dict[str, Any]] = {}
        self.version = itertools.count(100)
        self.pod_streams: list[tuple[str, FakeStream]] = []
        self.pdb_streams: list[tuple[str, FakeStream]] = []
        self.calls: list[tuple[Any, ...]] = []  # (operation, *arguments, stamp)
        self.events: list[tuple[str, str, float]] = []  # (what, namespace/name, stamp): evicted, refused, rise
        self.failures: dict[str, list[BaseException]] = {}  # operation -> exceptions raised by its next calls
        self.watch_fails = False
        self.silent_pdb_watch = False
        self.recreate_same_name = False
        self.inflight = 0
        self.max_inflight = 0
        self.call_delay = 0.0
        self.deadline: Optional[float] = None

    # --- set-up ---------------------------------------------------------------------------------------------

    def add_node(self, name: str, unschedulable: bool = False) -> None:
        self.nodes[name] = {"metadata": {"name": name}, "spec": {"unschedulable": True} if unschedulable else {}}

    def add_pod(self, pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod["metadata"]
        with self.lock:
            self.pods[meta["namespace"], meta["name"]] = pod
            self._emit_pod("ADDED", pod)
        return pod

    def add_pdb(self, name: str, labels: dict[str, str], allowed: int, namespace: str = "default", healthy=3) -> None:
        with self.lock:
            self.pdbs[namespace, name] = {"labels": labels, "allowed": allowed, "healthy": healthy}

    def set_allowed(self, namespace: str, name: str, allowed: int) -> None:
        with self.lock:
            self.pdbs[namespace, name]["allowed"] = allowed
            self._emit_pdb(namespace, name)

    def fail(self, operation: str, *errors: BaseException) -> None:
        self.failures.setdefault(operation, []).extend(errors)

    def count(self, operation: str) -> int:
        return sum(1 for call in self.calls if call[0] == operation)

    def stamps(self, what: str) -> list[float]:
        """When the fake saw ``what`` (evicted, refused, rise), in order."""
        return [stamp for kind, _key, stamp in self.events if kind == what]

    # --- NodeApi --------------------------------------------------------------------------------------------

    def _enter(self, operation: str, *args: Any) -> None:
        with self.lock:
            self.calls.append((operation, *args, self.clock()))
            pending = self.failures.get(operation)
            error = pending.pop(0) if pending else None
        if error is not None:
            raise error

    def get_node(self, name: str) -> dict[str, Any]:
        self._enter("get_node", name)
        if name not in self.nodes:
            raise ApiError(f"read node {name} failed: 404 nodes {name!r} not found", status=404)
        return json.loads(json.dumps(self.nodes[name]))

    def set_unschedulable(self, name: str, value: bool) -> dict[str, Any]:
        self._enter("set_unschedulable", name, value)
        self.nodes[name]["spec"]["unschedulable"] = value
        return self.nodes[name]

    def list_pods(self, node: str, selector: Optional[str]) -> tuple[list[dict[str, Any]], str]:
        self._enter("list_pods", node, selector)
        with self.lock:
            pods = [p for p in self.pods.values() if p["spec"]["nodeName"] == node and _selects(selector, p)]
            return json.loads(json.dumps(pods)), str(next(self.version))

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        self._enter("get_pod", namespace, name)
        with self.lock:
            if (namespace, name) not in self.pods:
                raise ApiError(f"read pod {namespace}/{name} failed: 404 not found", status=404)
            return json.loads(json.dumps(self.pods[namespace, name]))

    def daemonset_exists(self, namespace: str, name: str) -> bool:
        self._enter("daemonset_exists", namespace, name)
        return (namespace, name) in self.daemonsets

    def evict(self, namespace: str, name: str, grace_period: Optional[int]) -> None:
        self._enter("evict", namespace, name, grace_period)
        self._busy()
        try:
            with self.lock:
                pod = self.pods.get((namespace, name))
                if pod is None:
                    raise api_exception(404, f'pods "{name}" not found')
                budgets = [key for key, pdb in self.pdbs.items() if key[0] == namespace and _matches(pdb, pod)]
                if len(budgets) > 1:
                    raise api_exception(
                        500,
                        "This pod has more than one PodDisruptionBudget, "
                        "which the eviction subresource does not support.",
                    )
                if budgets:
                    pdb = self.pdbs[budgets[0]]
                    if pdb["allowed"] <= 0:
                        message = (
                            f"The disruption budget {budgets[0][1]} needs {pdb['healthy']} healthy pods "
                            f"and has {pdb['healthy'] - 1} currently"
                        )
                        self.events.append(("refused", f"{namespace}/{name}", self.clock()))
                        raise api_exception(
                            429,
                            "Cannot evict pod as it would violate the pod's disruption budget.",
                            [{"reason": "DisruptionBudget", "message": message}],
                        )
                    pdb["allowed"] -= 1
                    self.events.append(("evicted", f"{namespace}/{name}", self.clock()))
                    self._emit_pdb(*budgets[0])
                    threading.Timer(self.ready_delay, self._replacement_ready, budgets[0]).start()
                self._terminate(pod)
        finally:
            self._idle()

    def delete_pod(self, namespace: str, name: str, grace_period: Optional[int], uid: str) -> None:
        self._enter("delete_pod", namespace, name, grace_period, uid)
        with self.lock:
            pod = self.pods.get((namespace, name))
            if pod is None:
                raise api_exception(404, f'pods "{name}" not found')
            if pod["metadata"]["uid"] != uid:
                raise api_exception(409, "Precondition failed: UID in precondition does not match")
            self._terminate(pod)

    def list_pdbs(self, namespace: str) -> tuple[list[dict[str, Any]], str]:
        self._enter("list_pdbs", namespace)
        if self.watch_fails:
            raise ApiError("list PodDisruptionBudgets failed: 503", status=503)
        with self.lock:
            return [self._pdb_object(*key) for key in self.pdbs if key[0] == namespace], str(next(self.version))

    def watch_pdbs(self, namespace: str, resource_version: str) -> FakeStream:
        return self._stream(self.pdb_streams, namespace)

    def watch_pods(self, node: str, resource_version: str) -> FakeStream:
        return self._stream(self.pod_streams, node)

    # --- internals --------------------------------------------------------------------------------------------

    def _stream(self, streams: list, scope: str) -> FakeStream:
        if self.watch_fails:
            raise api_exception(503, "watch unavailable")
        stream = FakeStream()
        with self.lock:
            streams.append((scope, stream))
        return stream

    def _busy(self) -> None:
        with self.lock:
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        time.sleep(self.call_delay)

    def _idle(self) -> None:
        with self.lock:
            self.inflight -= 1

    def _terminate(self, pod: dict[str, Any]) -> None:
        pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        self._emit_pod("MODIFIED", pod)
        if self.termination:
            threading.Timer(self.termination, self._remove, (pod,)).start()
        else:
            self._remove(pod)

    def _remove(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        with self.lock:
            self.pods.pop((meta["namespace"], meta["name"]), None)
            self._emit_pod("DELETED", pod)
            if self.recreate_same_name:
                again = json.loads(json.dumps(pod))
                again["metadata"]["uid"] = f"uid-{next(_uids)}"
                again["metadata"].pop("deletionTimestamp", None)
                again["spec"]["nodeName"] = "worker-2"
                self.pods[meta["namespace"], meta["name"]] = again

    def _replacement_ready(self, namespace: str, name: str) -> None:
        with self.lock:
            if (namespace, name) in self.pdbs:
                self.pdbs[namespace, name]["allowed"] += 1
                self.events.append(("rise", f"{namespace}/{name}", self.clock()))
                self._emit_pdb(namespace, name)

    def _pdb_object(self, namespace: str, name: str) -> dict[str, Any]:
        pdb = self.pdbs[namespace, name]
        return {
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": str(next(self.version))},
            "status": {"disruptionsAllowed": pdb["allowed"]},
        }

    def _emit_pdb(self, namespace: str, name: str) -> None:
        if self.silent_pdb_watch:
            return
        event = {"type": "MODIFIED", "object": self._pdb_object(namespace, name)}
        for scope, stream in self.pdb_streams:
            if scope == namespace:
                stream.events.put(json.loads(json.dumps(event)))

    def _emit_pod(self, kind: str, pod: dict[str, Any]) -> None:
        event = {"type": kind, "object": json.loads(json.dumps(pod))}
        for scope, stream in self.pod_streams:
            if scope == pod["spec"]["nodeName"]:
                stream.events.put(event)


def _matches(pdb: dict[str, Any], pod: dict[str, Any]) -> bool:
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in pdb["labels"].items())


def _selects(selector: Optional[str], pod: dict[str, Any]) -> bool:
    if not selector:
        return True
    labels = pod["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in (term.split("=", 1) for term in selector.split(",")))


if TYPE_CHECKING:  # mypy checks that the fake keeps the shape of the real facade
    from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.api import NodeApi

    _conforms: type[NodeApi] = FakeApi
