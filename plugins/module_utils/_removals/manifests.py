# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects in manifests: files of a GitOps checkout and the manifest string of a Helm release.

A file is ``*.yaml``, ``*.yml`` or ``*.json`` (any name when the path given is the file itself); a YAML file may
hold several documents; a ``List`` (``kind: List``, ``DeploymentList`` ...) is read item by item. What is not a
Kubernetes object (Helm values, a document without ``apiVersion``/``kind``, a template that is not YAML yet) is
ignored with a reason, never an error. Only the top-level fields are looked at, so YAML anchors and big files
cost their parse and nothing more.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ClusterOpsError, InvalidInput

try:
    import yaml

    HAS_YAML = True
    try:
        _LOADER: Any = yaml.CSafeLoader
    except AttributeError:  # PyYAML built without libyaml
        _LOADER = yaml.SafeLoader
    YAML_ERRORS: tuple[type[BaseException], ...] = (yaml.YAMLError,)
except ImportError:
    HAS_YAML = False
    YAML_ERRORS = ()

EXTENSIONS = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a manifest larger than this is skipped with a warning, not read


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object found in a manifest, and where: ``document`` (0-based) and ``item`` (in a List)."""

    api_version: str
    kind: str
    name: Optional[str]
    namespace: Optional[str]
    document: int
    item: Optional[int] = None
    source: Optional[str] = None  # Helm's "# Source:" comment: the chart template the document came from


class Unreadable(ClusterOpsError):
    """A manifest file or document that cannot be parsed; the message says where and why."""


def require_yaml() -> None:
    if not HAS_YAML:
        raise ClusterOpsError("reading manifests needs the Python library PyYAML on the host that runs the module")


def check_paths(paths: Any) -> list[str]:
    """``manifest_paths``, validated: a list of existing files or directories."""
    if not isinstance(paths, list):
        raise InvalidInput(f"manifest_paths {paths!r} is not a list of paths")
    checked = []
    for index, path in enumerate(paths):
        if not isinstance(path, str) or not path.strip():
            raise InvalidInput(f"manifest_paths[{index}] {path!r} is not a path")
        if not os.path.exists(path):
            raise InvalidInput(f"manifest_paths[{index}] {path!r} does not exist (on the host that runs the module)")
        checked.append(path)
    return checked


def walk(paths: list[str]) -> Iterator[str]:
    """Every manifest file under ``paths``, in a stable order; hidden directories (``.git``) are skipped and
    symbolic links to directories are not followed (no loops)."""
    seen: set[str] = set()
    for path in paths:
        if os.path.isfile(path):
            candidates: Iterator[str] = iter([path])
        else:
            candidates = _files_under(path)
        for candidate in candidates:
            real = os.path.realpath(candidate)
            if real not in seen:
                seen.add(real)
                yield candidate


def _files_under(root: str) -> Iterator[str]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(EXTENSIONS) and not name.startswith("."):
                yield os.path.join(directory, name)


def objects_of(document: Any, index: int, source: Optional[str] = None) -> tuple[list[Manifest], Optional[str]]:
    """The Kubernetes objects of one parsed document (a List gives its items), or why there are none."""
    if document is None:
        return [], None  # an empty document: a trailing '---'
    if not isinstance(document, dict):
        return [], f"document {index} is a {type(document).__name__}, not a mapping"
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
        return [], f"document {index} has no apiVersion and kind"
    items = document.get("items")
    if kind.endswith("List") and isinstance(items, list):
        found = []
        for number, item in enumerate(items):
            entry = _manifest(item, index, number, source)
            if entry is not None:
                found.append(entry)
        return found, None
    entry = _manifest(document, index, None, source)
    return ([entry] if entry else []), None


def _manifest(obj: Any, index: int, item: Optional[int], source: Optional[str]) -> Optional[Manifest]:
    if not isinstance(obj, dict):
        return None
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    return Manifest(
        api_version.strip(),
        kind.strip(),
        str(name) if name is not None else None,
        str(namespace) if namespace is not None else None,
        index,
        item,
        source,
    )


def _where(exc: BaseException) -> str:
    """Where a YAML error is and what it is, in one line."""
    mark = getattr(exc, "problem_mark", None)
    problem = str(getattr(exc, "problem", None) or type(exc).__name__).replace("\n", " ")
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark is not None else problem


def read_file(path: str) -> Iterator[tuple[int, Any]]:
    """(index, document) of each document of a file; Unreadable when it cannot be parsed (the documents before
    the error were already given)."""
    require_yaml()
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise Unreadable(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if size > MAX_FILE_BYTES:
        raise Unreadable(f"{path}: {size} bytes, more than the {MAX_FILE_BYTES} a manifest may have")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise Unreadable(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    if path.lower().endswith(".json"):
        try:
            yield 0, json.loads(text)
        except ValueError as exc:
            raise Unreadable(f"{path}: not valid JSON ({exc})") from exc
        return
    yield from parse_documents(text, path)


def parse_documents(text: str, where: str) -> Iterator[tuple[int, Any]]:
    """(index, document) of each YAML document of ``text``; Unreadable names ``where`` and the line."""
    require_yaml()
    index = -1
    try:
        for index, document in enumerate(yaml.load_all(text, Loader=_LOADER)):  # index: used after the loop
            yield index, document
    except YAML_ERRORS as exc:
        raise Unreadable(f"{where}: not valid YAML{_after(index)} ({_where(exc)})") from exc
    except (ValueError, TypeError, RecursionError) as exc:  # constructors of odd scalars, deep nesting
        raise Unreadable(f"{where}: not valid YAML{_after(index)} ({type(exc).__name__}: {exc})") from exc


def _after(index: int) -> str:
    return f" after document {index}" if index >= 0 else ""


def helm_documents(manifest: str, where: str) -> Iterator[tuple[int, Any, Optional[str]]]:
    """(index, document, template) of a Helm release's manifest; the template from its ``# Source:`` line."""
    require_yaml()
    sources = _helm_sources(manifest)
    for index, document in parse_documents(manifest, where):
        yield index, document, sources[index] if index < len(sources) else None


def _helm_sources(manifest: str) -> list[Optional[str]]:
    """The ``# Source: chart/templates/x.yaml`` line of each document, in order (None where there is none)."""
    sources: list[Optional[str]] = []
    current: Optional[str] = None
    started = False
    for line in manifest.splitlines():
        if line.startswith("---"):
            if started:
                sources.append(current)
            current, started = None, True
            continue
        started = started or bool(line.strip())
        if line.startswith("# Source: ") and current is None:
            current = line[len("# Source: ") :].strip()
    if started:
        sources.append(current)
    return sources
