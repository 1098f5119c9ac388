# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A rollout's timeline: per node, its phases with when they started and ended, the batches, and a summary."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.phases import PHASES

REPORT_VERSION = 1


class Timeline:
    """Collects phase intervals as tasks start and end; ``report()`` is the JSON the page is drawn from."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started = clock()
        self.playbook = ""
        self.nodes: dict[str, list[dict[str, Any]]] = {}
        self.segment = 0  # one per play start: Ansible starts a play again for each of its serial batches
        self.plays: dict[int, str] = {}
        self._starts: dict[tuple[str, str], float] = {}

    def play_start(self, name: str) -> None:
        self.segment += 1
        self.plays[self.segment] = name

    def task_start(self, host: str, task_id: str) -> None:
        self._starts[host, task_id] = self.clock()

    def task_end(
        self, host: str, task_id: str, phase: Optional[str], status: str, detail: Optional[dict[str, Any]] = None
    ) -> None:
        started = self._starts.pop((host, task_id), None)
        if phase is None or started is None:
            return
        now = self.clock()
        intervals = self.nodes.setdefault(host, [])
        last = intervals[-1] if intervals else None
        if last is not None and last["phase"] == phase and last["segment"] == self.segment and not detail:
            last["end"] = round(now, 3)  # the next task of the same phase: one bar
            if status != "ok":
                last["status"] = status
            return
        entry: dict[str, Any] = {
            "phase": phase,
            "start": round(started, 3),
            "end": round(now, 3),
            "status": status,
            "segment": self.segment,
        }
        if detail:
            entry["detail"] = detail
        intervals.append(entry)

    def batches(self) -> list[dict[str, Any]]:
        """The nodes drained within one play start, in the order their drains began."""
        found: dict[int, dict[str, Any]] = {}
        for host, intervals in self.nodes.items():
            for entry in intervals:
                if entry["phase"] != "drain":
                    continue
                segment = entry["segment"]
                batch = found.setdefault(
                    segment,
                    {"play": self.plays.get(segment, ""), "segment": segment, "nodes": [], "start": entry["start"]},
                )
                if host not in batch["nodes"]:
                    batch["nodes"].append(host)
                batch["start"] = min(batch["start"], entry["start"])
        ordered = sorted(found.values(), key=lambda b: b["start"])
        for number, batch in enumerate(ordered, 1):
            batch["number"] = number
            batch["nodes"] = sorted(batch["nodes"])
            batch["end"] = max(
                e["end"] for host in batch["nodes"] for e in self.nodes[host] if e["segment"] == batch["segment"]
            )
        return ordered

    def report(self, stats: Optional[dict[str, Any]] = None, ok: bool = True) -> dict[str, Any]:
        ended = self.clock()
        batches = self.batches()
        batch_of: dict[str, int] = {}
        for batch in batches:
            for host in batch["nodes"]:
                batch_of.setdefault(host, batch["number"])
        order = sorted(self.nodes, key=lambda h: (batch_of.get(h, 1 << 30), self.nodes[h][0]["start"], h))
        return {
            "version": REPORT_VERSION,
            "playbook": self.playbook,
            "ok": ok,
            "started": round(self.started, 3),
            "ended": round(ended, 3),
            "duration": round(ended - self.started, 1),
            "phases": list(PHASES),
            "nodes": {host: self.nodes[host] for host in order},
            "batches": batches,
            "summary": summary(self.nodes, stats or {}),
        }


def _add(total: dict[str, int], key: str, amount: int) -> None:
    total[key] = total.get(key, 0) + amount


def summary(nodes: dict[str, list[dict[str, Any]]], stats: dict[str, Any]) -> dict[str, Any]:
    """Versions, duration and the etcd snapshot as the playbooks hand them to ``set_stats``; evictions and budget
    retries from the drains; evictions per budget as the plans of a planned rollout counted them."""
    evictions: dict[str, int] = {}
    by_namespace: dict[str, int] = {}
    retries: dict[str, int] = {}
    for host, intervals in nodes.items():
        for entry in intervals:
            detail = entry.get("detail") or {}
            for pod in detail.get("evicted") or ():
                _add(evictions, host, 1)
                _add(by_namespace, str(pod).split("/", 1)[0], 1)
            for budget, count in ((detail.get("retries") or {}).get("pdbs") or {}).items():
                _add(retries, budget, int(count))
    planned: dict[str, int] = {}
    for plan in stats.get("rollout_plans") or ():
        for budget, facts in (plan.get("budgets") or {}).items():
            for node in plan.get("next") or ():
                count = (facts.get("pods") or {}).get(node, 0)
                if count:
                    _add(planned, budget, int(count))
    upgrade = stats.get("upgrade") or {}
    patch = stats.get("os_patch") or {}
    return {
        "target_version": upgrade.get("target_version"),
        "path": upgrade.get("path"),
        "versions_before": upgrade.get("versions_before"),
        "versions_after": upgrade.get("versions_after"),
        "etcd_snapshot": upgrade.get("etcd_snapshot"),
        "duration": upgrade.get("duration"),
        "nodes_patched": patch.get("nodes_patched"),
        "evictions": dict(sorted(evictions.items())),
        "evictions_total": sum(evictions.values()),
        "evictions_by_namespace": dict(sorted(by_namespace.items())),
        "evictions_by_budget": dict(sorted(planned.items())),
        "retries_by_budget": dict(sorted(retries.items())),
        "plans": list(stats.get("rollout_plans") or ()),
    }
