"""Root CA certificate publisher, after ``pkg/controller/certificates/rootcacertpublisher``: every active
namespace has the ConfigMap ``kube-root-ca.crt`` with the cluster CA (``--root-ca-file``) under ``ca.crt``
and the real description annotation; a changed or deleted one is put back."""

from __future__ import annotations

from typing import Any

from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, path

NAME = "kube-root-ca.crt"
INFORMER = "root-ca-configmaps"  # configmaps named kube-root-ca.crt only, as the real publisher watches them
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the "
    "internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of "
    "Kubernetes clusters."
)


def wanted(namespace: str, ca: str) -> dict[str, Any]:
    meta = {"name": NAME, "namespace": namespace, "annotations": {"kubernetes.io/description": DESCRIPTION}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"ca.crt": ca}}


def sync(mgr: Manager, namespace: str, ca: str) -> None:
    ns = mgr.store("namespaces").get(f"/{namespace}")
    if ns is None or ns["metadata"].get("deletionTimestamp"):
        return
    current = mgr.store(INFORMER).get(f"{namespace}/{NAME}")
    body = wanted(namespace, ca)
    try:
        if current is None:
            mgr.client.create(path("configmaps", namespace), body)
        elif (
            current.get("data") != body["data"]
            or (current["metadata"].get("annotations") or {}).get("kubernetes.io/description") != DESCRIPTION
        ):
            annotations = {**(current["metadata"].get("annotations") or {}), "kubernetes.io/description": DESCRIPTION}
            meta = {**current["metadata"], "annotations": annotations}
            mgr.client.update(path("configmaps", namespace, NAME), {**current, "metadata": meta, "data": body["data"]})
    except ApiError as exc:
        if exc.status not in (403, 404, 409):
            raise


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "namespaces" and kind != "DELETED":
        mgr.enqueue("rootcapublisher", obj["metadata"]["name"])
    elif resource == INFORMER:
        mgr.enqueue("rootcapublisher", obj["metadata"]["namespace"])
