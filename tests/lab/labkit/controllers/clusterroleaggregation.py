"""ClusterRole aggregation controller, after ``pkg/controller/clusterroleaggregation``: a ClusterRole with an
``aggregationRule`` gets the rules of every ClusterRole its selectors match (in name order, without
duplicates), as the bootstrap policy's admin, edit and view are filled from system:aggregate-to-*."""

from __future__ import annotations

from typing import Any

from labkit.controllers.manager import Manager, match_labels
from labkit.kubeclient import path


def aggregated_rules(role: dict[str, Any], roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
    rules: list[dict[str, Any]] = []
    for other in sorted(roles, key=lambda r: r["metadata"]["name"]):
        if other["metadata"]["name"] == role["metadata"]["name"]:
            continue
        labels = other["metadata"].get("labels") or {}
        if any(match_labels(selector, labels) for selector in selectors):
            rules += [r for r in other.get("rules") or [] if r not in rules]
    return rules


def sync(mgr: Manager, key: str) -> None:
    role = mgr.store("clusterroles").get(key)
    if role is None or not role.get("aggregationRule"):
        return
    rules = aggregated_rules(role, list(mgr.store("clusterroles").values()))
    if rules != (role.get("rules") or []):
        mgr.client.update(path("clusterroles", name=role["metadata"]["name"]), {**role, "rules": rules})


def on_event(mgr: Manager, resource: str, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    if resource == "clusterroles":
        for key, role in list(mgr.store("clusterroles").items()):
            if role.get("aggregationRule"):
                mgr.enqueue("clusterroleaggregation", key, after=0.05)
