"""OpenAPI v3 (`/openapi/v3`, `/openapi/v3/<api|apis>/<group>/<version>`): paths and operations, and the
component schemas of every kind of the group version with the models they use (from ``schema.Schemas``).

kubectl reads it to learn that the server validates fields itself (the `fieldValidation` parameter of
PATCH operations), `kubectl explain` walks the schemas, and `kubectl apply` takes the strategic merge keys
(`x-kubernetes-patch-merge-key`) from them. Definition names follow kube-apiserver's
(`io.k8s.api.core.v1.PodSpec`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`); a model used by several
groups is named after the first group that reaches it (the client's models do not say their Go package).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from .patch import MERGE_KEYS, MERGE_SETS
from .resources import RESOURCES, group_versions
from .schema import Schemas

PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    for name in ("dryRun", "fieldManager", "fieldValidation", "pretty")
]
PACKAGES = {"": "core", "rbac.authorization.k8s.io": "rbac", "authentication.k8s.io": "authentication",
            "authorization.k8s.io": "authorization", "coordination.k8s.io": "coordination"}  # fmt: skip
META_TYPES = {"ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement", "ManagedFieldsEntry",
              "OwnerReference", "DeleteOptions", "Preconditions", "Status", "StatusDetails", "StatusCause",
              "Condition"}  # fmt: skip
PREFIX = re.compile(r"^(?:[A-Z][a-z]+)*?(V\d+(?:alpha\d+|beta\d+)?)(?=[A-Z])")
MERGE_KEY_OVERRIDES = {("ServiceSpec", "ports"): "port"}
SCALARS = {"string": {"type": "string"}, "integer": {"type": "integer", "format": "int64"},
           "number": {"type": "number", "format": "double"}, "boolean": {"type": "boolean"},
           "date-time": {"type": "string", "format": "date-time"}, "date": {"type": "string", "format": "date"},
           "byte": {"type": "string", "format": "byte"}, "any": {}}  # fmt: skip


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def short_name(model: str) -> tuple[str, str]:
    """The client's model name -> (Kind-like name, version): V1PodSpec -> (PodSpec, v1), CoreV1Event -> (Event, v1)."""
    found = PREFIX.match(model)
    if not found:
        return model, "v1"
    return model[found.end() :], found.group(1).lower()


class Namer:
    """Definition names, fixed on first use so that every document names a model the same way."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def name(self, model: str, group: str) -> str:
        if model not in self.names:
            short, version = short_name(model)
            if short in META_TYPES:
                self.names[model] = f"io.k8s.apimachinery.pkg.apis.meta.{version}.{short}"
            else:
                package = PACKAGES.get(group, group.split(".")[0])
                self.names[model] = f"io.k8s.api.{package}.{version}.{short}"
        return self.names[model]


def _property(schemas: Schemas, namer: Namer, group: str, owner: str, field: str, spec: list, seen: list[str]) -> dict:
    kind, description = spec

    def of(t: Any) -> dict[str, Any]:
        if isinstance(t, list):
            if t[0] == "list":
                return {"type": "array", "items": of(t[1])}
            return {"type": "object", "additionalProperties": of(t[1])}
        if t in SCALARS:
            return dict(SCALARS[t])
        seen.append(t)
        return {"$ref": f"#/components/schemas/{namer.name(t, group)}"}

    prop = of(kind)
    if "$ref" in prop:
        prop = {"allOf": [prop], "default": {}}
    if description:
        prop["description"] = description
    key = MERGE_KEY_OVERRIDES.get((short_name(owner)[0], field), MERGE_KEYS.get(field))
    if isinstance(key, tuple):
        key = key[0]
    if prop.get("type") == "array" and key and "$ref" in prop["items"]:
        prop["x-kubernetes-patch-merge-key"] = key
        prop["x-kubernetes-patch-strategy"] = "merge"
    elif field in MERGE_SETS:
        prop["x-kubernetes-patch-strategy"] = "merge"
    return prop


def components(schemas: Schemas | None, namer: Namer, group: str, version: str) -> dict[str, Any]:
    if schemas is None:
        return {}
    out: dict[str, Any] = {}
    api_version = f"{group}/{version}" if group else version
    roots = {}
    for r in RESOURCES:
        if r.group == group and r.version == version:
            model = schemas.model(api_version, r.kind)
            if model:
                roots[model] = r.kind
    pending = list(roots)
    while pending:
        model = pending.pop()
        name = namer.name(model, group)
        if name in out:
            continue
        info = schemas.models[model]
        seen: list[str] = []
        props = {f: _property(schemas, namer, group, model, f, spec, seen) for f, spec in info["fields"].items()}
        definition: dict[str, Any] = {"description": info["description"], "type": "object", "properties": props}
        if model in roots:
            definition["x-kubernetes-group-version-kind"] = [{"group": group, "kind": roots[model], "version": version}]
        out[name] = definition
        pending += seen
    return out


def _doc(group: str, version: str, api_version: str, schemas: Schemas | None, namer: Namer) -> dict:
    paths: dict = {}
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        gvk = {"group": group, "version": version, "kind": r.kind}
        base = f"/{_gv_path(group, version)}/" + ("namespaces/{namespace}/" if r.namespaced else "")
        model = schemas.model(r.api_version, r.kind) if schemas else None
        content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{namer.name(model, group)}"}}} \
            if model else {}  # fmt: skip

        def op(action: str, gvk=gvk, content=content) -> dict:
            ok: dict[str, Any] = {"description": "OK"}
            if content:
                ok["content"] = content
            return {"x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk, "parameters": PARAMS,
                    "responses": {"200": ok}}  # fmt: skip

        paths[base + r.plural] = {"get": op("list"), "post": op("post")}
        paths[base + r.plural + "/{name}"] = {"get": op("get"), "put": op("put"), "patch": op("patch"),
                                              "delete": op("delete")}  # fmt: skip
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": api_version}, "paths": paths,
            "components": {"schemas": components(schemas, namer, group, version)}}  # fmt: skip


def documents(api_version: str, schemas: Schemas | None = None) -> tuple[dict, dict[str, bytes]]:
    """(the /openapi/v3 root, group-version path -> document bytes)."""
    docs = {}
    namer = Namer()
    for group, versions in group_versions().items():
        for version in versions:
            docs[_gv_path(group, version)] = json.dumps(_doc(group, version, api_version, schemas, namer)).encode()
    root: dict[str, dict] = {"paths": {}}
    for path, body in docs.items():
        digest = hashlib.sha512(body).hexdigest()[:64].upper()
        root["paths"][path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return root, docs
