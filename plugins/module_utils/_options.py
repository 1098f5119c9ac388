# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module options declared once, as dataclass fields: the argument spec and the defaults come from one place.

@dataclass
class Options:
    node: str = field(metadata=spec(type="str", required=True))
    timeout: int = field(default=300, metadata=spec(type="int"))

    ARGSPEC = argspec(Options)
    # {"node": {"type": "str", "required": True}, "timeout": {"type": "int", "default": 300}}
"""

from __future__ import annotations

import dataclasses
from typing import Any


def spec(**entry: Any) -> dict[str, Any]:
    """A field's ``metadata``: its argument spec without the default (``type``, ``required``, ``aliases``,
    ``choices``, ``elements``, ``no_log``); the default is the field's own."""
    return {"argspec": entry}


def argspec(options_class: type) -> dict[str, dict[str, Any]]:
    """The ``argument_spec`` of a dataclass whose fields carry ``spec()`` metadata."""
    result: dict[str, dict[str, Any]] = {}
    for field in dataclasses.fields(options_class):
        entry = dict(field.metadata["argspec"])
        if field.default is not dataclasses.MISSING and field.default is not None:
            entry["default"] = field.default
        result[field.name] = entry
    return result


def values(options_class: type, params: dict[str, Any]) -> dict[str, Any]:
    """The module parameters that belong to ``options_class`` and were given (None means not given)."""
    names = {field.name for field in dataclasses.fields(options_class)}
    return {name: value for name, value in params.items() if name in names and value is not None}
