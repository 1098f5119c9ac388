"""The parts of kube-controller-manager that live next to storage in the lab: the namespace lifecycle
(empty a Terminating namespace, then remove it) and the garbage collector (ownerReferences, with the
background, foreground and orphan propagation policies)."""

from __future__ import annotations

import logging
import queue
import threading
import time

from .errors import ApiError
from .registry import NAMESPACES, NODES, PODS, Registry
from .resources import RESOURCES, Resource
from .store import Event, ResourceCache

log = logging.getLogger("apiserver.controllers")
NAMESPACE_PATH = ("metadata", "namespace")
OWNER_KINDS = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Node", "Job", "Service"}
BY_KIND = {r.kind: r for r in RESOURCES}
# Delete order inside a namespace: owners first so that their controllers do not recreate pods.
NS_ORDER = [r for r in RESOURCES if r.namespaced and r.plural != "pods"] + [PODS]


class Controllers:
    def __init__(self, registry: Registry, resync: float = 1.0):
        self.registry = registry
        self.store = registry.store
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.resync = resync
        self._stop = threading.Event()
        self.store.listeners.append(self._on_event)

    def _on_event(self, cache: ResourceCache, ev: Event) -> None:
        """Runs under the store's lock: only queue work here."""
        res, e = cache.res, ev.entry
        namespace = e.fields[NAMESPACE_PATH] or None
        if res.plural == "namespaces" and e.deleting and ev.type != "DELETED":
            self.work.put(("namespace", e.name))
        if ev.type == "DELETED" and res.kind in OWNER_KINDS:
            self.work.put(("orphans", (e.uid, namespace, res.kind, e.name)))
        if ev.type != "DELETED" and e.deleting and ("foregroundDeletion" in e.finalizers or "orphan" in e.finalizers):
            self.work.put(("finalizer", (res.plural, namespace, e.name)))

    def run(self) -> None:
        last_resync = time.monotonic()
        while not self._stop.is_set():
            try:
                kind, arg = self.work.get(timeout=self.resync)
            except queue.Empty:
                kind, arg = None, None
            try:
                if kind == "namespace":
                    self._finish_namespace(arg)
                elif kind == "orphans":
                    self._collect(*arg)
                elif kind == "finalizer":
                    self._propagate(*arg)
            except ApiError as exc:
                if exc.code != 404:
                    log.info("%s %s: %s", kind, arg, exc.message)
            except Exception:
                log.exception("controller work %s %s failed", kind, arg)
            if time.monotonic() - last_resync >= self.resync:
                last_resync = time.monotonic()
                self._resync()

    def stop(self) -> None:
        self._stop.set()

    def _resync(self) -> None:
        for entry in list(self.store.caches["namespaces"].items.values()):
            if entry.deleting:
                self.work.put(("namespace", entry.name))
        for plural, cache in self.store.caches.items():
            for e in list(cache.items.values()):
                if e.deleting and ("foregroundDeletion" in e.finalizers or "orphan" in e.finalizers):
                    self.work.put(("finalizer", (plural, e.fields[NAMESPACE_PATH] or None, e.name)))

    # --- namespaces ------------------------------------------------------------------------------------------

    def _contents(self, namespace: str) -> list[tuple[Resource, str]]:
        out: list[tuple[Resource, str]] = []
        for res in NS_ORDER:
            entries, _, _, _ = self.store.list(res, namespace, None)
            out.extend((res, e.name) for e in entries)
        return out

    def _finish_namespace(self, name: str) -> None:
        entry = self.store.get(NAMESPACES, name)
        if entry is None or not entry.deleting:
            return
        contents = self._contents(name)
        if not contents:
            finalizers = [f for f in (entry.obj.get("spec") or {}).get("finalizers") or [] if f != "kubernetes"]
            self.registry.update(NAMESPACES, None, name, {"spec": {"finalizers": finalizers}}, sub="finalize")
            return
        for res, obj_name in contents:
            current = self.store.get(res, self.store.cache_key(res, name, obj_name))
            if current is None or (current.deleting and res.plural != "pods"):
                continue
            try:
                self.registry.delete(res, name, obj_name, {})
            except ApiError as exc:
                if exc.code != 404:
                    log.info("namespace %s: deleting %s/%s: %s", name, res.plural, obj_name, exc.message)

    # --- garbage collection ----------------------------------------------------------------------------------

    def _dependents(self, uid: str, namespace: str | None, kind: str, name: str):
        for res in RESOURCES:
            if not res.namespaced and namespace:
                continue
            if kind == "Node" and res.plural == "pods":
                entries = [e for e in self.store.list(PODS, None, None, node=name)[0]]
            elif res.namespaced and namespace:
                entries = self.store.list(res, namespace, None)[0]
            else:
                entries = self.store.list(res, None, None)[0]
            for e in entries:
                if uid in e.owners:
                    yield res, e

    def _owner_alive(self, ref: dict, namespace: str | None) -> bool:
        res = BY_KIND.get(ref.get("kind", ""))
        if res is None:
            return True  # an owner kind the lab does not serve: leave the dependent alone
        entry = self.store.get(res, self.store.cache_key(res, namespace, ref.get("name", "")))
        return entry is not None and entry.uid == ref.get("uid")

    def _collect(self, uid: str, namespace: str | None, kind: str, name: str) -> None:
        """Delete the dependents whose owners are all gone (background propagation)."""
        for res, e in list(self._dependents(uid, namespace, kind, name)):
            meta = e.obj["metadata"]
            refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != uid]
            if any(self._owner_alive(r, meta.get("namespace")) for r in refs):
                continue
            if meta.get("deletionTimestamp") and res.plural != "pods":
                continue
            try:
                self.registry.delete(res, meta.get("namespace"), meta["name"], {})
            except ApiError as exc:
                if exc.code != 404:
                    log.info("gc: deleting %s/%s: %s", res.plural, meta["name"], exc.message)
        if kind == "Node":
            self._collect_node_pods(name)

    def _collect_node_pods(self, node: str) -> None:
        """The pod garbage collector: pods bound to a node that no longer exists are force-deleted
        (kube-controller-manager waits 40 s first; the lab does not)."""
        for e in self.store.list(PODS, None, None, node=node)[0]:
            if self.store.get(NODES, node) is not None:
                return  # the node came back
            try:
                self.registry.delete(PODS, e.fields[NAMESPACE_PATH], e.name, {"gracePeriodSeconds": 0})
            except ApiError as exc:
                if exc.code != 404:
                    log.info("podgc: deleting %s: %s", e.key, exc.message)

    def _propagate(self, plural: str, namespace: str | None, name: str) -> None:
        res = next(r for r in RESOURCES if r.plural == plural)
        entry = self.store.get(res, self.store.cache_key(res, namespace, name))
        if entry is None:
            return
        obj = entry.obj
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        dependents = list(self._dependents(meta.get("uid"), namespace, res.kind, name))
        if "orphan" in finalizers:
            for dres, d in dependents:
                refs = [r for r in d.obj["metadata"].get("ownerReferences") or [] if r.get("uid") != meta.get("uid")]
                patch = {"metadata": {"ownerReferences": refs or None}}
                self.registry.patch(dres, d.obj["metadata"].get("namespace"), d.obj["metadata"]["name"],
                                    "application/merge-patch+json", patch)  # fmt: skip
            dependents = []
            done = "orphan"
        else:
            for dres, d in dependents:
                if not d.obj["metadata"].get("deletionTimestamp"):
                    self.registry.delete(dres, d.obj["metadata"].get("namespace"), d.obj["metadata"]["name"], {})
            done = "foregroundDeletion"
        if not dependents:
            new = obj
            new["metadata"]["finalizers"] = [f for f in finalizers if f != done]
            self.registry.update(res, namespace, name, new)
