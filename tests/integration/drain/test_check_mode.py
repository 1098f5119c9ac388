"""node_drain in check mode predicts the real run as a whole, and check mode after it predicts no change."""

from __future__ import annotations

from ansible_run import check_real_check, comparable, run_module
from workload import TARGET

# Only a real run knows how long it took and how often a budget said no.
VOLATILE = {"duration", "timings", "retries"}


def test_drain_check_predicts_the_real_drain_and_then_no_change(cluster, ns, place, drain_args):
    place(ns, lambda: (cluster.deployment(ns, "web", 3), cluster.pdb_create(ns, "web", "web", max_unavailable=1)), 3)
    predicted, real, again = check_real_check("node_drain", drain_args(), VOLATILE)
    assert real["changed"] is True and len([p for p in real["evicted"] if p.startswith(f"{ns}/")]) == 3
    # Drained now: check mode and a real run both say there is nothing left to do, with the same result.
    repeated = run_module("node_drain", drain_args(), diff=True)
    assert again["changed"] is False and repeated["changed"] is False
    assert comparable(again, VOLATILE) == comparable(repeated, VOLATILE)
    assert predicted["diff"]["after"] == real["diff"]["after"] == again["diff"]["before"]


def test_cordon_and_uncordon_check_predict_the_real_run(cluster, ns, drain_args):
    for state in ("cordon", "uncordon"):
        predicted, real, again = check_real_check("node_drain", drain_args(state=state), VOLATILE)
        assert real["changed"] is True and again["changed"] is False, (state, real, again)
        assert bool(cluster.node(TARGET)["spec"].get("unschedulable")) is (state == "cordon")
        assert predicted["diff"] == real["diff"] and again["diff"]["before"] == again["diff"]["after"]
