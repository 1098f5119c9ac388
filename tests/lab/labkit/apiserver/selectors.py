"""Label and field selectors (the subset of k8s.io/apimachinery/pkg/labels and fields that clients use)."""

from __future__ import annotations

import re
from typing import Any, Callable

from .errors import bad_request

Matcher = Callable[[Any], bool]  # takes a cache Entry (labels, fields)

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_CMP_RE = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)\s*$")
_NUM_RE = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(>|<)\s*(-?\d+)\s*$")


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return [t for t in terms if t.strip()]


# Predicates on a labels dict, one per requirement kind (a function each binds its key and values).
def _label_eq(k, v) -> Callable[[dict], bool]:
    return lambda labels: labels.get(k) == v


def _label_ne(k, v) -> Callable[[dict], bool]:
    return lambda labels: labels.get(k) != v


def _label_num(k, o, n) -> Callable[[dict], bool]:
    return lambda labels: _num_cmp(labels.get(k), o, n)


def _label_in(k, vs) -> Callable[[dict], bool]:
    return lambda labels: labels.get(k) in vs


def _label_not_in(k, vs) -> Callable[[dict], bool]:
    return lambda labels: labels.get(k) not in vs


def _label_exists(k) -> Callable[[dict], bool]:
    return lambda labels: k in labels


def _label_absent(k) -> Callable[[dict], bool]:
    return lambda labels: k not in labels


def label_requirements(selector: str) -> list[Callable[[dict], bool]]:
    reqs: list[Callable[[dict], bool]] = []
    for term in _split_terms(selector):
        m = _CMP_RE.match(term)
        if m:
            key, op, value = m.groups()
            if op == "!=":
                reqs.append(_label_ne(key, value))
            else:
                reqs.append(_label_eq(key, value))
            continue
        m = _NUM_RE.match(term)
        if m:
            key, op, num = m.group(1), m.group(2), int(m.group(3))
            reqs.append(_label_num(key, op, num))
            continue
        m = _SET_RE.match(term)
        if m:
            neg, key, op, values = m.groups()
            if op:
                if neg:
                    raise bad_request(f"unable to parse requirement: {term.strip()}")
                vals = {v.strip() for v in values.split(",") if v.strip()}
                if op == "in":
                    reqs.append(_label_in(key, vals))
                else:
                    reqs.append(_label_not_in(key, vals))
            elif neg:
                reqs.append(_label_absent(key))
            else:
                reqs.append(_label_exists(key))
            continue
        raise bad_request(f"unable to parse requirement: found '{term.strip()}', expected: valid label selector")
    return reqs


def _num_cmp(value, op, num) -> bool:
    try:
        v = int(value)
    except (TypeError, ValueError):
        return False
    return v > num if op == ">" else v < num


def label_matcher(selector: str | None) -> Matcher | None:
    if not selector:
        return None
    reqs = label_requirements(selector)

    def match(entry) -> bool:
        labels = entry.labels
        return all(r(labels) for r in reqs)

    return match


def selector_from_label_selector(sel: dict | None) -> Callable[[dict], bool] | None:
    """A LabelSelector object (matchLabels / matchExpressions) -> predicate on a labels dict; None: empty."""
    if not sel:
        return None
    reqs: list[Callable[[dict], bool]] = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append(_label_eq(k, v))
    for expr in sel.get("matchExpressions") or []:
        k, op, vals = expr.get("key"), expr.get("operator"), set(expr.get("values") or [])
        if op == "In":
            reqs.append(_label_in(k, vals))
        elif op == "NotIn":
            reqs.append(_label_not_in(k, vals))
        elif op == "Exists":
            reqs.append(_label_exists(k))
        elif op == "DoesNotExist":
            reqs.append(_label_absent(k))
    if not reqs:
        return None
    return lambda labels: all(r(labels) for r in reqs)


# Field paths each resource supports in field selectors, as kube-apiserver registers them.
_COMMON: dict[str, tuple[str, ...]] = {
    "metadata.name": ("metadata", "name"),
    "metadata.namespace": ("metadata", "namespace"),
}
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "pods": {
        "spec.nodeName": ("spec", "nodeName"),
        "spec.restartPolicy": ("spec", "restartPolicy"),
        "spec.schedulerName": ("spec", "schedulerName"),
        "spec.serviceAccountName": ("spec", "serviceAccountName"),
        "spec.hostNetwork": ("spec", "hostNetwork"),
        "status.phase": ("status", "phase"),
        "status.podIP": ("status", "podIP"),
        "status.nominatedNodeName": ("status", "nominatedNodeName"),
    },
    "nodes": {"spec.unschedulable": ("spec", "unschedulable")},
    "namespaces": {"status.phase": ("status", "phase")},
    "events": {
        "involvedObject.kind": ("involvedObject", "kind"),
        "involvedObject.namespace": ("involvedObject", "namespace"),
        "involvedObject.name": ("involvedObject", "name"),
        "involvedObject.uid": ("involvedObject", "uid"),
        "involvedObject.apiVersion": ("involvedObject", "apiVersion"),
        "involvedObject.resourceVersion": ("involvedObject", "resourceVersion"),
        "involvedObject.fieldPath": ("involvedObject", "fieldPath"),
        "reason": ("reason",),
        "source": ("source", "component"),
        "type": ("type",),
    },
    "secrets": {"type": ("type",)},
    "replicasets": {"status.replicas": ("status", "replicas")},
    "jobs": {"status.successful": ("status", "succeeded")},
}


def field_value(obj: dict, path: tuple) -> str:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        if path == ("status", "succeeded"):
            return "0"
        return "false" if path == ("spec", "unschedulable") or path == ("spec", "hostNetwork") else ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


_PATHS: dict[str, tuple] = {}


def field_paths(resource: str) -> tuple:
    """Every field path a resource can be selected by (the cache indexes them)."""
    paths = _PATHS.get(resource)
    if paths is None:
        paths = _PATHS[resource] = tuple({**_COMMON, **FIELDS.get(resource, {})}.values())
    return paths


def field_terms(resource: str, selector: str | None) -> list[tuple[tuple, str, str]]:
    """Parse a field selector into (path, op, value) terms; unknown fields are a 400 like the real server."""
    if not selector:
        return []
    known = {**_COMMON, **FIELDS.get(resource, {})}
    terms = []
    for term in _split_terms(selector):
        m = re.match(r"^\s*([A-Za-z0-9._-]+)\s*(==|!=|=)\s*(.*?)\s*$", term)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        name, op, value = m.groups()
        if name not in known:
            raise bad_request(f'"{name}" is not a known field selector: only "{", ".join(sorted(known))}"')
        terms.append((known[name], "!=" if op == "!=" else "=", value))
    return terms


def field_matcher(resource: str, selector: str | None) -> Matcher | None:
    terms = field_terms(resource, selector)
    if not terms:
        return None

    def match(entry) -> bool:
        fields = entry.fields
        return all((fields[path] == value) == (op == "=") for path, op, value in terms)

    return match


def node_name_of(resource: str, selector: str | None) -> str | None:
    """The node a pod field selector pins (spec.nodeName=X), to use the index."""
    if resource != "pods":
        return None
    for path, op, value in field_terms(resource, selector):
        if path == ("spec", "nodeName") and op == "=":
            return value
    return None
