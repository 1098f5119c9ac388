"""Garbage collector, after ``pkg/controller/garbagecollector``: a graph of every object's ownerReferences
(by uid), fed by the informers of every resource discovery lists, and two work queues.

- attempt to delete (``attemptToDeleteItem``): an object whose owners are all absent (a live read
  confirms it) is deleted with its own policy (Background unless it carries the orphan or
  foregroundDeletion finalizer); owners being deleted in the foreground count as absent, and a dependent
  that has dependents of its own is then deleted in the foreground too; an object with a live owner
  only loses its references to the absent ones.
- foreground deletion: an owner with the ``foregroundDeletion`` finalizer gets all its dependents deleted
  and loses the finalizer once no dependent with ``blockOwnerDeletion: true`` is left.
- orphan: an owner with the ``orphan`` finalizer has its reference removed from every dependent, then loses
  the finalizer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, ApiResource

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


@dataclass
class GraphNode:
    uid: str
    resource: ApiResource
    namespace: str | None
    name: str
    owners: list[dict[str, Any]] = field(default_factory=list)
    deleting: bool = False
    finalizers: tuple[str, ...] = ()

    @property
    def deleting_dependents(self) -> bool:
        return self.deleting and FOREGROUND in self.finalizers


def metadata_only(obj: dict[str, Any]) -> dict[str, Any]:
    """What the graph needs of an object (the real collector watches metadata only)."""
    meta = obj.get("metadata") or {}
    keep = ("name", "namespace", "uid", "resourceVersion", "ownerReferences", "finalizers", "deletionTimestamp")
    return {"metadata": {k: meta[k] for k in keep if k in meta}}


class GarbageCollector:
    def __init__(self, mgr: Manager, resources: list[ApiResource]):
        self.mgr = mgr
        self.by_plural = {r.plural: r for r in resources}
        self.by_kind = {(r.group_version, r.kind): r for r in resources}
        self.by_group_kind = {(r.group, r.kind): r for r in resources}
        self.nodes: dict[str, GraphNode] = {}
        self.dependents: dict[str, set[str]] = {}
        self.lock = threading.RLock()

    @staticmethod
    def monitored(resources: list[ApiResource]) -> list[ApiResource]:
        """What the collector watches: everything that can be listed, watched and deleted."""
        return [r for r in resources if {"list", "watch", "delete"} <= set(r.verbs)]

    # -- the graph ---------------------------------------------------------------------------------------

    def on_event(self, resource: str, kind: str, obj: dict[str, Any], _old: dict[str, Any] | None) -> None:
        api = self.by_plural.get(resource)
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if api is None or not uid:
            return
        with self.lock:
            if kind == "DELETED":
                self._remove(uid)
                return
            before = self.nodes.get(uid)
            node = GraphNode(uid, api, meta.get("namespace"), meta["name"], list(meta.get("ownerReferences") or []),
                             bool(meta.get("deletionTimestamp")), tuple(meta.get("finalizers") or ()))  # fmt: skip
            self._set(node, before)
            dependents = list(self.dependents.get(uid, ()))
        if any(ref.get("uid") not in self.nodes for ref in node.owners):  # unseen owner: a live read decides
            self.mgr.enqueue("garbagecollector", uid, after=0.05)
        if node.deleting and ORPHAN in node.finalizers:
            self.mgr.enqueue("garbagecollector-orphan", uid)
        if node.deleting_dependents:
            self.mgr.enqueue("garbagecollector", uid)
            if before is None or not before.deleting_dependents:
                for dependent in dependents:
                    self.mgr.enqueue("garbagecollector", dependent)

    def _set(self, node: GraphNode, before: GraphNode | None) -> None:
        if before is not None:
            for ref in before.owners:
                self.dependents.get(ref.get("uid", ""), set()).discard(node.uid)
        self.nodes[node.uid] = node
        for ref in node.owners:
            self.dependents.setdefault(ref.get("uid", ""), set()).add(node.uid)

    def _remove(self, uid: str) -> None:
        node = self.nodes.pop(uid, None)
        if node is not None:
            for ref in node.owners:
                owner_uid = ref.get("uid", "")
                self.dependents.get(owner_uid, set()).discard(uid)
                owner = self.nodes.get(owner_uid)
                if owner is not None and owner.deleting_dependents:
                    self.mgr.enqueue("garbagecollector", owner_uid)  # one blocking dependent fewer
        for dependent in list(self.dependents.get(uid, ())):
            self.mgr.enqueue("garbagecollector", dependent)

    # -- API helpers -------------------------------------------------------------------------------------

    def owner_resource(self, ref: dict[str, Any]) -> ApiResource | None:
        api_version, kind = ref.get("apiVersion", ""), ref.get("kind", "")
        found = self.by_kind.get((api_version, kind))
        return found or self.by_group_kind.get((api_version.rpartition("/")[0], kind))

    def read(self, node: GraphNode) -> dict[str, Any] | None:
        live = self.mgr.client.get_or_none(node.resource.url(node.namespace, node.name))
        return live if live is not None and live["metadata"].get("uid") == node.uid else None

    def owner_state(self, ref: dict[str, Any], namespace: str | None) -> str:
        """ "solid", "dangling" (absent, or another object under that name) or "waiting" (foreground deletion)."""
        known = self.nodes.get(ref.get("uid", ""))
        if known is not None:
            return "waiting" if known.deleting_dependents else "solid"
        resource = self.owner_resource(ref)
        if resource is None:
            return "solid"  # a kind the server does not serve: leave the dependent alone
        live = self.mgr.client.get_or_none(resource.url(namespace, ref.get("name", "")))
        if live is None or live["metadata"].get("uid") != ref.get("uid"):
            return "dangling"
        meta = live["metadata"]
        return "waiting" if meta.get("deletionTimestamp") and FOREGROUND in (meta.get("finalizers") or ()) else "solid"

    def delete(self, node: GraphNode, policy: str) -> None:
        self.mgr.log.info("garbagecollector: deleting %s %s/%s (%s)", node.resource.kind, node.namespace or "",
                          node.name, policy)  # fmt: skip
        try:
            self.mgr.client.delete(node.resource.url(node.namespace, node.name), uid=node.uid, propagation=policy)
        except ApiError as exc:
            if exc.status not in (404, 409):
                raise

    def remove_finalizer(self, node: GraphNode, live: dict[str, Any], finalizer: str) -> None:
        meta = live["metadata"]
        rest = [f for f in meta.get("finalizers") or () if f != finalizer]
        patch = {"metadata": {"finalizers": rest or None, "resourceVersion": meta["resourceVersion"]}}
        self.mgr.client.patch(node.resource.url(node.namespace, node.name), patch)

    def patch_owner_references(self, node: GraphNode, remove: set[str], unblock: frozenset[str] = frozenset()) -> None:
        """Drop the references to ``remove`` and set ``blockOwnerDeletion: false`` on those to ``unblock``."""
        refs: list[dict[str, Any]] = [{"$patch": "delete", "uid": uid} for uid in sorted(remove)]
        refs += [{"uid": uid, "blockOwnerDeletion": False} for uid in sorted(unblock)]
        patch = {"metadata": {"ownerReferences": refs, "uid": node.uid}}
        try:
            self.mgr.client.patch(node.resource.url(node.namespace, node.name), patch, kind="strategic")
        except ApiError as exc:
            if exc.status != 404:
                raise

    # -- work --------------------------------------------------------------------------------------------

    def attempt_to_delete(self, mgr: Manager, uid: str) -> None:
        node = self.nodes.get(uid)
        if node is None:
            return
        live = self.read(node)
        if live is None:
            return
        meta = live["metadata"]
        finalizers = tuple(meta.get("finalizers") or ())
        if meta.get("deletionTimestamp"):
            if FOREGROUND in finalizers:
                self.process_deleting_dependents(node, live)
            return
        refs = meta.get("ownerReferences") or []
        if not refs:
            return
        states = {ref.get("uid", ""): self.owner_state(ref, node.namespace) for ref in refs}
        dangling = {u for u, s in states.items() if s == "dangling"}
        waiting = {u for u, s in states.items() if s == "waiting"}
        if len(dangling) + len(waiting) < len(states):  # a solid owner keeps it
            if dangling or waiting:
                self.patch_owner_references(node, dangling, frozenset(waiting))
            return
        if waiting and self.dependents_of(uid):
            self.patch_owner_references(node, set(), frozenset(waiting))
            self.delete(node, "Foreground")
            return
        policy = "Background"
        if ORPHAN in finalizers:
            policy = "Orphan"
        elif FOREGROUND in finalizers:
            policy = "Foreground"
        self.delete(node, policy)

    def dependents_of(self, uid: str) -> list[str]:
        with self.lock:
            return list(self.dependents.get(uid, ()))

    def process_deleting_dependents(self, node: GraphNode, live: dict[str, Any]) -> None:
        blocking = []
        for dependent_uid in self.dependents_of(node.uid):
            dependent = self.nodes.get(dependent_uid)
            if dependent is None:
                continue
            ref = next((r for r in dependent.owners if r.get("uid") == node.uid), {})
            if ref.get("blockOwnerDeletion"):
                blocking.append(dependent)
        if not blocking:
            self.remove_finalizer(node, live, FOREGROUND)
            return
        for dependent in blocking:
            if not dependent.deleting:
                self.mgr.enqueue("garbagecollector", dependent.uid)

    def orphan(self, mgr: Manager, uid: str) -> None:
        node = self.nodes.get(uid)
        live = self.read(node) if node is not None else None
        if node is None or live is None or ORPHAN not in (live["metadata"].get("finalizers") or ()):
            return
        for dependent_uid in self.dependents_of(uid):
            dependent = self.nodes.get(dependent_uid)
            if dependent is not None:
                self.patch_owner_references(dependent, {uid})
        self.remove_finalizer(node, live, ORPHAN)
