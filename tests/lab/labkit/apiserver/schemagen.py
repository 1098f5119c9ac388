"""Generate the lab's API schemas from the official Python client's models (``kubernetes.client.models``).

``python -m labkit.apiserver.schemagen [FILE]`` (from the virtualenv that has the ``kubernetes`` package)
writes a compact JSON file: every model reachable from the kinds the lab serves, each field with its JSON
name (``attribute_map``), its type (``openapi_types``) and its description, and which model each
``group/version/Kind`` is. The API server reads that file (``labkit.apiserver.schema``) and needs no
``kubernetes`` package itself, so it runs as well under a plain Debian python3.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).with_name("schemas.json")  # generated, git-ignored
SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "datetime": "date-time",
           "date": "date", "bytes": "byte", "object": "any"}  # fmt: skip
LIST = re.compile(r"^List\[(.+)\]$")
MAP = re.compile(r"^Dict\[str, (.+)\]$")
# Kinds whose model is not V<version><Kind> in the client (the generator prefixes colliding names with the group)
MODEL_OVERRIDES = {("v1", "Event"): "CoreV1Event", ("authentication.k8s.io/v1", "TokenRequest"):
                   "AuthenticationV1TokenRequest"}  # fmt: skip


def fingerprint() -> str:
    """What the file depends on: this generator, the kinds served and the client's version (a change regenerates it)."""
    import kubernetes

    source = Path(__file__).read_bytes() + Path(__file__).with_name("resources.py").read_bytes()
    return hashlib.sha256(source + kubernetes.__version__.encode()).hexdigest()[:16]


def model_name(api_version: str, kind: str) -> str:
    override = MODEL_OVERRIDES.get((api_version, kind))
    if override:
        return override
    version = api_version.rpartition("/")[2]
    return f"{version[0].upper()}{version[1:]}{kind}"


def encode_type(spec: str) -> Any:
    """A client type string -> "string" | ... | model name | ["list", T] | ["map", T]."""
    spec = spec.strip()
    if spec in SCALARS:
        return SCALARS[spec]
    found = LIST.match(spec)
    if found:
        return ["list", encode_type(found.group(1))]
    found = MAP.match(spec)
    if found:
        return ["map", encode_type(found.group(1))]
    return spec


def describe(models: Any, name: str, out: dict[str, Any]) -> None:
    """Add model ``name`` and every model its fields reach to ``out``."""
    if name in out:
        return
    cls = getattr(models, name)
    doc = (cls.__doc__ or "").strip().split("\n\n")[0].strip()
    fields: dict[str, list[Any]] = {}
    out[name] = {"description": doc, "fields": fields}
    pydantic_fields = getattr(cls, "model_fields", {})
    for attr, type_spec in cls.openapi_types.items():
        encoded = encode_type(type_spec)
        info = pydantic_fields.get(attr)
        fields[cls.attribute_map[attr]] = [encoded, getattr(info, "description", None) or ""]
        for ref in referenced(encoded):
            describe(models, ref, out)


def referenced(encoded: Any) -> list[str]:
    if isinstance(encoded, list):
        return referenced(encoded[1])
    return [encoded] if encoded not in SCALARS.values() else []


def generate(kinds: list[tuple[str, str]]) -> dict[str, Any]:
    """``kinds``: (apiVersion, Kind) pairs; the result is what ``write`` stores."""
    import kubernetes.client.models as models

    out: dict[str, Any] = {}
    roots = {}
    for api_version, kind in kinds:
        name = model_name(api_version, kind)
        if hasattr(models, name):
            roots[f"{api_version}/{kind}"] = name
            describe(models, name, out)
    return {"fingerprint": fingerprint(), "roots": roots, "models": out}


def served_kinds() -> list[tuple[str, str]]:
    from .resources import RESOURCES, SCHEMA_EXTRA_KINDS

    kinds = []
    for r in RESOURCES:
        kinds.append((r.api_version, r.kind))
        for sub in r.subresources:
            group = sub.group if sub.group is not None else r.group
            version = sub.version or r.version
            kinds.append((f"{group}/{version}" if group else version, sub.kind))
    return list(dict.fromkeys([*kinds, *SCHEMA_EXTRA_KINDS]))


def write(path: Path = DEFAULT_FILE) -> Path:
    data = generate(served_kinds())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".schemas-")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, separators=(",", ":"))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)  # atomic: several API servers may start at once
    return path


def main() -> int:
    path = write(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FILE)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
