# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_drain's orchestration on a fake API: refusals change nothing, check mode, idempotence, failures."""

from __future__ import annotations

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import (
    ClusterOpsError,
    InvalidInput,
    OperationTimeout,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes import evictor
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.drain import Drain, DrainOptions
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.filters import (
    LOCAL_STORAGE_FATAL,
    UNMANAGED_FATAL,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.nodes.drain_fake import FakeApi, make_pod

MUTATIONS = ("set_unschedulable", "evict", "delete_pod")


def cluster(allowed=1, unschedulable=False):
    api = FakeApi(ready_delay=0.1)
    api.add_node("worker-1", unschedulable=unschedulable)
    for i in range(3):
        api.add_pod(make_pod(f"web-{i}", labels={"app": "web"}))
    api.add_pod(make_pod("agent-x", owner="DaemonSet", owner_name="agent", namespace="kube-system"))
    api.daemonsets.add(("kube-system", "agent"))
    api.add_pod(make_pod("job-1", phase="Succeeded", owner="Job"))
    api.add_pdb("web", {"app": "web"}, allowed=allowed)
    return api


def drain(api, check_mode=False, **params):
    return Drain(api, DrainOptions.from_params({"node": "worker-1", **params}), check_mode=check_mode).run()


def mutations(api):
    return [call[0] for call in api.calls if call[0] in MUTATIONS]


def test_check_then_real_then_idempotent():
    api = cluster()
    planned = drain(api, check_mode=True, ignore_daemonsets=True)
    assert mutations(api) == []
    assert planned["changed"] and planned["evicted"] == ["default/web-0", "default/web-1", "default/web-2"]
    assert planned["deleted"] == ["default/job-1"]
    assert planned["skipped_pods"] == [{"pod": "kube-system/agent-x", "reason": "DaemonSet-managed"}]
    assert planned["diff"]["after"] == {"unschedulable": True, "pods": ["kube-system/agent-x"]}

    real = drain(api, ignore_daemonsets=True)
    assert real["changed"] and real["evicted"] == planned["evicted"] and real["deleted"] == planned["deleted"]
    assert api.nodes["worker-1"]["spec"]["unschedulable"] is True
    assert set(real["timings"]) >= {"list", "cordon", "evict", "wait_delete"}
    assert real["retries"]["pdbs"].get("default/web", 0) >= 2  # budget of 1: the other two waited

    again = drain(api, ignore_daemonsets=True)
    assert not again["changed"] and again["evicted"] == [] and again["deleted"] == []


def test_refusals_are_reported_together_and_nothing_changes():
    api = cluster()
    api.add_pod(make_pod("bare", owner=None))
    api.add_pod(make_pod("cache-0", empty_dir=True))
    with pytest.raises(ClusterOpsError) as failure:
        drain(api, ignore_daemonsets=True)
    message = failure.value.message
    assert f"{UNMANAGED_FATAL}: default/bare" in message and f"{LOCAL_STORAGE_FATAL}: default/cache-0" in message
    assert failure.value.details["changed"] is False
    assert mutations(api) == []  # not even cordoned


def test_failure_names_blocking_pods_and_budget_and_leaves_the_node_cordoned():
    api = cluster(allowed=0)
    with pytest.raises(OperationTimeout) as failure:
        drain(api, ignore_daemonsets=True, timeout=1)
    message = failure.value.message
    assert "3 pod(s) blocked by PodDisruptionBudgets" in message
    assert "default/web-0 (default/web: The disruption budget web needs 3 healthy pods and has 2 currently)" in message
    assert message.endswith("the node stays cordoned")
    assert [b["pod"] for b in failure.value.details["blocked"]] == ["default/web-0", "default/web-1", "default/web-2"]
    assert failure.value.details["deleted"] == ["default/job-1"]
    assert api.nodes["worker-1"]["spec"]["unschedulable"] is True


def test_uncordon_on_failure_restores_only_what_this_task_changed():
    api = cluster(allowed=0)
    with pytest.raises(OperationTimeout) as failure:
        drain(api, ignore_daemonsets=True, timeout=1, uncordon_on_failure=True)
    assert "uncordoned (uncordon_on_failure)" in failure.value.message
    assert api.nodes["worker-1"]["spec"]["unschedulable"] is False

    api = cluster(allowed=0, unschedulable=True)  # cordoned by someone else before: stays so
    with pytest.raises(OperationTimeout):
        drain(api, ignore_daemonsets=True, timeout=1, uncordon_on_failure=True)
    assert api.nodes["worker-1"]["spec"]["unschedulable"] is True


@pytest.mark.parametrize(
    "state, before, changed",
    [("cordon", False, True), ("cordon", True, False), ("uncordon", True, True), ("uncordon", False, False)],
)
def test_cordon_and_uncordon_change_only_when_the_value_flips(state, before, changed):
    api = cluster(unschedulable=before)
    result = drain(api, state=state)
    assert result["changed"] is changed
    assert api.nodes["worker-1"]["spec"].get("unschedulable", False) is (state == "cordon")
    assert mutations(api) == (["set_unschedulable"] if changed else [])
    assert result["diff"] == {"before": {"unschedulable": before}, "after": {"unschedulable": state == "cordon"}}


def test_cordon_in_check_mode_changes_nothing():
    api = cluster()
    assert drain(api, check_mode=True, state="cordon")["changed"] is True
    assert mutations(api) == []


def test_missing_node_is_one_clear_line():
    api = cluster()
    with pytest.raises(InvalidInput, match=r"^node 'worker-9' does not exist$"):
        Drain(api, DrainOptions.from_params({"node": "worker-9"})).run()


@pytest.mark.parametrize(
    "params, text",
    [
        ({"pod_selector": "app in web"}, "pod_selector 'app in web' is not a valid label selector"),
        ({"timeout": 0}, "timeout must be a positive"),
        ({"concurrency": 0}, "concurrency must be between 1 and 1000, got 0"),
        ({"concurrency": 10**9}, "concurrency must be between 1 and 1000, got 1000000000"),
        ({"timeout": 99999999999}, r"timeout 99999999999 is too long: at most 604800 seconds \(7 days\)"),
        ({"grace_period": 10**12}, "grace_period 1000000000000 is too long"),
        ({"grace_period": -2}, "grace_period must be -1"),
        ({"skip_wait_for_delete_timeout": -1}, "skip_wait_for_delete_timeout must be zero or a positive number"),
    ],
)
def test_bad_options_are_refused_before_any_call(params, text):
    with pytest.raises(InvalidInput, match=text):
        DrainOptions.from_params({"node": "worker-1", **params})


def test_pod_selector_limits_the_drain():
    api = cluster(allowed=5)
    api.add_pod(make_pod("db-0", labels={"app": "db"}))
    result = drain(api, pod_selector="app=db")
    assert result["evicted"] == ["default/db-0"]
    assert ("default", "web-0") in api.pods


def test_grace_period_zero_is_sent_and_minus_one_is_not():
    api = cluster(allowed=5)
    drain(api, ignore_daemonsets=True, grace_period=0)
    assert {call[3] for call in api.calls if call[0] == "evict"} == {0}
    api = cluster(allowed=5)
    drain(api, ignore_daemonsets=True)
    assert {call[3] for call in api.calls if call[0] == "evict"} == {None}


def test_forced_unmanaged_pod_is_evicted_with_a_warning():
    api = cluster(allowed=5)
    api.add_pod(make_pod("bare", owner=None))
    result = drain(api, ignore_daemonsets=True, force=True)
    assert "default/bare" in result["evicted"]
    assert result["warnings"] == ["default/bare: deleting Pods that declare no controller"]


def test_an_unexpected_failure_mid_drain_still_reports_what_changed(monkeypatch):
    api = FakeApi()
    api.add_node("worker-1")
    for i in range(3):
        api.add_pod(make_pod(f"web-{i}"))
    api.add_pod(make_pod("stuck-0", labels={"app": "stuck"}))
    api.add_pdb("stuck", {"app": "stuck"}, allowed=0)  # keeps the drain going until the crash
    dispatch = evictor.Evictor._dispatch
    calls = []

    def crash_once_something_was_evicted(self, pool, now):
        calls.append(now)
        if len(calls) == 1:
            return dispatch(self, pool, now)  # the evictions go out
        while not any(task.state in (evictor.REQUESTED, evictor.DONE) for task in self.tasks):
            self.cv.wait(0.05)  # (releases the lock the workers record their answers under)
        raise OverflowError("timestamp out of range for platform time_t")

    monkeypatch.setattr(evictor.Evictor, "_dispatch", crash_once_something_was_evicted)
    with pytest.raises(ClusterOpsError) as raised:
        Drain(api, DrainOptions.from_params({"node": "worker-1", "timeout": 10})).run()
    message, details = raised.value.message, raised.value.details
    assert message.startswith("node_drain failed after it cordoned worker-1, evicted "), message
    assert message.endswith(": OverflowError: timestamp out of range for platform time_t")
    assert details["changed"] is True and details["unschedulable"] is True and details["evicted"], details
    assert api.nodes["worker-1"]["spec"]["unschedulable"] is True


def test_an_unexpected_failure_before_any_change_says_so(monkeypatch):
    api = FakeApi()
    api.add_node("worker-1")
    monkeypatch.setattr(api, "list_pods", lambda node, selector: 1 / 0)
    with pytest.raises(ClusterOpsError) as raised:
        Drain(api, DrainOptions.from_params({"node": "worker-1"})).run()
    assert raised.value.message == "node_drain failed before changing anything: ZeroDivisionError: division by zero"
    assert raised.value.details["changed"] is False
