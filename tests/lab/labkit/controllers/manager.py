"""Shared informers, an owner index of pods, a de-duplicating work queue and one worker thread."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from typing import Any, Callable

from labkit import component
from labkit.kubeclient import ApiError, ApiResource, Informer, KubeClient, path

APPS = {
    "ReplicaSet": "replicasets",
    "Deployment": "deployments",
    "DaemonSet": "daemonsets",
    "StatefulSet": "statefulsets",
}
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(SUFFIX_ALPHABET) for _ in range(length))


def match_labels(selector: dict[str, Any] | None, labels: dict[str, str] | None) -> bool:
    """A metav1.LabelSelector; ``None`` matches nothing, ``{}`` everything."""
    if selector is None:
        return False
    labels = labels or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        value, values, op = labels.get(expr["key"]), expr.get("values") or [], expr.get("operator")
        if (
            (op == "In" and value not in values)
            or (op == "NotIn" and value in values and value is not None)
            or (op == "Exists" and value is None)
            or (op == "DoesNotExist" and value is not None)
        ):
            return False
    return True


def active(pod: dict[str, Any]) -> bool:
    """Counted by controllers: not terminating and not terminal (``controller.IsPodActive``)."""
    return not pod["metadata"].get("deletionTimestamp") and pod.get("status", {}).get("phase") not in (
        "Succeeded",
        "Failed",
    )


def trim_pod(pod: dict[str, Any]) -> dict[str, Any]:
    """What the controllers keep of a pod (client-go transform): enough for every decision they make."""
    meta, status = pod["metadata"], pod.get("status") or {}
    return {
        "metadata": {
            k: meta[k]
            for k in (
                "name",
                "namespace",
                "uid",
                "labels",
                "ownerReferences",
                "deletionTimestamp",
                "creationTimestamp",
                "resourceVersion",
                "annotations",
                "finalizers",
            )
            if k in meta
        },
        "spec": {"nodeName": (pod.get("spec") or {}).get("nodeName"), "targetNode": daemon_target(pod)},
        "status": {
            "phase": status.get("phase"),
            "conditions": [c for c in status.get("conditions") or [] if c.get("type") == "Ready"],
        },
    }


def daemon_target(pod: dict[str, Any]) -> str | None:
    """The node a daemon pod is pinned to by node affinity on ``metadata.name`` (before it is bound)."""
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    terms = (affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    for term in terms:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and field.get("values"):
                return field["values"][0]
    return None


def rv(obj: dict[str, Any]) -> int:
    try:
        return int(obj["metadata"].get("resourceVersion") or 0)
    except ValueError:
        return 0


class Manager:
    def __init__(self, client: KubeClient, info: dict[str, Any]):
        self.root = client  # the manager's own identity: informers (list and watch everything), discovery
        self.clients: dict[str, KubeClient] = {}  # sync name -> the controller's client (its service account)
        self._current = threading.local()
        self.info = info
        self.factor = float(info.get("time_factor", 0.05))
        self.log = component.logging.getLogger("controllers")
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.queue: dict[tuple[str, str], float] = {}  # (controller, key) -> not before (monotonic)
        self.syncs: dict[str, Callable[[Manager, str], None]] = {}
        self.pods: dict[str, dict[str, Any]] = {}  # uid -> trimmed pod
        self.pods_by_owner: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.pods_by_namespace: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.owners_by_uid: dict[str, dict[str, Any]] = {}  # uid of a RS/DS/STS/Deployment -> object
        self.watchers: list[Callable[[str, str, dict, dict | None], None]] = []
        self.node_health: dict[str, tuple[float, float]] = {}  # node -> (last heartbeat, when we saw it change)
        self.job_backoff: dict[str, tuple[int, float]] = {}  # job key -> (failures since last success, last failure)
        self.informers = {
            name: Informer(client, name, self._handler(name), lock=self.lock)
            for name in (
                "nodes",
                "replicasets",
                "deployments",
                "daemonsets",
                "statefulsets",
                "poddisruptionbudgets",
                "namespaces",
                "jobs",
            )
        }
        self.informers["leases"] = Informer(client, "leases", self._handler("leases"), lock=self.lock)
        self.pod_informer = Informer(client, "pods", self._on_pod, lock=self.lock, transform=trim_pod, cache=False)
        self.resources: list[ApiResource] = []  # what discovery listed at start

    @property
    def client(self) -> KubeClient:
        """The client of the controller whose sync runs in this thread (kube-controller-manager's
        --use-service-account-credentials), else the manager's own."""
        return getattr(self._current, "client", None) or self.root

    def add_informer(self, name: str, url: str, transform: Callable[[dict], dict] | None = None, **params: Any) -> None:
        """Watch one more collection (before ``run``) under ``name``, unless a watch has that name already;
        events reach the controllers as resource ``name``, objects ``transform``ed (``params``: a field selector)."""
        if name in self.informers or name == "pods":
            return
        self.informers[name] = Informer(self.root, name, self._handler(name), lock=self.lock, transform=transform,
                                        url=url, **params)  # fmt: skip

    # -- events ------------------------------------------------------------------------------------------

    def store(self, resource: str) -> dict[str, dict[str, Any]]:
        return self.informers[resource].store

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.informers[resource].store.get(f"{namespace}/{name}")

    def _handler(self, resource: str) -> Callable[[str, dict, dict | None], None]:
        def handle(kind: str, obj: dict, old: dict | None) -> None:
            uid = obj["metadata"].get("uid")
            if resource in APPS.values():
                if kind == "DELETED":
                    self.owners_by_uid.pop(uid, None)
                else:
                    self.owners_by_uid[uid] = obj
            for watcher in self.watchers:
                watcher(resource, kind, obj, old)

        return handle

    def _on_pod(self, kind: str, pod: dict, _old: dict | None) -> None:
        with self.lock:
            uid = pod["metadata"]["uid"]
            old = self.pods.get(uid)
            if old is not None and kind != "DELETED" and rv(pod) < rv(old):
                return  # older than what a create/delete response already told us
            self.observe(pod, deleted=kind == "DELETED")
            for watcher in self.watchers:
                watcher("pods", kind, pod, old)

    def observe(self, pod: dict[str, Any], deleted: bool = False) -> None:
        """Index a pod (from the watch, or at once from our own create/delete responses)."""
        meta = pod["metadata"]
        uid = meta["uid"]
        with self.lock:
            old = self.pods.pop(uid, None)
            if old is not None:
                ref = component.controller_of(old)
                if ref:
                    self.pods_by_owner[ref["uid"]].pop(uid, None)
                self.pods_by_namespace[old["metadata"]["namespace"]].pop(uid, None)
            if deleted:
                return
            self.pods[uid] = pod
            ref = component.controller_of(pod)
            if ref:
                self.pods_by_owner[ref["uid"]][uid] = pod
            self.pods_by_namespace[meta["namespace"]][uid] = pod

    # -- queue ---------------------------------------------------------------------------------------------

    def enqueue(self, controller: str, key: str, after: float = 0.0) -> None:
        with self.cond:
            due = time.monotonic() + after
            current = self.queue.get((controller, key))
            if current is None or due < current:
                self.queue[(controller, key)] = due
            self.cond.notify()

    def _next(self) -> tuple[str, str]:
        with self.cond:
            while True:
                now = time.monotonic()
                ready = [item for item, due in self.queue.items() if due <= now]
                if ready:
                    item = ready[0]
                    del self.queue[item]
                    return item
                wait = min(self.queue.values(), default=now + 1.0) - now
                self.cond.wait(max(0.01, min(wait, 1.0)))

    def run(self, periodic: list[tuple[float, Callable[[Manager], None]]]) -> None:
        for informer in self.informers.values():
            informer.start()
        for informer in self.informers.values():
            informer.synced.wait()
        self.pod_informer.start()
        self.pod_informer.synced.wait()
        self.log.info("caches synced: %d pods, %d nodes", len(self.pods), len(self.store("nodes")))
        for interval, action in periodic:
            threading.Thread(target=self._every, args=(interval, action), daemon=True).start()
        while True:
            controller, key = self._next()
            self._current.client = self.clients.get(controller)
            try:
                self.syncs[controller](self, key)
            except ApiError as exc:
                invalidate = getattr(getattr(self.clients.get(controller), "token_source", None), "invalidate", None)
                if exc.status == 401 and invalidate is not None:
                    invalidate()
                level = self.log.info if exc.status == 409 else self.log.warning
                level("%s %s: %s (retrying)", controller, key, exc)
                self.enqueue(controller, key, after=0.2 if exc.status == 409 else 1.0)
            except OSError as exc:
                self.log.warning("%s %s: %s (retrying)", controller, key, exc)
                self.enqueue(controller, key, after=1.0)
            except Exception:
                self.log.exception("%s %s failed (retrying in 5s)", controller, key)
                self.enqueue(controller, key, after=5.0)

    def _every(self, interval: float, action: Callable[[Manager], None]) -> None:
        while True:
            time.sleep(interval)
            try:
                action(self)
            except Exception as exc:
                self.log.warning("periodic %s: %s", getattr(action, "__name__", action), exc)

    # -- helpers for controllers ---------------------------------------------------------------------------

    def owned_pods(self, owner_uid: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.pods_by_owner.get(owner_uid, {}).values())

    def create_pod(self, namespace: str, pod: dict[str, Any]) -> dict[str, Any]:
        created = self.client.create(path("pods", namespace), pod)
        self.observe(trim_pod(created))
        return created

    def delete_pod(self, pod: dict[str, Any], grace_period: int | None = None) -> None:
        meta = pod["metadata"]
        try:
            answer = self.client.delete(
                path("pods", meta["namespace"], meta["name"]), grace_period=grace_period, uid=meta["uid"]
            )
        except ApiError as exc:
            if exc.status in (404, 409):
                return
            raise
        if answer.get("kind") == "Pod" and answer.get("metadata", {}).get("deletionTimestamp"):
            self.observe(trim_pod(answer))
        else:
            self.observe(pod, deleted=True)

    def update_status(self, resource: str, obj: dict[str, Any], status: dict[str, Any]) -> None:
        """PUT the status subresource when it changed (409 on a stale object: the queue retries)."""
        if obj.get("status") == status:
            return
        meta = obj["metadata"]
        updated = self.client.update(
            path(resource, meta.get("namespace"), meta["name"], "status"), {**obj, "status": status}
        )
        with self.lock:
            key = f"{meta.get('namespace', '')}/{meta['name']}"
            store = self.informers[resource].store
            if key in store and rv(store[key]) < rv(updated):
                store[key] = updated
