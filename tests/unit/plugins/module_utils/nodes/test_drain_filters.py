# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubectl's drain filters, table-driven: which pods are evicted, deleted, skipped or refused, and why."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.filters import (
    DAEMONSET_FATAL,
    LOCAL_STORAGE_FATAL,
    ORPHAN_FATAL,
    UNMANAGED_FATAL,
    FilterOptions,
    classify,
    validate_selector,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.nodes.drain_fake import make_pod

NOW = datetime(2026, 1, 1, 0, 1, 0, tzinfo=timezone.utc)  # 60 s after the fake's deletionTimestamp
LIVE_DAEMONSETS = {("default", "agent")}


def daemonset_exists(namespace, name):
    return (namespace, name) in LIVE_DAEMONSETS


CASES = [
    # (id, pod, options, expected verdict: evict | delete | skip:<reason part> | refuse:<message>)
    ("replicated", make_pod("a"), {}, "evict"),
    ("daemonset refused", make_pod("a", owner="DaemonSet", owner_name="agent"), {}, f"refuse:{DAEMONSET_FATAL}"),
    (
        "daemonset ignored",
        make_pod("a", owner="DaemonSet", owner_name="agent"),
        {"ignore_daemonsets": True},
        "skip:DaemonSet",
    ),
    ("orphan daemonset pod refused", make_pod("a", owner="DaemonSet", owner_name="gone"), {}, f"refuse:{ORPHAN_FATAL}"),
    (
        "orphan refused even with ignore_daemonsets",
        make_pod("a", owner="DaemonSet", owner_name="gone"),
        {"ignore_daemonsets": True},
        f"refuse:{ORPHAN_FATAL}",
    ),
    ("orphan forced", make_pod("a", owner="DaemonSet", owner_name="gone"), {"force": True}, "evict"),
    (
        "finished daemonset pod deleted",
        make_pod("a", owner="DaemonSet", owner_name="agent", phase="Failed"),
        {},
        "delete",
    ),
    ("mirror skipped", make_pod("a", owner="Node", mirror=True), {}, "skip:mirror"),
    ("unmanaged mirror skipped", make_pod("a", owner=None, mirror=True), {}, "skip:mirror"),
    ("emptyDir refused", make_pod("a", empty_dir=True), {}, f"refuse:{LOCAL_STORAGE_FATAL}"),
    ("emptyDir allowed", make_pod("a", empty_dir=True), {"delete_emptydir_data": True}, "evict"),
    ("emptyDir finished", make_pod("a", empty_dir=True, phase="Succeeded"), {}, "delete"),
    ("unmanaged refused", make_pod("a", owner=None), {}, f"refuse:{UNMANAGED_FATAL}"),
    ("unmanaged forced", make_pod("a", owner=None), {"force": True}, "evict"),
    ("unmanaged finished", make_pod("a", owner=None, phase="Succeeded"), {}, "delete"),
    # kubectl's order: local storage is judged before the missing controller.
    ("emptyDir before unmanaged", make_pod("a", owner=None, empty_dir=True), {}, f"refuse:{LOCAL_STORAGE_FATAL}"),
    (
        "emptyDir allowed, unmanaged next",
        make_pod("a", owner=None, empty_dir=True),
        {"delete_emptydir_data": True},
        f"refuse:{UNMANAGED_FATAL}",
    ),
    # Already deleting for longer than skip_wait_for_delete_timeout: skipped before any other filter.
    (
        "long deleting skipped",
        make_pod("a", owner=None, deletion_timestamp="2026-01-01T00:00:00Z"),
        {"skip_wait_for_delete_timeout": 30},
        "skip:skip_wait_for_delete_timeout",
    ),
    (
        "recently deleting kept",
        make_pod("a", deletion_timestamp="2026-01-01T00:00:00Z"),
        {"skip_wait_for_delete_timeout": 90},
        "evict",
    ),
    ("deleting, option off", make_pod("a", deletion_timestamp="2026-01-01T00:00:00Z"), {}, "evict"),
]


@pytest.mark.parametrize("pod, options, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verdicts(pod, options, expected):
    plan = classify([pod], FilterOptions(**options), daemonset_exists, now=NOW)
    if expected == "evict":
        assert [p["metadata"]["name"] for p in plan.evict] == ["a"]
        assert not (plan.delete or plan.skipped or plan.refused)
    elif expected == "delete":
        assert [p["metadata"]["name"] for p in plan.delete] == ["a"]
        assert not (plan.evict or plan.skipped or plan.refused)
    elif expected.startswith("skip:"):
        assert len(plan.skipped) == 1 and expected[5:] in plan.skipped[0]["reason"]
        assert plan.skipped[0]["pod"] == "default/a"
        assert not (plan.evict or plan.delete or plan.refused)
    else:
        assert plan.refused == {expected[7:]: ["default/a"]}
        assert not (plan.evict or plan.delete or plan.skipped)


def test_every_refusal_is_collected_and_grouped_like_kubectl():
    pods = [
        make_pod("u1", owner=None),
        make_pod("u2", owner=None),
        make_pod("scratch", empty_dir=True),
        make_pod("ds", owner="DaemonSet", owner_name="agent"),
        make_pod("fine"),
    ]
    plan = classify(pods, FilterOptions(), daemonset_exists)
    assert plan.refused == {
        UNMANAGED_FATAL: ["default/u1", "default/u2"],
        LOCAL_STORAGE_FATAL: ["default/scratch"],
        DAEMONSET_FATAL: ["default/ds"],
    }
    assert f"{UNMANAGED_FATAL}: default/u1, default/u2" in plan.refusal_lines()
    assert [p["metadata"]["name"] for p in plan.evict] == ["fine"]


def test_forced_pods_carry_kubectl_warnings():
    plan = classify([make_pod("u", owner=None)], FilterOptions(force=True), daemonset_exists)
    assert plan.warnings == ["default/u: deleting Pods that declare no controller"]


def test_daemonset_lookup_errors_propagate():
    def broken(namespace, name):
        raise RuntimeError("API down")

    with pytest.raises(RuntimeError):
        classify([make_pod("ds", owner="DaemonSet")], FilterOptions(ignore_daemonsets=True), broken)


@pytest.mark.parametrize(
    "selector",
    ["app=web", "app==web", "app!=web", "tier", "!canary", "app in (web, api)", "env notin (prod),tier", "a.b/c-d=e_f"],
)
def test_valid_selectors(selector):
    assert validate_selector(selector) == selector


@pytest.mark.parametrize("selector", ["app=we b", "app in web", "=web", "app=(x)", "app in (a,b", "app=web,,x", "!"])
def test_malformed_selectors_name_the_bad_term(selector):
    with pytest.raises(InvalidInput, match=r"pod_selector .* is not a valid label selector"):
        validate_selector(selector)


def test_empty_selector_means_all():
    assert validate_selector("  ") is None and validate_selector(None) is None
