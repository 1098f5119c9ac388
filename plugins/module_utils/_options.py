# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module options declared once, as dataclass fields: the argument spec and the defaults come from one place."""

from __future__ import annotations

import dataclasses
from typing import Any

_NO_DEFAULT: Any = dataclasses.MISSING


def option(default: Any = _NO_DEFAULT, **spec: Any) -> Any:
    """A dataclass field that is also a module option; ``spec`` is its argument spec without the default
    (``type``, ``required``, ``aliases``, ``choices``, ``elements``, ``no_log``)."""
    if default is _NO_DEFAULT:
        return dataclasses.field(metadata={"argspec": spec})
    return dataclasses.field(default=default, metadata={"argspec": spec})


def argspec(options_class: type) -> dict[str, dict[str, Any]]:
    """The ``argument_spec`` of a dataclass whose fields were declared with ``option()``."""
    spec: dict[str, dict[str, Any]] = {}
    for field in dataclasses.fields(options_class):
        entry = dict(field.metadata["argspec"])
        if field.default is not dataclasses.MISSING and field.default is not None:
            entry["default"] = field.default
        spec[field.name] = entry
    return spec


def values(options_class: type, params: dict[str, Any]) -> dict[str, Any]:
    """The module parameters that belong to ``options_class`` and were given (None means not given)."""
    names = {field.name for field in dataclasses.fields(options_class)}
    return {name: value for name, value in params.items() if name in names and value is not None}
