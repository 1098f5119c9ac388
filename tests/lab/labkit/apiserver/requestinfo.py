"""The authorization attributes of a request, parsed from its URL as kube-apiserver's RequestInfoFactory does
(independently of which resources exist, so a request for an unknown resource is authorized before its 404)."""

from __future__ import annotations

from .authn import User
from .authz import Attributes

VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
NAMESPACE_SUBRESOURCES = {"status", "finalize"}


def _query_true(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or [""])[0].lower() in ("1", "true")


def attributes(user: User, method: str, path: str, query: dict[str, list[str]]) -> Attributes:
    verb = VERBS.get(method, method.lower())
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts or parts[0] not in ("api", "apis") or len(parts) < (3 if parts[0] == "api" else 4):
        return Attributes(user, method.lower(), resource_request=False, path=path)
    group, version, rest = ("", parts[1], parts[2:]) if parts[0] == "api" else (parts[1], parts[2], parts[3:])
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if _query_true(query, "watch") else "list"
        selector = (query.get("fieldSelector") or [""])[0]
        if selector.startswith("metadata.name=") and "," not in selector:
            name = selector[len("metadata.name=") :]
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(user, verb, True, namespace, group, version, resource, sub, name)
