"""Field validation with the schemas ``schemagen`` derives from the official client's models.

A real API server decodes a request into its Go type: fields the type does not have are dropped, and
reported according to ``fieldValidation`` (``Strict``: the request fails; ``Warn``, the default: one
``Warning`` header each; ``Ignore``: silently), as are fields given twice in the same JSON object.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from . import schemagen

log = logging.getLogger("apiserver.schema")
SCALAR_TYPES = set(schemagen.SCALARS.values())


class FieldDict(dict):
    """A decoded JSON object that remembers its keys in order, repeats included (to report duplicates)."""

    __slots__ = ("keys_in_order",)

    def __init__(self, pairs: list[tuple[str, Any]]):
        super().__init__(pairs)
        self.keys_in_order = [k for k, _ in pairs]


def loads(raw: bytes) -> Any:
    return json.loads(raw, object_pairs_hook=FieldDict)


class Schemas:
    def __init__(self, data: dict[str, Any]):
        self.roots: dict[str, str] = data["roots"]
        self.models: dict[str, dict[str, Any]] = data["models"]

    def model(self, api_version: str, kind: str) -> str | None:
        return self.roots.get(f"{api_version}/{kind}")

    def check(self, model: str, obj: Any, sort_keys: bool = False) -> tuple[Any, list[str]]:
        """(obj without unknown fields, problems in the decoder's order: document order, or sorted keys)."""
        problems: list[str] = []
        return self._walk(model, obj, "", problems, sort_keys), problems

    def _walk(self, kind: Any, value: Any, path: str, problems: list[str], sort_keys: bool) -> Any:
        if isinstance(kind, list):
            item = kind[1]
            if kind[0] == "list" and isinstance(value, list):
                return [self._walk(item, v, f"{path}[{i}]", problems, sort_keys) for i, v in enumerate(value)]
            if kind[0] == "map" and isinstance(value, dict):
                return {k: self._walk(item, value[k], f"{path}.{k}", problems, sort_keys)
                        for k in self._keys(value, path, problems, sort_keys, None)}  # fmt: skip
            return value
        if kind in SCALAR_TYPES or not isinstance(value, dict):
            return value
        fields = self.models[kind]["fields"]
        return {k: self._walk(fields[k][0], value[k], f"{path}.{k}" if path else k, problems, sort_keys)
                for k in self._keys(value, path, problems, sort_keys, fields)}  # fmt: skip

    @staticmethod
    def _keys(value: dict, path: str, problems: list[str], sort_keys: bool, fields: dict | None) -> list[str]:
        """The keys to keep; unknown (fields given) and duplicate keys are reported as the Go decoder does:
        a field both unknown and repeated only as unknown."""
        order = getattr(value, "keys_in_order", None) or list(value)
        if sort_keys:
            order = sorted(order)
        kept: list[str] = []
        seen: set[str] = set()
        for key in order:
            where = f"{path}.{key}" if path else key
            if fields is not None and key not in fields:
                if key not in seen:
                    problems.append(f'unknown field "{where}"')
            elif key in seen:
                problems.append(f'duplicate field "{where}"')
            else:
                kept.append(key)
            seen.add(key)
        return kept

    def duplicates(self, obj: Any, path: str = "") -> list[str]:
        """Duplicate keys anywhere in a decoded document (a patch), in document order."""
        found: list[str] = []
        if isinstance(obj, dict):
            seen: set[str] = set()
            for key in getattr(obj, "keys_in_order", None) or list(obj):
                where = f"{path}.{key}" if path else key
                if key in seen:
                    found.append(f'duplicate field "{where}"')
                seen.add(key)
            for key, item in obj.items():
                found += self.duplicates(item, f"{path}.{key}" if path else key)
        elif isinstance(obj, list):
            for i, item in enumerate(obj):
                found += self.duplicates(item, f"{path}[{i}]")
        return found


def json_patch_problems(ops: Any) -> list[str]:
    """The JSON patch operations' own unknown or repeated fields (``json patch unknown field "[0].foo"``)."""
    problems: list[str] = []
    for i, op in enumerate(ops if isinstance(ops, list) else []):
        if not isinstance(op, dict):
            continue
        seen: set[str] = set()
        for key in getattr(op, "keys_in_order", None) or list(op):
            if key not in ("op", "path", "value", "from"):
                problems.append(f'json patch unknown field "[{i}].{key}"')
            elif key in seen:
                problems.append(f'json patch duplicate field "[{i}].{key}"')
            seen.add(key)
    return problems


def load(path: Path = schemagen.DEFAULT_FILE) -> Schemas | None:
    """The schemas file, generated (again) first when the ``kubernetes`` package is here and the file is missing
    or stale; None (no field validation) when neither works."""
    data = None
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            data = None
    try:
        current = schemagen.fingerprint()
    except ImportError:
        current = None
    if current is not None and (data is None or data.get("fingerprint") != current):
        schemagen.write(path)
        data = json.loads(path.read_text())
    if data is None:
        log.warning("no API schemas (%s, and no kubernetes package to generate it): fields are not validated", path)
        return None
    return Schemas(data)


def go_value(value: Any) -> str:
    """Go's ``%+v`` of a decoded JSON value (maps print with sorted keys), as the patch handler's messages show."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
