"""A minimal OpenAPI v3 (`/openapi/v3`): the paths and operations, no schemas.

kubectl reads it to learn that the server validates fields itself (the `fieldValidation` query
parameter on PATCH operations) and then skips client-side validation; `kubectl apply` falls back to
its built-in types for the strategic merge patch when a schema is missing.
"""

from __future__ import annotations

import hashlib
import json

from .resources import RESOURCES, group_versions

PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    for name in ("dryRun", "fieldManager", "fieldValidation", "pretty")
]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _doc(group: str, version: str, api_version: str) -> dict:
    paths: dict = {}
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        gvk = {"group": group, "version": version, "kind": r.kind}
        base = f"/{_gv_path(group, version)}/" + ("namespaces/{namespace}/" if r.namespaced else "")

        def op(action: str, gvk=gvk) -> dict:
            return {"x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk, "parameters": PARAMS,
                    "responses": {"200": {"description": "OK"}}}  # fmt: skip

        paths[base + r.plural] = {"get": op("list"), "post": op("post")}
        paths[base + r.plural + "/{name}"] = {"get": op("get"), "put": op("put"), "patch": op("patch"),
                                              "delete": op("delete")}  # fmt: skip
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": api_version}, "paths": paths,
            "components": {"schemas": {}}}  # fmt: skip


def documents(api_version: str) -> tuple[dict, dict[str, bytes]]:
    """(the /openapi/v3 root, group-version path -> document bytes)."""
    docs = {}
    for group, versions in group_versions().items():
        for version in versions:
            docs[_gv_path(group, version)] = json.dumps(_doc(group, version, api_version)).encode()
    root: dict[str, dict] = {"paths": {}}
    for path, body in docs.items():
        digest = hashlib.sha512(body).hexdigest()[:64].upper()
        root["paths"][path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return root, docs
