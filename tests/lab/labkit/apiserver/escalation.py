"""RBAC's escalation prevention: a Role or ClusterRole may only grant what its author holds (unless the author
may ``escalate`` it), and a binding may only reference a role whose permissions its author holds (unless
the author may ``bind`` it); ``system:masters`` is exempt. The refusal is the real 403 (``... is attempting
to grant RBAC permissions not currently held:`` and the missing rules, compacted)."""

from __future__ import annotations

import json
from typing import Any

from .authn import User
from .authz import Attributes, Authorizer, forbidden
from .errors import ApiError
from .resources import BY_NAME, Resource

GROUP = "rbac.authorization.k8s.io"


def _atoms(rule: dict[str, Any]) -> list[tuple]:
    """BreakdownRule: one (verb, group, resource, name) or (verb, url) per combination."""
    verbs = rule.get("verbs") or []
    if rule.get("nonResourceURLs"):
        return [("url", v, u) for v in verbs for u in rule["nonResourceURLs"]]
    names = rule.get("resourceNames") or [""]
    return [("res", v, g, r, n) for v in verbs for g in rule.get("apiGroups") or [""]
            for r in rule.get("resources") or [] for n in names]  # fmt: skip


def _covers(owner: dict[str, Any], atom: tuple) -> bool:
    verbs = owner.get("verbs") or []
    if "*" not in verbs and atom[1] not in verbs:
        return False
    if atom[0] == "url":
        return any(u == "*" or u == atom[2] or (u.endswith("*") and atom[2].startswith(u[:-1]))
                   for u in owner.get("nonResourceURLs") or [])  # fmt: skip
    _, _, group, resource, name = atom
    groups = owner.get("apiGroups") or []
    if "*" not in groups and group not in groups:
        return False
    sub = resource.partition("/")[2]
    resources = owner.get("resources") or []
    if not any(r in ("*", resource) or (sub and r == f"*/{sub}") for r in resources):
        return False
    names = owner.get("resourceNames") or []
    return not names or (name != "" and name in names)


def _quoted(values: list[str]) -> str:
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


def _compact(atoms: list[tuple]) -> list[str]:
    """CompactRules + CompactString: rules that differ only in their verb are one line."""
    verbs_by_key: dict[tuple, list[str]] = {}
    for atom in atoms:
        key = (atom[0], *atom[2:])
        verbs_by_key.setdefault(key, []).append(atom[1])
    lines = []
    for key, verbs in verbs_by_key.items():
        if key[0] == "url":
            lines.append(f"{{NonResourceURLs:{_quoted([key[1]])}, Verbs:{_quoted(verbs)}}}")
            continue
        _, group, resource, name = key
        parts = [f"APIGroups:{_quoted([group])}", f"Resources:{_quoted([resource])}"]
        if name:
            parts.append(f"ResourceNames:{_quoted([name])}")
        lines.append("{" + ", ".join([*parts, f"Verbs:{_quoted(verbs)}"]) + "}")
    return lines


def _missing(authorizer: Authorizer, user: User, namespace: str, rules: list[dict[str, Any]]) -> list[tuple]:
    held = [r for r, _ in authorizer.rbac.rules(user, namespace)] if authorizer.rbac is not None else []
    return [atom for rule in rules for atom in _atoms(rule) if not any(_covers(h, atom) for h in held)]


def _refuse(res: Resource, name: str, user: User, missing: list[tuple]) -> ApiError:
    why = (f'user "{user.name}" (groups={_quoted(user.groups)}) is attempting to grant RBAC permissions not '
           "currently held:\n" + "\n".join(_compact(missing)))  # fmt: skip
    return ApiError(403, f'{res.plural}.{GROUP} "{name}" is forbidden: {why}', "Forbidden",
                    {"name": name, "group": GROUP, "kind": res.plural})  # fmt: skip


GC_FIELDS = ("ownerReferences", "finalizers", "resourceVersion", "managedFields", "generation")


def only_gc_fields(obj: dict[str, Any], old: dict[str, Any] | None) -> bool:
    """IsOnlyMutatingGCFields: an update that changes only ownerReferences or finalizers is never an escalation."""
    if old is None:
        return False

    def essence(o: dict[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in (o.get("metadata") or {}).items() if k not in GC_FIELDS}
        return {**{k: v for k, v in o.items() if k not in ("metadata", "apiVersion", "kind")}, "metadata": meta}

    return essence(obj) == essence(old)


def check(authorizer: Authorizer, store: Any, user: User, res: Resource, namespace: str | None, obj: Any,
          old: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Raise the 403 when writing ``obj`` (a role or a binding) would grant its author more than it holds."""
    if res.group != GROUP or not isinstance(obj, dict) or "system:masters" in user.groups or only_gc_fields(obj, old):
        return
    name = (obj.get("metadata") or {}).get("name", "")
    ns = namespace or ""
    if res.plural in ("roles", "clusterroles"):
        if authorizer.decide(Attributes(user, "escalate", True, ns, GROUP, "v1", res.plural, "", name))[0]:
            return
        missing = _missing(authorizer, user, ns, obj.get("rules") or [])
        if missing:
            raise _refuse(res, name, user, missing)
        return
    ref = obj.get("roleRef") or {}
    role_res = BY_NAME["clusterroles" if ref.get("kind") == "ClusterRole" else "roles"]
    bind = Attributes(user, "bind", True, ns, GROUP, "v1", role_res.plural, "", ref.get("name", ""))
    if authorizer.decide(bind)[0]:
        return
    entry = store.get(role_res, store.cache_key(role_res, ns, ref.get("name", "")))
    if entry is None:
        raise forbidden(bind)  # nothing to compare with: only "bind" allows it
    missing = _missing(authorizer, user, ns, entry.obj.get("rules") or [])
    if missing:
        raise _refuse(res, name, user, missing)
