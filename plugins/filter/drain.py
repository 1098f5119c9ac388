# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drain filters for playbooks; their docs are the ``<filter>.yml`` files beside this one."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError


def drain_refusals(blockers: Any, refused: Any) -> list[str]:
    """One line per pod that a drain would stop at, for the reasons in ``refused``."""
    if not isinstance(blockers, dict):
        raise AnsibleFilterError(f"drain_refusals: expected cluster_info's drain_blockers (a dict), got {blockers!r}")
    wanted = set(refused or [])
    lines = []
    for node in sorted(blockers):
        for pod in blockers[node] or []:
            reasons = [reason for reason in pod.get("reasons") or [] if reason in wanted]
            if not reasons:
                continue
            budgets = f" (budget {', '.join(pod['pdbs'])})" if pod.get("pdbs") else ""
            where = f"{pod.get('namespace')}/{pod.get('name')}"
            lines.append(f"a drain of {node} would stop at {where}: {', '.join(reasons)}{budgets}")
    return lines


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"drain_refusals": drain_refusals}
