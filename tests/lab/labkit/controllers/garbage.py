"""Garbage collector (background propagation): pods and ReplicaSets whose controller owner is gone are
deleted, after checking the owner with a live read like the real collector does."""

from __future__ import annotations

from typing import Any

from labkit import component
from labkit.controllers.manager import APPS, Manager
from labkit.kubeclient import path

OWNER_RESOURCES = {**APPS, "Node": "nodes"}


def owner_gone(mgr: Manager, ref: dict[str, Any], namespace: str) -> bool:
    resource = OWNER_RESOURCES.get(ref.get("kind"))
    if resource is None:
        return False  # an owner kind the lab does not simulate: leave the object alone
    ns = None if resource == "nodes" else namespace
    live = mgr.client.get_or_none(path(resource, ns, ref["name"]))
    return live is None or live["metadata"]["uid"] != ref.get("uid")


def cached(mgr: Manager, ref: dict[str, Any], namespace: str) -> bool:
    resource = OWNER_RESOURCES.get(ref.get("kind"))
    if resource is None:
        return True
    if resource == "nodes":
        node = mgr.get("nodes", "", ref["name"])
        return node is not None and node["metadata"]["uid"] == ref.get("uid")
    return ref.get("uid") in mgr.owners_by_uid


def sync(mgr: Manager, key: str) -> None:
    resource, namespace, name = key.split("/")
    if resource == "pods":
        with mgr.lock:
            obj = next(
                (p for p in mgr.pods_by_namespace.get(namespace, {}).values() if p["metadata"]["name"] == name), None
            )
    else:
        obj = mgr.get(resource, namespace, name)
    if obj is None or obj["metadata"].get("deletionTimestamp"):
        return
    ref = component.controller_of(obj)
    if ref and owner_gone(mgr, ref, namespace):
        mgr.log.info(
            "garbage collecting %s %s/%s: owner %s %s is gone", resource, namespace, name, ref["kind"], ref["name"]
        )
        if resource == "pods":
            mgr.delete_pod(obj)
        else:
            mgr.client.delete_ignoring_missing(path(resource, namespace, name))


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource not in ("pods", "replicasets") or kind == "DELETED":
        if kind == "DELETED" and resource in (*APPS.values(), "nodes"):
            uid = obj["metadata"]["uid"]
            with mgr.lock:
                dependents = list(mgr.pods_by_owner.get(uid, {}).values())
            for pod in dependents:
                mgr.enqueue("garbage", f"pods/{pod['metadata']['namespace']}/{pod['metadata']['name']}", after=0.1)
            for rs in list(mgr.store("replicasets").values()):
                if (component.controller_of(rs) or {}).get("uid") == uid:
                    mgr.enqueue("garbage", f"replicasets/{rs['metadata']['namespace']}/{rs['metadata']['name']}")
        return
    ref = component.controller_of(obj)
    if ref and not cached(mgr, ref, obj["metadata"]["namespace"]):
        mgr.enqueue("garbage", f"{resource}/{obj['metadata']['namespace']}/{obj['metadata']['name']}", after=1.0)
