# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""api_removals' logic: for each hop of the upgrade path (version_skew's engine), what still uses an API
version that hop removes - in the API server's requests, the last-applied annotations, Helm's latest releases
and manifests on disk - with the replacement and what else must change. Read-only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import (
    ApiError,
    ClusterOpsError,
    InvalidInput,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals import cluster, helm, manifests
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.findings import (
    CLUSTER_SOURCES,
    SOURCES,
    Collector,
    describe,
    minor,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.table import (
    REMOVALS,
    Removal,
    lookup,
    lookup_resource,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.skew import plan
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import Version, shorten

SCAN_TIMEOUT = 600  # seconds for every read of the cluster together
SHOWN = 3  # findings named in the failure message
MAX_WARNINGS = 20  # ignored manifests warned about one by one; the rest are counted
MAX_IGNORED = 100  # ignored manifests listed in the result
PAGE_SIZES = {"CustomResourceDefinition": 50}  # kinds whose objects are big (when the server sends them whole)


class RemovalsFound(ClusterOpsError):
    """fail_on_findings and something uses a removed API version; details hold the whole result."""


@dataclass(frozen=True)
class Options:
    target: Version
    current: Optional[Version]
    manifest_paths: tuple[str, ...]
    sources: tuple[str, ...]
    explicit: bool  # sources were named: a source that cannot be read fails the task instead of a warning
    fail_on_findings: bool


def validate(params: dict[str, Any]) -> Options:
    """Every option checked before anything is read; InvalidInput names the first bad one and its value."""
    target_value = params.get("target_version")
    if target_value is None:
        raise InvalidInput("target_version is required: the version to scan the upgrade path to, e.g. '1.33'")
    target = Version.parse(target_value, "target_version")
    current_value = params.get("current_version")
    current = Version.parse(current_value, "current_version") if current_value is not None else None
    paths = manifests.check_paths(params["manifest_paths"]) if params.get("manifest_paths") is not None else []
    given = params.get("sources")
    if given is None:
        sources = (() if current is not None else CLUSTER_SOURCES) + (("manifests",) if paths else ())
        explicit = False
    else:
        if not isinstance(given, list) or not given:
            raise InvalidInput(f"sources {shorten(given)} must be a non-empty list of {', '.join(SOURCES)}")
        for index, source in enumerate(given):
            if source not in SOURCES:
                raise InvalidInput(f"sources[{index}] {shorten(source)} is not one of {', '.join(SOURCES)}")
        sources = tuple(s for s in SOURCES if s in given)
        explicit = True
    if current is not None:
        needing = [s for s in sources if s in CLUSTER_SOURCES]
        if needing:
            raise InvalidInput(
                f"sources {', '.join(needing)} read the cluster, but current_version {current_value!r} means no "
                "cluster is read: leave out current_version, or use sources: [manifests]"
            )
        if not paths:
            raise InvalidInput(
                f"current_version {current_value!r} scans without a cluster, and only manifest_paths are read: "
                "give manifest_paths"
            )
    if "manifests" in sources and not paths:
        raise InvalidInput("sources has manifests but manifest_paths is not given")
    if paths and "manifests" not in sources:
        raise InvalidInput(f"manifest_paths is given but sources {list(sources)} leaves out manifests")
    if ("manifests" in sources or "helm" in sources) and not manifests.HAS_YAML:
        manifests.require_yaml()
    fail = params.get("fail_on_findings")
    fail = False if fail is None else fail
    if not isinstance(fail, bool):
        raise InvalidInput(f"fail_on_findings {shorten(fail)} is not a boolean")
    return Options(target, current, tuple(paths), sources, explicit, fail)


# -- the sources ---------------------------------------------------------------------------------------------


class Scan:
    """One run over the selected sources, collecting into one Collector."""

    def __init__(
        self,
        options: Options,
        collector: Collector,
        reader: Optional[cluster.ClusterReader],
        warn: Callable[[str], None],
    ) -> None:
        self.options = options
        self.collector = collector
        self.reader = reader
        self.warn = warn
        self.status: dict[str, dict[str, Any]] = {
            source: {"read": False, "scanned": 0, "findings": 0, "note": "not selected"} for source in SOURCES
        }

    def run(self) -> None:
        steps = {
            "metrics": self.metrics,
            "last_applied": self.last_applied,
            "helm": self.helm,
            "manifests": self.manifests,
        }
        for source in self.options.sources:
            before = len(self.collector.findings)
            entry = self.status[source]
            entry.update(read=True, note=None)
            try:
                steps[source](entry)
            except ApiError as exc:
                if self.options.explicit or not cluster.is_unreadable(exc):
                    raise ApiError(f"sources {source}: {exc.message}", **exc.details) from exc
                entry.update(read=False, note=exc.message)
                self.warn(f"api_removals: source {source} skipped: {exc.message}")
            entry["findings"] = len(self.collector.findings) - before

    def _reader(self) -> cluster.ClusterReader:
        if self.reader is None:
            raise ClusterOpsError("a cluster source without a connection")  # validate() prevents it
        return self.reader

    def metrics(self, entry: dict[str, Any]) -> None:
        for labels in cluster.requested_deprecated_apis(self._reader()):
            entry["scanned"] += 1
            group, version = labels.get("group", ""), labels.get("version", "")
            resource, subresource = labels.get("resource", ""), labels.get("subresource", "")
            row = lookup_resource(group, version, resource)
            removed = _release(labels.get("removed_release"))
            if row is not None:
                removed = minor(row.removed_in)
            if removed is None or not version or not resource:
                continue  # deprecated, but no release removes it
            self.collector.add(
                "metrics",
                row,
                f"{group}/{version}" if group else version,
                row.kind if row else None,
                None,
                None,
                removed_in=removed,
                unique=("metrics", group, version, resource, subresource),
                resource=resource,
                subresource=subresource or None,
            )

    def last_applied(self, entry: dict[str, Any]) -> None:
        reader = self._reader()
        kinds = sorted({row.kind for row in REMOVALS if row.persisted and self.collector.matters(row)})
        read, unserved = [], []
        for kind in kinds:
            rows = [row for row in REMOVALS if row.kind == kind]
            candidates = list_candidates(rows, self.collector.current)
            served, items = cluster.list_served(reader, candidates, rows[0].resource, kind, PAGE_SIZES.get(kind))
            if served is None:
                unserved.append(kind)
                continue
            read.append(f"{kind} ({served})")
            needles = tuple(json.dumps(row.api_version) for row in rows)  # '"extensions/v1beta1"', quotes and all
            for item in items:
                entry["scanned"] += 1
                applied = cluster.last_applied_of(item, needles)
                if applied is None:
                    continue
                row = lookup(*applied)
                if row is None:
                    continue
                metadata = item.get("metadata") or {}
                name, namespace = metadata.get("name"), metadata.get("namespace")
                self.collector.add(
                    "last_applied",
                    row,
                    applied[0],
                    applied[1],
                    name,
                    namespace,
                    unique=("last_applied", kind, namespace, name),
                )
        entry["kinds"] = read
        if unserved:
            entry["note"] = f"not served by this API server: {', '.join(unserved)}"

    def helm(self, entry: dict[str, Any]) -> None:
        reader = self._reader()
        latest, seen = cluster.latest_helm_releases(reader)
        entry["release_secrets"] = seen
        for (namespace, release), (revision, secret_name) in sorted(latest.items()):
            where = f"Helm release {namespace}/{release} revision {revision}"
            try:
                secret = cluster.read_secret(reader, namespace, secret_name)
            except ApiError as exc:
                if exc.details.get("status") == 404:  # uninstalled or superseded while we read
                    continue
                raise
            if secret.get("type") != cluster.HELM_TYPE:
                continue
            try:
                decoded = helm.decode_release((secret.get("data") or {}).get("release"))
                manifest = decoded.get("manifest") or ""
                if not isinstance(manifest, str):
                    raise helm.BadRelease("its manifest is not a string")
                entry["scanned"] += 1
                chart = helm.chart_of(decoded)
                for index, document, template in manifests.helm_documents(manifest, where):
                    found, _reason = manifests.objects_of(document, index, template)
                    for obj in found:
                        row = lookup(obj.api_version, obj.kind)
                        if row is None:
                            continue
                        namespace_of = obj.namespace or (namespace if row.namespaced else None)
                        self.collector.add(
                            "helm",
                            row,
                            obj.api_version,
                            obj.kind,
                            obj.name,
                            namespace_of,
                            release=f"{namespace}/{release}",
                            revision=revision,
                            chart=chart,
                            document=index,
                            template=template,
                        )
            except (helm.BadRelease, manifests.Unreadable) as exc:
                self.warn(f"api_removals: {where} skipped: {exc.message}")

    def manifests(self, entry: dict[str, Any]) -> None:
        files = documents = objects = 0
        ignored: list[str] = []
        warned = 0
        for path in manifests.walk(list(self.options.manifest_paths)):
            files += 1
            found_here, reasons = 0, []
            try:
                for index, document in manifests.read_file(path):
                    documents += 1
                    found, reason = manifests.objects_of(document, index)
                    if reason:
                        reasons.append(reason)
                    for obj in found:
                        found_here += 1
                        row = lookup(obj.api_version, obj.kind)
                        if row is not None:
                            self.collector.add(
                                "manifests",
                                row,
                                obj.api_version,
                                obj.kind,
                                obj.name,
                                obj.namespace,
                                file=path,
                                document=obj.document,
                                item=obj.item,
                            )
            except manifests.Unreadable as exc:
                reasons.append(exc.message[len(path) + 2 :] if exc.message.startswith(path) else exc.message)
            objects += found_here
            if reasons:
                line = f"{path}: {'; '.join(reasons[:3])}" + (
                    f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
                )
                if len(ignored) < MAX_IGNORED:
                    ignored.append(line)
                if warned < MAX_WARNINGS:
                    self.warn(f"api_removals: ignored in {line}")
                warned += 1
        if warned > MAX_WARNINGS:
            self.warn(f"api_removals: and {warned - MAX_WARNINGS} more files with ignored YAML (see sources.manifests)")
        entry.update(scanned=objects, files=files, documents=documents, ignored=ignored, ignored_files=warned)


def _release(text: Optional[str]) -> Optional[Version]:
    """The metric's ``removed_release`` label (``1.22``) as a minor, None when empty or odd."""
    if not text:
        return None
    try:
        parsed = Version.parse(text, "removed_release")
    except InvalidInput:
        return None
    return Version(parsed.major, parsed.minor)


def _stability(api_version: str) -> tuple[int, int, int]:
    """v1 > v1beta3 > v1beta1 > v1alpha1: the order in which versions are tried for a list."""
    version = api_version.rpartition("/")[2]
    number, stage, rest = version[1:], 2, 0
    for name, rank in (("alpha", 0), ("beta", 1)):
        if name in version:
            number, _stage, tail = version[1:].partition(name)
            stage, rest = rank, int(tail or 0)
    return int(number or 0), stage, rest


def list_candidates(rows: Iterable[Removal], current: Version) -> list[str]:
    """The API versions to list a kind at, best first: every version the table knows for it (removed ones and
    replacements) that ``current`` still serves, stable and long-lived first."""
    rows = list(rows)
    removed_in = {row.api_version: minor(row.removed_in) for row in rows}
    versions = {row.api_version for row in rows} | {row.replacement for row in rows if row.replacement}
    served = [
        v
        for v in versions
        if v not in removed_in or (removed_in[v].major, removed_in[v].minor) > (current.major, current.minor)
    ]

    def key(api_version: str) -> tuple[Any, ...]:
        removal = removed_in.get(api_version)
        return (removal is None, removal.minor if removal else 0, _stability(api_version), api_version)

    return sorted(served, key=key, reverse=True)


# -- the module's entry point --------------------------------------------------------------------------------


def summary(result: dict[str, Any], shown: int = SHOWN) -> str:
    """One line: how many findings, on which path, and the first few."""
    findings = result["findings"]
    count = len(findings)
    line = (
        f"api_removals: {count} object{'s' if count != 1 else ''} use{'s' if count == 1 else ''} API versions "
        f"removed on the way from {result['cluster_version']} to {result['target_version']}: "
    )
    line += "; ".join(describe(entry, with_migration=False) for entry in findings[:shown])
    if count > shown:
        line += f"; and {count - shown} more (see lines)"
    return line


def run(
    params: dict[str, Any],
    warn: Callable[[str], None] = lambda message: None,
    connect: Optional[Callable[[dict[str, Any]], Any]] = None,
    cluster_versions: Optional[Callable[[Any], dict[str, Any]]] = None,
) -> dict[str, Any]:
    """The module's logic: validate, find the path, scan the sources, report (and fail when asked to)."""
    started = time.monotonic()
    options = validate(params)
    reader = None
    if options.current is not None:
        versions: dict[str, Any] = {"kube_apiserver": [options.current]}
    else:
        if connect is None or cluster_versions is None:
            raise ClusterOpsError("api_removals needs a connection to read the cluster")  # wiring, not input
        client = connect(params)
        reader = cluster.ClusterReader(client, timeout=SCAN_TIMEOUT)
        versions = cluster_versions(client)
        if not versions.get("kube_apiserver"):  # no control-plane pods to read (a managed cluster): ask the server
            versions = {"kube_apiserver": [cluster.server_minor(reader)]}
    planned = plan(versions, options.target)
    if planned.downgrade:
        raise InvalidInput(
            f"target_version {shorten(params['target_version'])} is older than the control plane's "
            f"{planned.control_plane}: there is no upgrade path to scan"
        )
    collector = Collector(planned.current, planned.hops)
    scan = Scan(options, collector, reader, warn)
    scan.run()
    counts = {source: scan.status[source]["findings"] for source in SOURCES}
    counts["total"] = len(collector.findings)
    result = {
        "changed": False,
        "cluster_version": str(planned.current),
        "target_version": str(planned.target),
        "path": [str(hop) for hop in planned.hops],
        "findings": collector.findings,
        "by_hop": collector.by_hop(),
        "already_removed": collector.already_removed,
        "counts": counts,
        "sources": scan.status,
        "lines": [entry["line"] for entry in collector.findings],
        "duration": round(time.monotonic() - started, 3),
    }
    if options.fail_on_findings and collector.findings:
        raise RemovalsFound(summary(result), **{k: v for k, v in result.items() if k != "changed"})
    return result
