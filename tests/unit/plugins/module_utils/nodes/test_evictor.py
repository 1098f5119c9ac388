# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The eviction engine against an in-memory API server: budgets, Retry-After, 404, 500, timeouts, watches down.

The engine and the fake share one clock (the engine's injected ``clock``); the assertions compare the fake's
stamped events (a budget rising, an eviction accepted) with each other and with the deadlines the engine
was given, not with windows of wall-clock time, so a loaded machine makes the tests slower, never wrong.
kubectl's behaviour, which several tests exclude, is a fixed 5 s sleep after every 429.
"""

from __future__ import annotations

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes import evictor
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.evictor import Evictor
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.nodes.drain_fake import (
    FakeApi,
    api_exception,
    make_pod,
)


def setup(count=3, allowed=1, ready_delay=0.2, labels=None, **fake):
    api = FakeApi(ready_delay=ready_delay, **fake)
    pods = [api.add_pod(make_pod(f"web-{i}", labels=labels or {"app": "web"})) for i in range(count)]
    api.add_pdb("web", {"app": "web"}, allowed=allowed)
    return api, pods


KUBECTL_RETRY = 5.0


def evict(api, pods, timeout=10.0, delete=(), **options):
    began = api.clock()
    outcome = Evictor(api, "worker-1", list(pods), list(delete), began + timeout, clock=api.clock, **options).run()
    return outcome, api.clock() - began


def woken_by_rises(api):
    """For every eviction accepted after the first ones, how long after the budget's rise it came."""
    rises, accepted = api.stamps("rise"), api.stamps("evicted")
    initial = len(accepted) - len(rises) if len(accepted) > len(rises) else 1
    return [after - next_rise for after, next_rise in zip(accepted[initial:], rises)]


def test_blocked_evictions_go_the_moment_the_budget_rises():
    api, pods = setup(count=4, ready_delay=0.2)
    outcome, took = evict(api, pods)
    assert outcome.ok and sorted(outcome.evicted) == [f"default/web-{i}" for i in range(4)]
    # Three replacements become ready one after another (3 x 0.2 s): no eviction can come sooner, and each
    # comes after its budget's rise, woken by the watch rather than after kubectl's 5 s sleep.
    assert took >= 3 * 0.2
    gaps = woken_by_rises(api)
    assert len(gaps) == 3 and all(0 <= gap < KUBECTL_RETRY / 5 for gap in gaps), gaps
    assert outcome.retries["pdbs"]["default/web"] >= 3
    assert outcome.retries["total"] == sum(outcome.retries["pods"].values())
    # Each rise releases one pod, no more: 4 first tries (3 refused), then one request per rise.
    assert api.count("evict") == 7
    assert all(pdb["allowed"] >= 0 for pdb in api.pdbs.values())


def test_a_rise_the_watch_misses_is_found_by_one_probe_per_budget(monkeypatch):
    monkeypatch.setattr(evictor, "PROBE_EVERY", 0.3)
    api, pods = setup(count=3, ready_delay=0.05)
    api.silent_pdb_watch = True  # open, healthy, and never says anything
    outcome, took = evict(api, pods)
    assert outcome.ok and len(outcome.evicted) == 3
    # Without a word from the watch, each rise is found by the next probe: within about one PROBE_EVERY.
    gaps = woken_by_rises(api)
    assert len(gaps) == 2 and all(0 <= gap < 0.3 + 1.0 for gap in gaps), gaps
    # Probes go one per budget, not one per parked pod.
    assert api.count("evict") <= 3 + took / 0.3 + 1


def test_budget_watch_down_falls_back_to_capped_backoff():
    api, pods = setup(count=3, ready_delay=0.3)
    api.watch_fails = True
    outcome, _took = evict(api, pods)
    assert outcome.ok and len(outcome.evicted) == 3
    gaps = woken_by_rises(api)  # at worst one capped backoff (2 s) after each rise
    assert len(gaps) == 2 and all(0 <= gap <= 2.0 + 0.5 for gap in gaps), gaps
    assert api.count("get_pod") >= 1  # deletion was polled, the pod watch being down too


def test_retry_after_is_honoured():
    api, pods = setup(count=1, allowed=5)
    api.fail("evict", api_exception(429, "Too many requests, please try again later.", retry_after=1))
    outcome = evict(api, pods)[0]
    assert outcome.ok and outcome.evicted == ["default/web-0"]
    first, second = [call[-1] for call in api.calls if call[0] == "evict"]
    assert second - first >= 0.95


def test_pod_already_gone_counts_as_evicted():
    api, pods = setup(count=2, allowed=5)
    api.fail("evict", api_exception(404, 'pods "web-0" not found'))
    outcome = evict(api, pods)[0]
    assert outcome.ok and sorted(outcome.evicted) == ["default/web-0", "default/web-1"]


def test_pod_under_two_budgets_is_reported_and_the_rest_still_drain():
    api, pods = setup(count=2, allowed=5)
    api.add_pdb("web-too", {"app": "web"}, allowed=5)
    other = api.add_pod(make_pod("api-0", labels={"app": "api"}))
    outcome = evict(api, [*pods, other])[0]
    assert outcome.evicted == ["default/api-0"]
    assert {e["pod"] for e in outcome.errors} == {"default/web-0", "default/web-1"}
    assert all("more than one PodDisruptionBudget" in e["message"] for e in outcome.errors)
    assert not outcome.timed_out


def test_timeout_names_every_blocked_pod_and_budget_with_the_api_message():
    api, pods = setup(count=2, allowed=0)
    outcome, took = evict(api, pods, timeout=1.0)
    assert outcome.timed_out and not outcome.evicted
    assert took >= 1.0  # it gave the budget the whole timeout
    assert [b["pod"] for b in outcome.blocked] == ["default/web-0", "default/web-1"]
    assert {b["pdb"] for b in outcome.blocked} == {"default/web"}
    assert all("needs 3 healthy pods and has 2 currently" in b["message"] for b in outcome.blocked)


def test_transient_errors_are_retried():
    api, pods = setup(count=1, allowed=5)
    api.fail("evict", api_exception(503, "unavailable"), ConnectionRefusedError("refused"))
    outcome, _took = evict(api, pods)
    assert outcome.ok and outcome.evicted == ["default/web-0"]
    assert outcome.retries["transient"] == 2 and api.count("evict") == 3
    first, _second, third = [call[-1] for call in api.calls if call[0] == "evict"]
    assert third - first < KUBECTL_RETRY / 5  # retried at once with a short backoff, not a 5 s wait


def test_permanent_errors_are_reported_per_pod():
    api, pods = setup(count=2, allowed=5)
    api.fail("evict", api_exception(403, 'pods "web-0" is forbidden: User cannot create pods/eviction'))
    outcome = evict(api, pods)[0]
    assert len(outcome.evicted) == 1 and len(outcome.errors) == 1
    assert "403" in outcome.errors[0]["message"] and "forbidden" in outcome.errors[0]["message"]


def test_deletion_is_awaited_by_uid():
    api, pods = setup(count=2, allowed=5, termination=0.4)
    outcome, took = evict(api, pods)
    assert outcome.ok and len(outcome.evicted) == 2
    assert took >= 0.4 and outcome.timings["wait_delete"] >= 0.3
    assert not api.pods  # nothing reported gone while it still existed


def test_same_name_recreation_counts_as_gone_when_polling():
    api, pods = setup(count=1, allowed=5, termination=0.2)
    api.recreate_same_name = True
    api.watch_fails = True  # no pod watch: the uid comparison on GET must decide
    outcome, _took = evict(api, pods)
    assert outcome.ok and outcome.evicted == ["default/web-0"]
    assert api.pods["default", "web-0"]["metadata"]["uid"] != pods[0]["metadata"]["uid"]
    assert api.count("get_pod") >= 1  # the new pod of the same name was seen, and taken for the old one gone


def test_still_terminating_at_the_timeout_is_an_error():
    api, pods = setup(count=1, allowed=5, termination=5.0)
    outcome = evict(api, pods, timeout=0.6)[0]
    assert outcome.timed_out and outcome.errors == [
        {"pod": "default/web-0", "message": "still terminating when the timeout was reached"}
    ]


def test_disable_eviction_deletes_with_a_uid_precondition():
    api, pods = setup(count=2, allowed=0)
    outcome = evict(api, pods, disable_eviction=True, grace_period=0)[0]
    assert outcome.ok and len(outcome.deleted) == 2 and not outcome.evicted and api.count("evict") == 0
    deletes = [call for call in api.calls if call[0] == "delete_pod"]
    assert {call[4] for call in deletes} == {p["metadata"]["uid"] for p in pods}
    assert {call[3] for call in deletes} == {0}


def test_finished_pods_are_deleted_not_evicted():
    api, _pods = setup(count=1, allowed=0)
    done = api.add_pod(make_pod("job-1", phase="Succeeded"))
    outcome = evict(api, [], delete=[done])[0]
    assert outcome.deleted == ["default/job-1"] and api.count("evict") == 0


def test_concurrency_bounds_calls_in_flight():
    api, pods = setup(count=12, allowed=100)
    api.call_delay = 0.05
    outcome = evict(api, pods, concurrency=3)[0]
    assert outcome.ok and len(outcome.evicted) == 12
    assert api.max_inflight == 3


def test_uid_precondition_conflict_means_the_pod_was_replaced():
    api, pods = setup(count=1, allowed=5)
    api.fail("delete_pod", api_exception(409, "Precondition failed: UID in precondition: x, UID in object meta: y"))
    outcome = evict(api, pods, disable_eviction=True)[0]
    assert outcome.ok and outcome.deleted == ["default/web-0"] and api.count("delete_pod") == 1


def test_terminating_namespace_is_retried_like_kubectl():
    api, pods = setup(count=1, allowed=5)
    refusal = api_exception(
        403,
        'pods "web-0" is forbidden: unable to create new content in namespace default because it is being terminated',
        [{"reason": "NamespaceTerminating", "message": "namespace default is being terminated"}],
    )
    api.fail("evict", refusal, refusal)
    outcome = evict(api, pods)[0]
    assert outcome.ok and outcome.evicted == ["default/web-0"] and api.count("evict") == 3
