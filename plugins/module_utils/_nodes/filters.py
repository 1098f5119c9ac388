# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which pods a drain evicts, skips or refuses: kubectl's drain filters, in kubectl's order and words.

Order (k8s.io/kubectl/pkg/drain/filters.go): already deleting -> DaemonSet -> mirror -> local storage ->
unreplicated. The first filter that does not let a pod through decides; refusals are collected for all
pods so one failure names every pod that blocks the drain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
DAEMONSET_FATAL = "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
LOCAL_STORAGE_FATAL = "cannot delete Pods with local storage (use --delete-emptydir-data to override)"
UNMANAGED_FATAL = "cannot delete Pods that declare no controller (use --force to override)"
ORPHAN_FATAL = "cannot delete Pods whose DaemonSet no longer exists (use --force to override)"
DAEMONSET_SKIP = "DaemonSet-managed"
MIRROR_SKIP = "mirror pod"
DELETING_SKIP = "deletion requested more than {0}s ago (skip_wait_for_delete_timeout)"
FINISHED_PHASES = ("Succeeded", "Failed")

# Given a pod's namespace and its DaemonSet's name: True when it exists, False on 404, raises otherwise.
DaemonSetExists = Callable[[str, str], bool]


@dataclass
class FilterOptions:
    ignore_daemonsets: bool = False
    delete_emptydir_data: bool = False
    force: bool = False
    skip_wait_for_delete_timeout: int = 0


@dataclass
class Plan:
    """The verdict on every pod of the node."""

    evict: list[dict[str, Any]] = field(default_factory=list)
    delete: list[dict[str, Any]] = field(default_factory=list)  # finished pods: deleted, never evicted
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"pod", "reason"}
    refused: dict[str, list[str]] = field(default_factory=dict)  # kubectl's message -> pods
    warnings: list[str] = field(default_factory=list)

    def refusal_lines(self) -> list[str]:
        return [f"{message}: {', '.join(pods)}" for message, pods in self.refused.items()]


def pod_key(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def controller_of(pod: dict[str, Any]) -> Optional[dict[str, Any]]:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_finished(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in FINISHED_PHASES


def has_local_storage(pod: dict[str, Any]) -> bool:
    return any("emptyDir" in volume for volume in (pod.get("spec") or {}).get("volumes") or [])


def parse_time(value: Optional[str]) -> Optional[datetime]:
    if not value:
        return None
    try:
        return datetime.strptime(value.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def deleting_for_longer_than(pod: dict[str, Any], seconds: int, now: Optional[datetime] = None) -> bool:
    """kubectl's shouldSkipPod: a deletionTimestamp older than ``seconds`` (0 disables the check)."""
    stamp = parse_time((pod.get("metadata") or {}).get("deletionTimestamp"))
    if seconds <= 0 or stamp is None:
        return False
    return ((now or datetime.now(timezone.utc)) - stamp).total_seconds() > seconds


def classify(
    pods: list[dict[str, Any]],
    options: FilterOptions,
    daemonset_exists: DaemonSetExists,
    now: Optional[datetime] = None,
) -> Plan:
    """Sort the node's pods into evict / delete / skipped / refused, kubectl's filters in kubectl's order."""
    plan = Plan()
    for pod in pods:
        key = pod_key(pod)
        verdict = _verdict(pod, options, daemonset_exists, now)
        if verdict is None:
            (plan.delete if is_finished(pod) else plan.evict).append(pod)
        elif verdict[0] == "skip":
            plan.skipped.append({"pod": key, "reason": verdict[1]})
        elif verdict[0] == "warn":
            plan.warnings.append(f"{key}: {verdict[1]}")
            (plan.delete if is_finished(pod) else plan.evict).append(pod)
        else:
            plan.refused.setdefault(verdict[1], []).append(key)
    return plan


def _verdict(
    pod: dict[str, Any], options: FilterOptions, daemonset_exists: DaemonSetExists, now: Optional[datetime]
) -> Optional[tuple[str, str]]:
    """None to let the pod through, or (skip|warn|refuse, reason) from the first filter that has a say."""
    if deleting_for_longer_than(pod, options.skip_wait_for_delete_timeout, now):
        return "skip", DELETING_SKIP.format(options.skip_wait_for_delete_timeout)
    finished = is_finished(pod)
    owner = controller_of(pod)
    warning = None
    if owner and owner.get("kind") == "DaemonSet" and not finished:
        namespace = (pod.get("metadata") or {}).get("namespace") or ""
        if not daemonset_exists(namespace, owner.get("name") or ""):
            # An orphan: its DaemonSet is gone, nothing will recreate it; kubectl deletes it only with --force.
            if not options.force:
                return "refuse", ORPHAN_FATAL
            warning = f"DaemonSet {owner.get('name')!r} not found"
        elif not options.ignore_daemonsets:
            return "refuse", DAEMONSET_FATAL
        else:
            return "skip", DAEMONSET_SKIP
    if MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {}):
        return "skip", MIRROR_SKIP
    if has_local_storage(pod) and not finished and not options.delete_emptydir_data:
        return "refuse", LOCAL_STORAGE_FATAL
    if owner is None and not finished:
        if not options.force:
            return "refuse", UNMANAGED_FATAL
        warning = "deleting Pods that declare no controller"
    return ("warn", warning) if warning else None


_KEY = r"([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?"
_VALUE = r"([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?"
_TERM = re.compile(
    rf"^(?:!\s*(?P<absent>{_KEY})"
    rf"|(?P<key>{_KEY})\s*(?:(?P<op>==|!=|=)\s*(?P<value>{_VALUE})"
    rf"|\s+(?P<setop>in|notin)\s*\(\s*(?P<values>{_VALUE}(\s*,\s*{_VALUE})*)\s*\))?)$"
)


def split_selector(selector: str) -> list[str]:
    """Split a label selector on the commas that are not inside ``(...)``."""
    terms, depth, current = [], 0, ""
    for char in selector:
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    terms.append(current.strip())
    return terms


def validate_selector(selector: Optional[str]) -> Optional[str]:
    """The selector, stripped, or InvalidInput naming the bad term (the grammar of labels.Parse)."""
    if selector is None or not selector.strip():
        return None
    for term in split_selector(selector):
        if not _TERM.match(term):
            raise InvalidInput(f"pod_selector {selector!r} is not a valid label selector (bad term {term!r})")
    return selector.strip()
