# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings: an object (or a request) that uses an API version a hop of the upgrade path removes, one dict each
with the same keys whatever the source, and the one line that describes it."""

from __future__ import annotations

from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.table import Removal, lookup
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import Version

SOURCES = ("metrics", "last_applied", "helm", "manifests")
CLUSTER_SOURCES = ("metrics", "last_applied", "helm")
# Where a finding was found: only the keys of its source are set, the others are None.
LOCATION_KEYS = ("file", "document", "item", "template", "release", "revision", "chart", "resource", "subresource")


def minor(text: str) -> Version:
    """``"1.22"`` -> ``v1.22``."""
    major, _dot, number = text.partition(".")
    return Version(int(major), int(number))


class Collector:
    """Sorts what the sources find by the hop that breaks it; keeps findings small and unique."""

    def __init__(self, current: Version, hops: tuple[Version, ...]) -> None:
        self.current = current
        self.hops = hops
        self.by_minor = {(hop.major, hop.minor): hop for hop in hops}
        self.findings: list[dict[str, Any]] = []
        self.already_removed: list[dict[str, Any]] = []
        self._keys: set[tuple[Any, ...]] = set()

    def hop_of(self, removed_in: Version) -> Optional[Version]:
        return self.by_minor.get((removed_in.major, removed_in.minor))

    def is_removed_now(self, removed_in: Version) -> bool:
        return (removed_in.major, removed_in.minor) <= (self.current.major, self.current.minor)

    def matters(self, row: Removal) -> bool:
        """Whether a hop of the path removes the row's API version."""
        return self.hop_of(minor(row.removed_in)) is not None

    def add(
        self,
        source: str,
        row: Optional[Removal],
        api_version: str,
        kind: Optional[str],
        name: Optional[str],
        namespace: Optional[str],
        removed_in: Optional[Version] = None,
        unique: Optional[tuple[Any, ...]] = None,
        **where: Any,
    ) -> Optional[dict[str, Any]]:
        """Record an object (or a request) using ``api_version``; the finding, or None when no hop removes it.

        ``row`` is its line of the table (None for a removal only the API server's metric knows); ``unique`` a key
        under which it is recorded once (a list restarted after an expired continue token repeats items).
        """
        removed = removed_in if removed_in is not None else (minor(row.removed_in) if row else None)
        if removed is None:
            return None
        hop = self.hop_of(removed)
        if hop is None and not self.is_removed_now(removed):
            return None  # removed after the target: not this upgrade's problem
        if unique is not None:
            if unique in self._keys:
                return None
            self._keys.add(unique)
        entry = finding(source, row, api_version, kind, name, namespace, removed, hop, where)
        (self.findings if hop is not None else self.already_removed).append(entry)
        return entry

    def by_hop(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {str(hop): [] for hop in self.hops}
        for entry in self.findings:
            grouped[entry["hop"]].append(entry)
        return grouped


def finding(
    source: str,
    row: Optional[Removal],
    api_version: str,
    kind: Optional[str],
    name: Optional[str],
    namespace: Optional[str],
    removed: Version,
    hop: Optional[Version],
    where: dict[str, Any],
) -> dict[str, Any]:
    replacement = row.replacement if row else None
    chained = lookup(replacement, row.kind) if row and replacement else None
    entry: dict[str, Any] = {
        "source": source,
        "namespace": namespace,
        "kind": kind,
        "name": name,
        "api_version": api_version,
        "removed_in": str(removed),
        "hop": str(hop) if hop is not None else None,
        "replacement": replacement,
        "replacement_since": f"v{row.replacement_since}" if row and row.replacement_since else None,
        "replacement_removed_in": f"v{chained.removed_in}" if chained else None,
        "migration": row.migration if row else None,
        "guide": row.guide if row else None,
    }
    for key in LOCATION_KEYS:
        entry[key] = where.get(key)
    entry["line"] = describe(entry)
    return entry


def _subject(entry: dict[str, Any]) -> str:
    if entry["source"] == "metrics":
        resource = entry["resource"] + (f"/{entry['subresource']}" if entry["subresource"] else "")
        return f"metrics: clients still call {entry['api_version']} {resource}"
    name = entry["name"] or "(no name)"
    obj = f"{entry['api_version']} {entry['kind']} {entry['namespace'] + '/' if entry['namespace'] else ''}{name}"
    if entry["source"] == "manifests":
        item = f", item {entry['item']}" if entry["item"] is not None else ""
        return f"manifests: {obj} ({entry['file']}, document {entry['document']}{item})"
    if entry["source"] == "helm":
        template = f", {entry['template']}" if entry["template"] else ""
        return f"helm: {obj} (release {entry['release']} revision {entry['revision']}{template})"
    return f"last_applied: {obj} (its kubectl last-applied-configuration)"


def describe(entry: dict[str, Any], with_migration: bool = True) -> str:
    """One line: what, where, when it breaks, what to use instead and (``with_migration``) what else changes."""
    when = f"removed in {entry['removed_in']}" if entry["hop"] else f"already removed in {entry['removed_in']}"
    if entry["replacement"]:
        instead = f"use {entry['replacement']}"
        if entry["replacement_removed_in"]:
            instead += f" (itself removed in {entry['replacement_removed_in']})"
    elif entry["guide"]:
        instead = "no replacement"
    else:
        instead = "see the deprecated API migration guide"
    line = f"{_subject(entry)}, {when}: {instead}"
    if entry["migration"] and with_migration:
        line += f"; also: {entry['migration']}"
    return line
