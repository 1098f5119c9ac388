"""Authorization, as kube-apiserver's chain for ``--authorization-mode=Node,RBAC``: ``system:masters`` always
allowed, then the Node authorizer (approximated: the ``system:node`` rules for ``system:node:<name>`` users in
``system:nodes``, their own Node and Lease only), then RBAC over the Roles, ClusterRoles and bindings in
storage; ``AlwaysAllow`` allows everything. Denials are the real 403 (``pods "x" is forbidden: User "u"
cannot create resource "pods/eviction" in API group "" in the namespace "ns"``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .authn import User
from .errors import ApiError
from .rbac_policy import NODE_RULES
from .resources import BY_NAME

RBAC_KINDS = ("clusterroles", "clusterrolebindings", "roles", "rolebindings")
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}


@dataclass(frozen=True)
class Attributes:
    user: User
    verb: str
    resource_request: bool = True
    namespace: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""


def rule_allows(rule: dict[str, Any], attrs: Attributes) -> bool:
    """``RuleAllows`` of the RBAC authorizer (verbs, groups, resources with ``*/sub``, names, URLs)."""
    verbs = rule.get("verbs") or []
    if "*" not in verbs and attrs.verb not in verbs:
        return False
    if not attrs.resource_request:
        return any(u == "*" or u == attrs.path or (u.endswith("*") and attrs.path.startswith(u[:-1]))
                   for u in rule.get("nonResourceURLs") or [])  # fmt: skip
    groups = rule.get("apiGroups") or []
    if "*" not in groups and attrs.group not in groups:
        return False
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resources = rule.get("resources") or []
    if not any(r == "*" or r == combined or (attrs.subresource and r == f"*/{attrs.subresource}") for r in resources):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def subject_matches(subject: dict[str, Any], user: User, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{namespace}:{name}"
    return False


def describe_subject(subject: dict[str, Any], binding_namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name")}/{subject.get("namespace") or binding_namespace}"'
    return f'{subject.get("kind")} "{subject.get("name")}"'


class RBAC:
    """The rules that apply to a user, from the bindings in the watch cache (recomputed when RBAC objects change)."""

    def __init__(self, store: Any):
        self.store = store
        self.version = 0  # bumped on every change of an RBAC object
        self.cached_version = 0
        self.cache: dict[tuple, list[tuple[dict, str]]] = {}
        self.lock = threading.Lock()
        store.listeners.append(self._changed)

    def _changed(self, cache: Any, _event: Any) -> None:
        if cache.res.plural in RBAC_KINDS:
            self.version += 1

    def _entries(self, plural: str, namespace: str | None = None) -> list[dict]:
        entries, _, _, _ = self.store.list(BY_NAME[plural], namespace, None)
        return [e.obj for e in entries]

    def _role_rules(self, ref: dict[str, Any], namespace: str) -> list[dict]:
        plural = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
        res = BY_NAME[plural]
        entry = self.store.get(res, self.store.cache_key(res, namespace, ref.get("name", "")))
        return (entry.obj.get("rules") or []) if entry is not None else []

    def rules(self, user: User, namespace: str) -> list[tuple[dict, str]]:
        """(rule, "ClusterRoleBinding ... to ...") for every rule granted to the user in the namespace."""
        key = (user.name, tuple(user.groups), namespace)
        with self.lock:
            if self.cached_version != self.version:
                self.cache, self.cached_version = {}, self.version
            found = self.cache.get(key)
            version = self.version
        if found is not None:
            return found
        out: list[tuple[dict, str]] = []
        for binding in self._entries("clusterrolebindings"):
            for subject in binding.get("subjects") or []:
                if subject_matches(subject, user, ""):
                    ref = binding.get("roleRef") or {}
                    source = (f'ClusterRoleBinding "{binding["metadata"]["name"]}" of {ref.get("kind")} '
                              f'"{ref.get("name")}" to {describe_subject(subject, "")}')  # fmt: skip
                    out += [(r, source) for r in self._role_rules(ref, "")]
                    break
        if namespace:
            for binding in self._entries("rolebindings", namespace):
                for subject in binding.get("subjects") or []:
                    if subject_matches(subject, user, namespace):
                        ref = binding.get("roleRef") or {}
                        source = (f'RoleBinding "{binding["metadata"]["name"]}/{namespace}" of {ref.get("kind")} '
                                  f'"{ref.get("name")}" to {describe_subject(subject, namespace)}')  # fmt: skip
                        out += [(r, source) for r in self._role_rules(ref, namespace)]
                        break
        with self.lock:
            if self.cached_version == version and len(self.cache) < 10000:
                self.cache[key] = out
        return out

    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        for rule, source in self.rules(attrs.user, attrs.namespace):
            if rule_allows(rule, attrs):
                return True, f"RBAC: allowed by {source}"
        return False, ""


def node_name(user: User) -> str | None:
    if "system:nodes" in user.groups and user.name.startswith("system:node:"):
        return user.name[len("system:node:") :]
    return None


def node_allows(attrs: Attributes) -> bool:
    """The Node authorizer and NodeRestriction, approximated: the system:node rules, and a node writes only its
    own Node (and status) and its own Lease in kube-node-lease."""
    node = node_name(attrs.user)
    if node is None or not any(rule_allows(r, attrs) for r in NODE_RULES):
        return False
    if attrs.verb in WRITE_VERBS and attrs.name:
        if attrs.resource == "nodes" and attrs.name != node:
            return False
        if attrs.resource == "leases" and (attrs.namespace != "kube-node-lease" or attrs.name != node):
            return False
    return True


class Authorizer:
    def __init__(self, config: dict, store: Any):
        modes = [m.strip() for m in str(config.get("authorization_mode", "Node,RBAC")).split(",") if m.strip()]
        unknown = set(modes) - {"AlwaysAllow", "AlwaysDeny", "Node", "RBAC"}
        if unknown:
            raise SystemExit(f"authorization_mode: unsupported {', '.join(sorted(unknown))}")
        self.modes = modes
        self.rbac = RBAC(store) if "RBAC" in modes else None

    def decide(self, attrs: Attributes) -> tuple[bool, str]:
        if "system:masters" in attrs.user.groups:  # the privileged group is always allowed
            return True, ""
        for mode in self.modes:
            if mode == "AlwaysAllow":
                return True, ""
            if mode == "AlwaysDeny":
                return False, "Everything is forbidden."
            if mode == "Node" and node_allows(attrs):
                return True, ""
            if mode == "RBAC" and self.rbac is not None:
                allowed, reason = self.rbac.authorize(attrs)
                if allowed:
                    return True, reason
        return False, ""

    def check(self, attrs: Attributes) -> None:
        allowed, reason = self.decide(attrs)
        if not allowed:
            raise forbidden(attrs, reason)


def forbidden_message(attrs: Attributes) -> str:
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    where = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.group}" {where}'


def forbidden(attrs: Attributes, reason: str = "") -> ApiError:
    """responsewriters.Forbidden: NewForbidden(group resource, name, "<message>[: reason]")."""
    text = forbidden_message(attrs) + (f": {reason}" if reason else "")
    if not attrs.resource_request:
        return ApiError(403, f"forbidden: {text}", "Forbidden", {})
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    message = f'{qualified} "{attrs.name}" is forbidden: {text}' if attrs.name else f"{qualified} is forbidden: {text}"
    details: dict[str, Any] = {"name": attrs.name, "group": attrs.group, "kind": attrs.resource}
    return ApiError(403, message, "Forbidden", {k: v for k, v in details.items() if v})
