"""rollout_plan's logic on the recorded lab cluster (see rollout_cluster.py) and on small made clusters."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout import planner, run, snapshot
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.cluster.cluster_info_fake import (
    FakeApiServer,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.rollout.rollout_cluster import (
    SCENARIO,
    WORKERS,
    make_node,
    make_pdb,
    make_pod,
    node_of,
    recorded,
)

PARAMS: dict[str, Any] = {"zone_label": planner.ZONE_LABEL, "pod_ready_seconds": 30.0, "node_seconds": 0.0}


def build(lists: dict[str, list[dict[str, Any]]]) -> snapshot.Snapshot:
    return snapshot.build(lists["nodes"], lists["pods"], lists["pdbs"])


def test_one_paginated_read_of_nodes_pods_and_budgets_plans_every_worker_once():
    server = FakeApiServer(SCENARIO)
    result = run.run({**PARAMS, "timeout": 60}, api_client=server.client())
    assert result["changed"] is False
    assert sorted(name for batch in result["batches"] for name in batch) == WORKERS
    assert result["excluded"] == {}
    assert sorted({request[0] for request in server.requests}) == [
        "/api/v1/nodes",
        "/api/v1/pods",
        "/apis/policy/v1/poddisruptionbudgets",
    ]
    assert all("limit" in request[1] for request in server.requests)
    # the recorded pages are 4 nodes, 20 pods and 4 budgets long: the continue tokens were followed
    assert len(server.requests) >= 3


def test_the_recorded_cluster_gives_this_plan_every_time():
    """apps/api has four pods spread over six workers and allows one disruption: wherever a drained node's api pod
    goes, it lands on a node without one, so the budget splits every boundary."""
    first = planner.plan(build(recorded()), WORKERS)
    assert first["batches"] == [["worker-6"], ["worker-2"], ["worker-3"], ["worker-5"], ["worker-1"], ["worker-4"]]
    assert [(s["after"], s["reason"], s["by"]) for s in first["splits"]] == [
        (n, "budget", "apps/api") for n in range(1, 6)
    ]
    assert first["splits"][0]["message"] == (
        "apps/api allows 1 disruption(s) at once: 1 of its pods on worker-6 and 1 on worker-2"
    )
    assert first["estimate"] == 180 and first["batch_estimates"] == [30] * 6
    assert first["budgets"]["shop/front"] == {
        "allowance": 3,
        "disruptions_allowed": 3,
        "healthy": 6,
        "desired_healthy": 3,
        "pods": {name: 1 for name in WORKERS},
    }
    lists = recorded()
    for key in lists:
        lists[key].reverse()  # the order the API returns items in does not matter
    assert planner.plan(build(lists), list(reversed(WORKERS))) == first


def test_without_the_tight_budgets_nodes_share_batches_up_to_what_front_allows():
    lists = recorded()
    lists["pdbs"] = [p for p in lists["pdbs"] if p["metadata"]["namespace"] == "shop"]
    result = planner.plan(build(lists), WORKERS)
    # shop/front allows 3 and has one pod per worker; the zones (two nodes each) allow one node of each at once
    assert result["batches"][0] == ["worker-1", "worker-3", "worker-5"]
    assert result["splits"][0]["reason"] == "zone"
    # the first batch's front pods now run on the other three, two each: two of those would evict four
    assert [len(batch) for batch in result["batches"]] == [3, 1, 1, 1]
    assert [s["by"] for s in result["splits"][1:]] == ["shop/front", "shop/front"]


def test_cordoned_by_an_administrator_and_not_ready_nodes_are_left_out_and_named():
    lists = recorded()
    node_of(lists, "worker-1")["spec"]["unschedulable"] = True
    ours = node_of(lists, "worker-2")
    ours["spec"]["unschedulable"] = True
    ours["metadata"].setdefault("annotations", {})["cluster-ops.io/cordoned-by"] = "cluster_ops.kubeadm"
    for condition in node_of(lists, "worker-3")["status"]["conditions"]:
        if condition["type"] == "Ready":
            condition["status"] = "Unknown"
    result = planner.plan(build(lists), WORKERS)
    assert result["excluded"] == {"worker-1": "cordoned by an administrator", "worker-3": "NotReady"}
    planned = sorted(name for batch in result["batches"] for name in batch)
    assert planned == ["worker-2", "worker-4", "worker-5", "worker-6"]  # our own cordon is planned


def test_default_nodes_are_every_node_without_the_control_plane_role():
    cluster = build(recorded())
    assert run.candidates(cluster, None) == WORKERS
    assert run.candidates(cluster, ["worker-2", "cp-1", "worker-2"]) == ["cp-1", "worker-2"]
    with pytest.raises(InvalidInput, match="nodes not found in the cluster: worker-9"):
        run.candidates(cluster, ["worker-1", "worker-9"])


def test_a_batch_never_takes_more_than_the_rest_can_hold():
    nodes = [make_node(f"n{i}", cpu="2", memory="4Gi") for i in range(1, 5)]
    pods = [make_pod(f"p{i}", f"n{i}", f"a{i}", cpu="1") for i in range(1, 5)]  # each node half full
    result = planner.plan(snapshot.build(nodes, pods, []), [f"n{i}" for i in range(1, 5)])
    # two drained nodes' pods fill the other two; a third would have nowhere to go. Then n3 and n4 carry two pods
    # each, which fit on the emptied n1 and n2.
    assert result["batches"] == [["n1", "n2"], ["n3", "n4"]]
    assert result["splits"][0]["reason"] == "capacity" and result["splits"][0]["by"] == "cpu"
    assert "fits nowhere: short of cpu" in result["splits"][0]["message"]
    assert result["unplaced"] == {}


def test_capacity_counts_the_pods_slots_and_leaves_daemonset_and_mirror_pods_and_bare_pods():
    nodes = [make_node(f"n{i}", pods="3") for i in range(1, 4)]
    pods = [
        make_pod("ds1", "n1", "ds", kind="DaemonSet"),
        make_pod("ds2", "n2", "ds", kind="DaemonSet"),
        make_pod("ds3", "n3", "ds", kind="DaemonSet"),
        make_pod("a", "n1", "a"),
        make_pod("b", "n1", "b"),
        make_pod("bare", "n2", "bare", kind=None),  # not recreated: needs no room
        make_pod("c", "n3", "c"),
    ]
    cluster = snapshot.build(nodes, pods, [])
    result = planner.plan(cluster, ["n1", "n2", "n3"])
    # n1's two pods need two slots: n2 has 1 free (3 - ds - bare), n3 has 1 free
    assert result["batches"][0] == ["n1"]
    assert result["splits"][0]["by"] == "pods"


def test_a_pod_that_may_run_nowhere_else_holds_its_node_alone():
    nodes = [make_node("n1"), make_node("n2"), make_node("n3")]
    nodes[2]["spec"]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    pod = make_pod("pinned", "n1", "pinned")
    pod["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "n1"}
    free = make_pod("free", "n2", "free")
    result = planner.plan(snapshot.build(nodes, [pod, free], []), ["n1", "n2"])
    # n2 goes first (its pod may go to n1); n1's pinned pod would stay Pending whenever n1 is drained
    assert result["batches"] == [["n2"], ["n1"]]
    assert result["splits"][0]["reason"] == "capacity" and result["splits"][0]["by"] == "placement"
    assert result["unplaced"] == {"n1": ["ns/pinned"]}


def test_taints_need_tolerations_and_affinity_is_honoured():
    nodes = [make_node("n1"), make_node("n2"), make_node("n3")]
    nodes[1]["spec"]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    nodes[2]["metadata"]["labels"]["disk"] = "ssd"
    tolerant = make_pod("tolerant", "n1", "t")
    tolerant["spec"]["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
    picky = make_pod("picky", "n1", "p")
    picky["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]
            }
        }
    }
    state = planner.State(snapshot.build(nodes, [tolerant, picky], []))
    batch = planner.Batch(state, None, planner.ZONE_LABEL)
    assert batch.hold("n1") is None
    assert batch.placed["ns/picky"][1] == "n3"
    hold = batch.hold("n3")  # picky may only run on n3
    assert hold is not None and hold.reason == "capacity" and hold.by == "placement"


def test_pods_of_one_budget_on_several_candidates_count_together():
    nodes = [make_node(f"n{i}") for i in range(1, 5)]
    pods = [make_pod(f"w{i}", f"n{i}", "web") for i in range(1, 5)]
    pdbs = [make_pdb("web", "web", allowed=2, max_unavailable=2)]
    result = planner.plan(snapshot.build(nodes, pods, pdbs), [f"n{i}" for i in range(1, 5)])
    # n1 and n2 spend both disruptions; their replacements then run on n3 and n4, two on each
    assert result["batches"] == [["n1", "n2"], ["n3"], ["n4"]]
    assert result["splits"][1]["message"] == "ns/web allows 2 disruption(s) at once: 2 of its pods on n3 and 2 on n4"
    assert result["splits"][:1] == [
        {
            "after": 1,
            "node": "n3",
            "reason": "budget",
            "by": "ns/web",
            "message": "ns/web allows 2 disruption(s) at once: 2 of its pods on n1, n2 and 1 on n3",
            "held": {"budget": 2},
        }
    ]


def test_the_pods_of_a_budget_on_one_node_are_a_chain_in_the_estimate():
    nodes = [make_node("n1"), make_node("n2"), make_node("n3")]
    pods = [make_pod(f"w{i}", "n1", "web") for i in range(3)] + [make_pod("o", "n2", "other")]
    pdbs = [make_pdb("web", "web", allowed=1, max_unavailable=1)]
    result = planner.plan(snapshot.build(nodes, pods, pdbs), ["n1", "n2"], pod_ready_seconds=10, node_seconds=5)
    assert result["batches"] == [["n1", "n2"]]  # n2 has no web pod: no conflict
    assert result["batch_estimates"] == [35.0]  # three links of 10 s, plus the batch's own 5 s
    assert result["estimate"] == 35.0


def test_a_budget_never_allows_more_than_its_spec_with_the_healthy_pods_seen():
    nodes = [make_node("n1"), make_node("n2"), make_node("n3")]
    pods = [make_pod("w1", "n1", "web"), make_pod("w2", "n2", "web"), make_pod("w3", "n3", "web", ready=False)]
    stale = make_pdb("web", "web", allowed=2, min_available=1)  # with one pod not Ready, minAvailable 1 allows 1
    cluster = snapshot.build(nodes, pods, [stale])
    assert cluster.budgets["ns/web"].allowance == 1
    assert planner.plan(cluster, ["n1", "n2"])["batches"] == [["n1"], ["n2"]]
    percent = make_pdb("web", "web", allowed=5, max_unavailable="50%")  # of 3: rounded up to 2, with 2 healthy -> 1
    assert snapshot.build(nodes, pods, [percent]).budgets["ns/web"].allowance == 1
    assert snapshot.build(nodes, pods, [make_pdb("web", "web", allowed=0)]).budgets["ns/web"].allowance == 0


def test_never_a_whole_zone_at_once():
    nodes = [make_node("a1", zone="a"), make_node("a2", zone="a"), make_node("b1", zone="b"), make_node("c1")]
    result = planner.plan(snapshot.build(nodes, [], []), ["a1", "a2", "b1", "c1"])
    # zone b's only node may go (there is no other way); zone a keeps one of its two
    assert result["batches"] == [["a1", "b1", "c1"], ["a2"]]
    assert result["splits"][0]["reason"] == "zone" and result["splits"][0]["by"] == "a"
    other = planner.plan(snapshot.build(nodes, [], []), ["a1", "a2"], zone_label="example.com/rack")
    assert other["batches"] == [["a1", "a2"]]


@pytest.mark.parametrize(
    ("value", "count", "expected"),
    [(None, 10, None), (0, 10, None), (3, 10, 3), ("3", 10, 3), ("25%", 10, 2), ("5%", 10, 1), ("100%", 7, 7)],
)
def test_max_batch_is_a_number_or_a_percentage_rounded_down(value, count, expected):
    assert planner.resolve_max_batch(value, count) == expected


@pytest.mark.parametrize("value", ["-1", "abc", "0%", "150%", "2.5", True])
def test_a_malformed_max_batch_is_refused_naming_it(value):
    with pytest.raises(InvalidInput, match="max_batch must be a number of nodes or a percentage"):
        planner.resolve_max_batch(value, 10)


def test_max_batch_bounds_every_batch_and_is_named_in_the_split():
    nodes = [make_node(f"n{i}") for i in range(1, 6)]
    result = planner.plan(snapshot.build(nodes, [], []), [f"n{i}" for i in range(1, 6)], max_batch=2)
    assert result["batches"] == [["n1", "n2"], ["n3", "n4"], ["n5"]]
    assert [s["reason"] for s in result["splits"]] == ["max_batch", "max_batch"]


def test_bad_options_fail_before_the_cluster_is_read():
    server = FakeApiServer(SCENARIO)
    with pytest.raises(InvalidInput, match="max_batch"):
        run.run({**PARAMS, "max_batch": "lots", "timeout": 60}, api_client=server.client())
    with pytest.raises(InvalidInput, match="pod_ready_seconds"):
        run.run({**PARAMS, "pod_ready_seconds": -1.0, "timeout": 60}, api_client=server.client())
    with pytest.raises(InvalidInput, match="zone_label"):
        run.run({**PARAMS, "zone_label": " ", "timeout": 60}, api_client=server.client())
    assert server.requests == []


def test_a_first_batch_filled_to_the_brim_is_given_up_when_smaller_ones_need_fewer_batches():
    nodes = [make_node(f"n{i}") for i in range(1, 7)]
    pods = [make_pod(f"w{i}", f"n{i}", "wide") for i in range(1, 7)]
    pdbs = [make_pdb("wide", "wide", allowed=3, max_unavailable=3)]
    cluster = snapshot.build(nodes, pods, pdbs)
    names = [f"n{i}" for i in range(1, 7)]
    # three at once put their pods on the other three, two each: then those can only go one by one
    brim = planner._fill(cluster, names, None, planner.ZONE_LABEL, 30, 0, None)
    assert [len(batch) for batch in brim["batches"]] == [3, 1, 1, 1]
    result = planner.plan(cluster, names)
    assert result["batches"] == [["n1", "n2"], ["n3", "n5"], ["n4", "n6"]]
    assert result["splits"][0]["reason"] == "balance" and result["splits"][0]["by"] == "2"
