"""Token controller (``serviceaccount-token-controller``), after ``pkg/controller/serviceaccount/tokens_controller``:
a Secret of type ``kubernetes.io/service-account-token`` naming a ServiceAccount in its
``kubernetes.io/service-account.name`` annotation gets ``data.token`` (a legacy token signed with
``--service-account-private-key-file``), ``data["ca.crt"]``, ``data.namespace`` and the
``kubernetes.io/service-account.uid`` annotation; a Secret whose ServiceAccount is gone (or was made again
under the same name) is deleted."""

from __future__ import annotations

import base64
from typing import Any

from labkit.apiserver.satokens import Signer, legacy_claims
from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, path

TYPE = "kubernetes.io/service-account-token"
NAME = "kubernetes.io/service-account.name"
UID = "kubernetes.io/service-account.uid"
INFORMER = "token-secrets"  # secrets of that type only


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def sync(mgr: Manager, key: str, signer: Signer, ca: str) -> None:
    secret = mgr.store(INFORMER).get(key)
    if secret is None:
        return
    meta = secret["metadata"]
    namespace, annotations = meta["namespace"], meta.get("annotations") or {}
    sa = mgr.store("serviceaccounts").get(f"{namespace}/{annotations.get(NAME, '')}")
    if sa is None or (annotations.get(UID) and annotations[UID] != sa["metadata"]["uid"]):
        live = mgr.client.get_or_none(path("serviceaccounts", namespace, annotations.get(NAME, "")))
        if live is None or (annotations.get(UID) and annotations[UID] != live["metadata"]["uid"]):
            mgr.log.info("tokens: deleting %s, its service account is gone", key)
            mgr.client.delete_ignoring_missing(path("secrets", namespace, meta["name"]))
            return
        sa = live
    data = dict(secret.get("data") or {})
    if data.get("token") and data.get("ca.crt") and data.get("namespace") and annotations.get(UID):
        return
    token = signer.sign(legacy_claims(namespace, sa, meta["name"]))
    data.update({"token": _b64(token), "ca.crt": _b64(ca), "namespace": _b64(namespace)})
    updated = {**secret, "data": data,
               "metadata": {**meta, "annotations": {**annotations, UID: sa["metadata"]["uid"]}}}  # fmt: skip
    try:
        mgr.client.update(path("secrets", namespace, meta["name"]), updated)
    except ApiError as exc:
        if exc.status != 404:
            raise


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == INFORMER and kind != "DELETED":
        mgr.enqueue("serviceaccounttoken", f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
    elif resource == "serviceaccounts" and kind == "DELETED":
        namespace = obj["metadata"]["namespace"]
        for key, secret in list(mgr.store(INFORMER).items()):
            if (
                secret["metadata"]["namespace"] == namespace
                and (secret["metadata"].get("annotations") or {}).get(NAME) == obj["metadata"]["name"]
            ):
                mgr.enqueue("serviceaccounttoken", key)
