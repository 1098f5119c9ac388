# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource quantities and a pod's requests, counted the way kube-scheduler's NodeResourcesFit counts them."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1)}
_DECIMAL.update({"k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12)})
_DECIMAL.update({"P": Fraction(10**15), "E": Fraction(10**18)})
_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$"
)
# The scheduler counts CPU in millicores and every other resource in whole units (bytes for memory).
MILLI_RESOURCES = frozenset({"cpu"})


def parse_quantity(value: Any, resource: str = "") -> int:
    """A Kubernetes quantity (``100m``, ``1.5Gi``, ``2e3``, a number) as an integer: millicores for CPU, else units.

    Rounded up, as ``resource.Quantity.MilliValue()`` / ``Value()`` round.
    """
    if isinstance(value, bool):
        raise InvalidInput(f"{resource or 'quantity'}: {value!r} is not a quantity")
    if isinstance(value, (int, float)):
        amount = Fraction(value)
    else:
        match = _QUANTITY.match(str(value).strip())
        if not match:
            raise InvalidInput(f"{resource or 'quantity'}: {value!r} is not a quantity")
        number, exponent, suffix = match.groups()
        amount = Fraction(number)
        if exponent:
            amount *= Fraction(10) ** int(exponent[1:])
        elif suffix in _BINARY:
            amount *= _BINARY[suffix]
        else:
            amount *= _DECIMAL[suffix or ""]
    if resource in MILLI_RESOURCES:
        amount *= 1000
    return math.ceil(amount)


def _requests(container: dict[str, Any]) -> dict[str, int]:
    """A container's requests; a resource with a limit but no request requests its limit (the API's defaulting)."""
    resources = container.get("resources") or {}
    merged = dict(resources.get("limits") or {})
    merged.update(resources.get("requests") or {})
    return {name: parse_quantity(value, name) for name, value in merged.items()}


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for name, amount in more.items():
        total[name] = total.get(name, 0) + amount


def _maximum(total: dict[str, int], more: dict[str, int]) -> None:
    for name, amount in more.items():
        total[name] = max(total.get(name, 0), amount)


def pod_requests(spec: dict[str, Any]) -> dict[str, int]:
    """What the scheduler reserves for a pod (``computePodResourceRequest``), plus one ``pods`` slot.

    The sum of the containers and of the sidecars (init containers with ``restartPolicy: Always``), or the largest
    ordinary init container plus the sidecars started before it, whichever is larger per resource, plus the pod's
    ``overhead``. Resources that no container requests are absent (zero).
    """
    total: dict[str, int] = {}
    for container in spec.get("containers") or ():
        _add(total, _requests(container))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or ():
        requested = _requests(container)
        if container.get("restartPolicy") == "Always":
            _add(sidecars, requested)
            continue
        running = dict(sidecars)
        _add(running, requested)
        _maximum(init_peak, running)
    _add(total, sidecars)
    _maximum(total, init_peak)
    _add(total, {name: parse_quantity(value, name) for name, value in (spec.get("overhead") or {}).items()})
    total = {name: amount for name, amount in total.items() if amount > 0}
    total["pods"] = 1
    return total


def node_allocatable(status: dict[str, Any]) -> dict[str, int]:
    """A node's ``status.allocatable`` (falling back to ``capacity``) as integers."""
    resources = status.get("allocatable") or status.get("capacity") or {}
    return {name: parse_quantity(value, name) for name, value in resources.items()}
