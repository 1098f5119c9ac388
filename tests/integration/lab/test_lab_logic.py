"""The lab's decisions as pure functions, checked against what the real Kubernetes code does (no lab needed)."""

from __future__ import annotations

import time

import pytest
from labkit.controllers import daemonset, deployment, disruption, nodelifecycle
from labkit.controllers.manager import match_labels
from labkit.kubelet import qos_class, running_status
from labkit.scheduler import choose_node, tolerates, unfit_reason

CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(name, ready="True", unschedulable=False, taints=(), labels=None):
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"unschedulable": unschedulable, "taints": list(taints)},
        "status": {"conditions": [{"type": "Ready", "status": ready}]},
    }


def pod(name="p", ready=True, owner=None, labels=None, deleting=False, ns="apps"):
    meta = {"name": name, "namespace": ns, "uid": f"uid-{name}", "labels": labels or {"app": "web"}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "uid": owner[2], "controller": True}]
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"nodeName": "worker-1"},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


# -- scheduler ------------------------------------------------------------------------------------------------


def test_tolerations_follow_the_api_rules():
    assert tolerates([{"operator": "Exists"}], CP_TAINT)
    assert tolerates([{"key": CP_TAINT["key"], "operator": "Exists"}], CP_TAINT)
    assert tolerates([{"key": CP_TAINT["key"], "effect": "NoSchedule"}], CP_TAINT)  # Equal, empty value
    assert not tolerates([{"key": CP_TAINT["key"], "effect": "NoExecute"}], CP_TAINT)
    assert not tolerates([{"key": "other", "operator": "Exists"}], CP_TAINT)
    assert not tolerates([{"key": CP_TAINT["key"], "value": "x"}], CP_TAINT)


def test_scheduler_filters_taints_cordon_readiness_and_selectors():
    plain = {"spec": {}}
    assert unfit_reason(plain, node("cp-1", taints=[CP_TAINT])).startswith("node(s) had untolerated taint")
    assert unfit_reason(plain, node("w", unschedulable=True)) == "node(s) were unschedulable"
    assert unfit_reason(plain, node("w", ready="Unknown")) == "node(s) were not ready"
    assert unfit_reason({"spec": {"nodeSelector": {"disk": "ssd"}}}, node("w")).startswith("node(s) didn't match")
    assert unfit_reason({"spec": {"nodeSelector": {"disk": "ssd"}}}, node("w", labels={"disk": "ssd"})) is None
    daemon = {
        "spec": {
            "tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
        }
    }
    assert unfit_reason(daemon, node("w", unschedulable=True)) is None


def test_scheduler_spreads_to_the_node_with_fewest_pods_and_explains_failures():
    nodes = [node("cp-1", taints=[CP_TAINT]), node("worker-1"), node("worker-2")]
    assert choose_node({"spec": {}}, nodes, {"worker-1": 3, "worker-2": 1}) == ("worker-2", None)
    assert choose_node({"spec": {}}, nodes, {"worker-1": 0, "worker-2": 1}) == ("worker-1", None)
    pinned = {
        "spec": {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["cp-1"]}]}
                        ]
                    }
                }
            },
            "tolerations": [{"operator": "Exists"}],
        }
    }
    assert choose_node(pinned, nodes, {}) == ("cp-1", None)
    cordoned = [node("cp-1", taints=[CP_TAINT]), node("worker-1", unschedulable=True)]
    name, message = choose_node({"spec": {}}, cordoned, {})
    assert name is None
    assert message.startswith("0/2 nodes are available: 1 node(s) had untolerated taint")
    assert "1 node(s) were unschedulable" in message


# -- disruption controller ------------------------------------------------------------------------------------


def budget(**spec):
    return {
        "metadata": {"name": "b", "namespace": "apps", "generation": 2},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
    }


def lookup_scale(scale):
    return lambda ref, ns: (ref["uid"], scale)


@pytest.mark.parametrize(
    ("spec", "scale", "expected", "desired"),
    [
        ({"minAvailable": 2}, 5, 3, 2),  # an integer minAvailable counts the selected pods
        ({"minAvailable": "50%"}, 3, 3, 2),  # 1.5 rounds up
        ({"minAvailable": "100%"}, 3, 3, 3),
        ({"maxUnavailable": 1}, 3, 3, 2),
        ({"maxUnavailable": "25%"}, 3, 3, 2),  # 0.75 rounds up to 1 unavailable
        ({"maxUnavailable": "0%"}, 3, 3, 3),
        ({"maxUnavailable": 5}, 3, 3, 0),  # never below zero
    ],
)
def test_pdb_expected_and_desired_match_the_disruption_controller(spec, scale, expected, desired):
    pods = [pod(f"p{i}", owner=("ReplicaSet", "rs", "rs-uid")) for i in range(3)]
    assert disruption.expected_and_desired(budget(**spec), pods, lookup_scale(scale)) == (expected, desired)


def test_pdb_status_counts_healthy_pods_and_allows_disruptions():
    pods = [
        pod("a", owner=("ReplicaSet", "rs", "u")),
        pod("b", owner=("ReplicaSet", "rs", "u")),
        pod("c", ready=False, owner=("ReplicaSet", "rs", "u")),
        pod("d", deleting=True, owner=("ReplicaSet", "rs", "u")),
    ]
    status, _ = disruption.pdb_status(budget(minAvailable=1), pods, lookup_scale(4), time.time(), 6.0)
    assert (status["currentHealthy"], status["desiredHealthy"], status["expectedPods"]) == (2, 1, 4)
    assert status["disruptionsAllowed"] == 1
    assert status["conditions"][0]["reason"] == "SufficientPods"
    assert status["observedGeneration"] == 2
    status, _ = disruption.pdb_status(budget(minAvailable=2), pods, lookup_scale(4), time.time(), 6.0)
    assert status["disruptionsAllowed"] == 0
    assert status["conditions"][0] == {**status["conditions"][0], "status": "False", "reason": "InsufficientPods"}


def test_pdb_recently_evicted_pods_are_not_healthy_until_the_deletion_timeout():
    pods = [pod("a", owner=("ReplicaSet", "rs", "u")), pod("b", owner=("ReplicaSet", "rs", "u"))]
    just_now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    pdb = budget(minAvailable=1)
    pdb["status"] = {"disruptedPods": {"a": just_now}}
    status, expiry = disruption.pdb_status(pdb, pods, lookup_scale(2), time.time(), 6.0)
    assert status["currentHealthy"] == 1
    assert status["disruptionsAllowed"] == 0
    assert status["disruptedPods"] == {"a": just_now}
    assert expiry is not None
    status, _ = disruption.pdb_status(pdb, pods, lookup_scale(2), time.time() + 7, 6.0)
    assert status["currentHealthy"] == 2
    assert "disruptedPods" not in status


def test_pdb_with_a_percentage_over_pods_without_a_scalable_controller_fails_safe():
    pods = [pod("a", owner=("DaemonSet", "ds", "u"))]
    status, _ = disruption.pdb_status(budget(maxUnavailable="50%"), pods, lambda ref, ns: None, time.time(), 6.0)
    assert status["disruptionsAllowed"] == 0
    assert status["conditions"][0]["reason"] == "SyncFailed"
    assert 'found no controllers for pod "a"' in status["conditions"][0]["message"]


def test_pdb_unmanaged_pods_count_for_an_integer_min_available():
    pods = [pod("a"), pod("b")]
    status, _ = disruption.pdb_status(budget(minAvailable=1), pods, lambda ref, ns: None, time.time(), 6.0)
    assert (status["expectedPods"], status["disruptionsAllowed"]) == (2, 1)


# -- workload controllers -------------------------------------------------------------------------------------


def test_label_selectors():
    assert match_labels({}, {"a": "b"})
    assert not match_labels(None, {"a": "b"})
    assert match_labels({"matchLabels": {"a": "b"}}, {"a": "b", "c": "d"})
    assert not match_labels({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]}, {"a": "b"})
    assert match_labels({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, {"a": "b"})


def test_rolling_update_fenceposts_and_steps():
    dep = {"metadata": {"name": "web"}, "spec": {"replicas": 4, "template": {}}}
    assert deployment.surge_and_unavailable(dep) == (1, 1)  # 25% of 4
    dep["spec"]["replicas"] = 3
    assert deployment.surge_and_unavailable(dep) == (1, 0)  # surge rounds up, unavailable down
    new = {"metadata": {"name": "web-new"}, "spec": {"replicas": 0}, "status": {}}
    old = {
        "metadata": {"name": "web-old", "creationTimestamp": "1"},
        "spec": {"replicas": 3},
        "status": {"availableReplicas": 3},
    }
    step = deployment.plan(dep, new, [old])
    assert step == {"web-new": 1, "web-old": 3}  # surge one new pod, keep every old one (maxUnavailable 0)
    new = {**new, "spec": {"replicas": 1}, "status": {"availableReplicas": 1}}
    assert deployment.plan(dep, new, [old]) == {"web-new": 1, "web-old": 2}
    recreate = {**dep, "spec": {**dep["spec"], "strategy": {"type": "Recreate"}}}
    assert deployment.plan(recreate, new, [old]) == {"web-new": 0, "web-old": 0}


def test_daemonset_runs_on_cordoned_and_tainted_nodes_with_its_tolerations():
    spec = {"containers": [{"name": "c"}]}
    assert daemonset.should_run(spec, node("w", unschedulable=True))
    assert not daemonset.should_run(spec, node("cp-1", taints=[CP_TAINT]))
    assert daemonset.should_run({**spec, "tolerations": [{"operator": "Exists"}]}, node("cp-1", taints=[CP_TAINT]))
    assert daemonset.should_run(
        spec, node("w", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}])
    )
    pinned = daemonset.daemon_pod(
        {"metadata": {"name": "ds", "namespace": "kube-system", "uid": "u"}, "spec": {"template": {"spec": spec}}},
        "worker-2",
        "rev",
    )
    terms = pinned["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"][0]["matchFields"][0]["values"] == ["worker-2"]
    assert {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"} in (
        pinned["spec"]["tolerations"]
    )


def test_node_lifecycle_taints_follow_the_ready_condition():
    unknown = node("w", ready="Unknown")
    keys = {(t["key"], t["effect"]) for t in nodelifecycle.wanted_taints(unknown)}
    assert keys == {(nodelifecycle.UNREACHABLE, "NoSchedule"), (nodelifecycle.UNREACHABLE, "NoExecute")}
    recovered = node("w", taints=nodelifecycle.wanted_taints(unknown))
    assert nodelifecycle.wanted_taints(recovered) == []
    assert nodelifecycle.wanted_taints(node("w", unschedulable=True)) == [
        {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    ]
    kept = node("cp-1", taints=[CP_TAINT])
    assert nodelifecycle.wanted_taints(kept) == [CP_TAINT]
    marked = nodelifecycle.unknown_conditions(node("w"), "2026-01-01T00:00:00Z")
    assert marked[0]["status"] == "Unknown"
    assert marked[0]["message"] == "Kubelet stopped posting node status."


# -- kubelet --------------------------------------------------------------------------------------------------


def test_pod_status_as_the_kubelet_reports_it():
    spec = {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "1"}}}]}
    status = running_status({"metadata": {"uid": "u"}, "spec": spec}, "127.0.0.11", "10.244.1.5", "T")
    assert status["phase"] == "Running"
    assert {c["type"] for c in status["conditions"] if c["status"] == "True"} >= {"Ready", "ContainersReady"}
    assert status["containerStatuses"][0]["image"] == "nginx:latest"
    assert status["containerStatuses"][0]["containerID"].startswith("containerd://")
    assert status["qosClass"] == "Burstable"
    assert qos_class({"spec": {"containers": [{"name": "c"}]}}) == "BestEffort"
    guaranteed = {"limits": {"cpu": "1", "memory": "1Gi"}}
    assert qos_class({"spec": {"containers": [{"name": "c", "resources": guaranteed}]}}) == "Guaranteed"
