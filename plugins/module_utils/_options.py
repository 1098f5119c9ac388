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

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput


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


# Longer than any maintenance step, and far inside what clocks, datetimes and subprocess timeouts represent.
MAX_SECONDS = 7 * 24 * 3600


def check_range(name: str, value: float, low: float, high: float, unit: str = "") -> None:
    """InvalidInput naming the option when ``value`` is outside ``[low, high]``."""
    if not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        raise InvalidInput(f"{name} must be between {low:g} and {high:g}{suffix}, got {value!r}")


def check_seconds(name: str, value: float, allow_zero: bool = False, high: float = MAX_SECONDS) -> None:
    """A duration in seconds: positive (or zero when allowed) and at most ``high`` (a week by default)."""
    if value < 0 or (value == 0 and not allow_zero):
        kind = "zero or a positive" if allow_zero else "a positive"
        raise InvalidInput(f"{name} must be {kind} number of seconds, got {value!r}")
    if value > high:
        days = f" ({high / 86400:g} days)" if high >= 86400 else ""
        raise InvalidInput(f"{name} {value!r} is too long: at most {high:g} seconds{days}")
