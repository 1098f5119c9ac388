# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How many disruptions a PodDisruptionBudget allows: its status, checked against its own spec and the pods."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class Budget:
    key: str  # namespace/name
    allowance: int  # disruptions the planner lets one batch spend
    disruptions_allowed: int  # status.disruptionsAllowed as read
    healthy: int  # selected pods Running and Ready
    desired: Optional[int]  # the fewest healthy pods its spec asks for, when the spec says

    def report(self) -> dict[str, Any]:
        return {
            "allowance": self.allowance,
            "disruptions_allowed": self.disruptions_allowed,
            "healthy": self.healthy,
            "desired_healthy": self.desired,
        }


def _scaled(value: Any, total: int) -> Optional[int]:
    """An IntOrString against ``total``: an int as is, ``"25%"`` rounded up (the disruption controller's rounding)."""
    if value is None:
        return None
    if isinstance(value, str) and value.endswith("%"):
        try:
            return math.ceil(float(value[:-1]) * total / 100)
        except ValueError:
            return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def desired_healthy(spec: dict[str, Any], expected: int) -> Optional[int]:
    """The fewest healthy pods the budget's spec asks for with ``expected`` pods (None when it says neither)."""
    if spec.get("maxUnavailable") is not None:
        unavailable = _scaled(spec["maxUnavailable"], expected)
        return None if unavailable is None else max(0, expected - unavailable)
    if spec.get("minAvailable") is not None:
        return _scaled(spec["minAvailable"], expected)
    return None


def budget_from(key: str, obj: dict[str, Any], selected: int, healthy: int) -> Budget:
    """A budget's allowance: ``status.disruptionsAllowed``, but never more than its spec allows with the ``healthy``
    pods seen now (a status the disruption controller has not updated yet may be ahead of the pods).

    ``selected`` counts the bound, unfinished pods it selects; ``status.expectedPods`` is preferred when set (the
    controller counts the scale of the pods' controllers there).
    """
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    allowed = int(status.get("disruptionsAllowed") or 0)
    expected = int(status.get("expectedPods") or 0) or selected
    desired = desired_healthy(spec, expected)
    allowance = allowed if desired is None else min(allowed, healthy - desired)
    return Budget(key, max(0, allowance), allowed, healthy, desired)
