"""Namespace controller, after ``pkg/controller/namespace``: a namespace being deleted (the API server set it
Terminating and keeps the ``kubernetes`` finalizer in ``spec.finalizers``) has every namespaced object of every
discovered resource deleted (``deletecollection`` with background propagation, or one by one), its
status conditions updated on each pass as the real deleter writes them, and, once nothing is left, the
finalizer removed through ``/finalize``; the API server then removes the namespace."""

from __future__ import annotations

from typing import Any

from labkit import component
from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, ApiResource, path

FINALIZER = "kubernetes"
RECHECK = 0.5  # seconds between passes while content remains (the real one waits for the pods' grace)


def deletable(resources: list[ApiResource]) -> list[ApiResource]:
    return [r for r in resources if r.namespaced and {"list", "delete"} <= set(r.verbs)]


def conditions(remaining: dict[str, int], finalizers: dict[str, int], old: list[dict[str, Any]]) -> list[dict]:
    """The five conditions of a terminating namespace, in the deleter's order."""
    if remaining:
        content = ("True", "SomeResourcesRemain", "Some resources are remaining: "
                   + ", ".join(f"{gr} has {n} resource instances" for gr, n in sorted(remaining.items())))  # fmt: skip
    else:
        content = ("False", "ContentRemoved", "All content successfully removed")
    if finalizers:
        held = ("True", "SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: "
                + ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items())))  # fmt: skip
    else:
        held = ("False", "ContentHasNoFinalizers", "All content-preserving finalizers finished")
    wanted = [
        ("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"),
        ("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions",
         "All legacy kube types successfully parsed"),
        ("NamespaceDeletionContentFailure", "False", "ContentDeleted",
         "All content successfully deleted, may be waiting on finalization"),
        ("NamespaceContentRemaining", *content),
        ("NamespaceFinalizersRemaining", *held),
    ]  # fmt: skip
    previous = {c["type"]: c for c in old}
    out = []
    for kind, status, reason, message in wanted:
        before = previous.get(kind, {})
        same = (before.get("status"), before.get("reason"), before.get("message")) == (status, reason, message)
        since = before.get("lastTransitionTime") if same else component.now()
        out.append({"type": kind, "status": status, "lastTransitionTime": since, "reason": reason,
                    "message": message})  # fmt: skip
    return out


def delete_content(mgr: Manager, resource: ApiResource, namespace: str) -> list[dict[str, Any]]:
    """Delete everything of one resource in the namespace; return what is still there."""
    url = resource.url(namespace)
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    try:
        if "deletecollection" in resource.verbs:
            mgr.client.request("DELETE", url, options)
        else:
            for item in mgr.client.list_all(url)[0]:
                mgr.client.delete_ignoring_missing(resource.url(namespace, item["metadata"]["name"]),
                                                   propagation="Background")  # fmt: skip
        return mgr.client.list_all(url)[0]
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise


def sync(mgr: Manager, key: str) -> None:
    namespace = mgr.store("namespaces").get(key)
    if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
        return
    name = namespace["metadata"]["name"]
    if FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or ()):
        return
    remaining: dict[str, int] = {}
    held: dict[str, int] = {}
    for resource in deletable(mgr.resources):
        left = delete_content(mgr, resource, name)
        if left:
            remaining[f"{resource.plural}.{resource.group}"] = len(left)
        for item in left:
            for finalizer in item["metadata"].get("finalizers") or ():
                held[finalizer] = held.get(finalizer, 0) + 1
    status = dict(namespace.get("status") or {})
    status["conditions"] = conditions(remaining, held, status.get("conditions") or [])
    if status != namespace.get("status"):
        try:
            namespace = mgr.client.update(path("namespaces", name=name, sub="status"), {**namespace, "status": status})
        except ApiError as exc:
            if exc.status != 404:
                raise
            return
    if remaining:
        mgr.enqueue("namespace", key, after=RECHECK)
        return
    spec = {"finalizers": [f for f in namespace["spec"].get("finalizers") or () if f != FINALIZER]}
    mgr.log.info("namespace %s: empty, removing the %s finalizer", name, FINALIZER)
    try:
        mgr.client.update(path("namespaces", name=name, sub="finalize"), {**namespace, "spec": spec})
    except ApiError as exc:
        if exc.status != 404:
            raise


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "namespaces" and kind != "DELETED" and obj["metadata"].get("deletionTimestamp"):
        mgr.enqueue("namespace", f"/{obj['metadata']['name']}")
