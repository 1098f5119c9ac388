"""Properties of the plan on generated clusters: complete, within every rule, the same whatever the input order."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout import planner, snapshot
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.rollout.rollout_cluster import (
    make_node,
    make_pdb,
    make_pod,
)

SETTINGS = settings(
    derandomize=True, database=None, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def clusters(draw: Any) -> dict[str, Any]:
    count = draw(st.integers(2, 9))
    zones = draw(st.sampled_from([None, ["a", "b"], ["a", "b", "c"]]))
    nodes = []
    for index in range(count):
        zone = zones[index % len(zones)] if zones else None
        nodes.append(
            make_node(
                f"n{index}",
                cpu=str(draw(st.integers(1, 4))),
                zone=zone,
                ready=draw(st.booleans()) or draw(st.booleans()) or draw(st.booleans()),
                unschedulable=draw(st.integers(0, 9)) == 0,
            )
        )
    apps = draw(st.integers(1, 4))
    pods, pdbs = [], []
    for app in range(apps):
        replicas = draw(st.integers(1, 6))
        for replica in range(replicas):
            node = f"n{draw(st.integers(0, count - 1))}"
            cpu = f"{draw(st.sampled_from([100, 250, 500, 900]))}m"
            pods.append(make_pod(f"a{app}-{replica}", node, f"a{app}", cpu=cpu, ready=draw(st.integers(0, 5)) > 0))
        if draw(st.booleans()):
            pdbs.append(
                make_pdb(f"a{app}", f"a{app}", allowed=draw(st.integers(0, 3)), max_unavailable=draw(st.integers(0, 3)))
            )
    max_batch = draw(st.sampled_from([None, 1, 2, 3]))
    return {"nodes": nodes, "pods": pods, "pdbs": pdbs, "max_batch": max_batch}


def plan_of(cluster: dict[str, Any]) -> tuple[snapshot.Snapshot, dict[str, Any]]:
    snap = snapshot.build(cluster["nodes"], cluster["pods"], cluster["pdbs"])
    names = [n["metadata"]["name"] for n in cluster["nodes"]]
    return snap, planner.plan(snap, names, max_batch=cluster["max_batch"])


@SETTINGS
@given(clusters())
def test_every_node_is_planned_once_or_excluded(cluster):
    snap, result = plan_of(cluster)
    planned = [name for batch in result["batches"] for name in batch]
    assert len(planned) == len(set(planned))
    assert sorted(planned + list(result["excluded"])) == sorted(snap.nodes)
    assert len(result["splits"]) == max(0, len(result["batches"]) - 1)
    for name, reason in result["excluded"].items():
        node = snap.nodes[name]
        assert (not node.ready) or (node.unschedulable and reason == "cordoned by an administrator")


@SETTINGS
@given(clusters())
def test_every_batch_keeps_max_batch_and_the_zones(cluster):
    snap, result = plan_of(cluster)
    in_service: dict[str, int] = {}
    for node in snap.nodes.values():
        zone = node.labels.get(planner.ZONE_LABEL)
        if zone and node.schedulable:
            in_service[zone] = in_service.get(zone, 0) + 1
    for batch in result["batches"]:
        if cluster["max_batch"]:
            assert len(batch) <= cluster["max_batch"]
        taken: dict[str, int] = {}
        for name in batch:
            zone = snap.nodes[name].labels.get(planner.ZONE_LABEL)
            if zone and snap.nodes[name].schedulable:
                taken[zone] = taken.get(zone, 0) + 1
        for zone, count in taken.items():
            assert count == 1 or count < in_service[zone]


@SETTINGS
@given(clusters())
def test_the_first_batch_spends_no_budget_beyond_its_allowance_and_fits(cluster):
    snap, result = plan_of(cluster)
    if not result["batches"]:
        return
    first = set(result["batches"][0])
    for key, budget in snap.budgets.items():
        per_node: dict[str, int] = {}
        for pod in snap.pods:
            if key in pod.budgets and pod.healthy and pod.node in first:
                per_node[pod.node] = per_node.get(pod.node, 0) + 1
        if len(per_node) > 1:
            assert sum(per_node.values()) <= budget.allowance
    if not result["unplaced"]:
        moving = sum(p.requests.get("cpu", 0) for p in snap.pods if p.node in first and p.moves and not p.stays)
        free = sum(
            node.allocatable.get("cpu", 0) - sum(p.requests.get("cpu", 0) for p in snap.pods if p.node == name)
            for name, node in snap.nodes.items()
            if node.schedulable and name not in first
        )
        assert moving <= free


@SETTINGS
@given(clusters(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_order_of_the_input(cluster, random):
    expected = plan_of(cluster)[1]
    shuffled = {key: list(value) if isinstance(value, list) else value for key, value in cluster.items()}
    for key in ("nodes", "pods", "pdbs"):
        random.shuffle(shuffled[key])
    assert plan_of(shuffled)[1] == expected
