"""ServiceAccounts controller, after ``pkg/controller/serviceaccount``: every active namespace has the ``default``
ServiceAccount (created when missing, created again when deleted)."""

from __future__ import annotations

from typing import Any

from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, path

DEFAULT = "default"


def sync(mgr: Manager, namespace: str) -> None:
    ns = mgr.store("namespaces").get(f"/{namespace}")
    if (
        ns is None
        or ns["metadata"].get("deletionTimestamp")
        or f"{namespace}/{DEFAULT}" in mgr.store("serviceaccounts")
    ):
        return
    try:
        mgr.client.create(path("serviceaccounts", namespace), {"apiVersion": "v1", "kind": "ServiceAccount",
                                                              "metadata": {"name": DEFAULT}})  # fmt: skip
    except ApiError as exc:
        if exc.status not in (403, 404, 409):  # 403: the namespace started terminating meanwhile
            raise


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "namespaces" and kind != "DELETED":
        mgr.enqueue("serviceaccount", obj["metadata"]["name"])
    elif resource == "serviceaccounts" and kind == "DELETED" and obj["metadata"]["name"] == DEFAULT:
        mgr.enqueue("serviceaccount", obj["metadata"]["namespace"])
