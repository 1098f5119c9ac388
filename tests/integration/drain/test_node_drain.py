"""node_drain and node_wait on the lab, run the way users run them (ad-hoc ``ansible localhost -m``)."""

from __future__ import annotations

import threading
import time

from ansible_run import run_module
from workload import TARGET, BudgetWatcher, is_ready, mine, wait_for

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.filters import (
    LOCAL_STORAGE_FATAL,
    ORPHAN_FATAL,
    UNMANAGED_FATAL,
)


def pod_names(cluster, namespace, node=TARGET):
    return sorted(f"{namespace}/{p['metadata']['name']}" for p in cluster.pods(namespace, node=node))


def unschedulable(cluster, node=TARGET):
    return bool(cluster.node(node).get("spec", {}).get("unschedulable"))


def test_check_then_real_then_idempotent_then_uncordon(cluster, ns, place, drain_args):
    place(ns, lambda: (cluster.deployment(ns, "web", 3), cluster.pdb_create(ns, "web", "web", max_unavailable=1)), 3)
    before = pod_names(cluster, ns)

    planned = run_module("node_drain", drain_args(), check=True, diff=True)
    assert planned["changed"] is True and "failed" not in planned
    assert mine(planned["evicted"], ns) == before
    assert planned["diff"]["before"]["unschedulable"] is False and planned["diff"]["after"]["unschedulable"] is True
    assert not unschedulable(cluster) and pod_names(cluster, ns) == before  # check mode changed nothing

    real = run_module("node_drain", drain_args())
    assert real["changed"] is True, real
    assert real["evicted"] == planned["evicted"] and real["deleted"] == planned["deleted"]
    assert unschedulable(cluster) and pod_names(cluster, ns) == []
    assert real["retries"]["pdbs"].get(f"{ns}/web", 0) >= 1  # a budget of one: the others had to wait
    assert set(real["timings"]) >= {"list", "cordon", "evict", "wait_delete"}
    # kube-proxy stays; under Ansible's reserved key `skipped` the drain would show as a skipped task.
    assert {"reason": "DaemonSet-managed"}.items() <= real["skipped_pods"][0].items() and "skipped" not in real

    again = run_module("node_drain", drain_args())
    assert again["changed"] is False and again["evicted"] == [] and again["deleted"] == []

    assert run_module("node_drain", drain_args(state="uncordon"))["changed"] is True
    assert run_module("node_drain", drain_args(state="uncordon"))["changed"] is False
    assert not unschedulable(cluster)


def test_budget_at_zero_blocks_until_a_replacement_is_ready(cluster, ns, place, drain_args):
    # minAvailable 2 of 2 replicas: nothing may go until a third pod is Ready elsewhere.
    place(ns, lambda: (cluster.deployment(ns, "db", 2), cluster.pdb_create(ns, "db", "db", min_available=2)), 2, False)
    wait_for("the budget to be computed", lambda: cluster.pdb(ns, "db").get("status", {}).get("currentHealthy") == 2)
    assert cluster.pdb(ns, "db")["status"]["disruptionsAllowed"] == 0
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(run_module("node_drain", drain_args(timeout=90))))
    worker.start()
    wait_for("the node to be cordoned", lambda: unschedulable(cluster), 30)
    time.sleep(2.0)
    assert len(pod_names(cluster, ns)) == 2, "a pod was evicted although its budget allowed no disruption"
    scaled = time.monotonic()
    cluster.apps.patch_namespaced_deployment_scale(
        "db", ns, {"spec": {"replicas": 3}}, _content_type="application/merge-patch+json", _preload_content=False
    )
    worker.join(120)
    took = time.monotonic() - scaled
    assert result.get("changed") is True and "failed" not in result, result
    assert len(mine(result["evicted"], ns)) == 2
    assert result["retries"]["pdbs"][f"{ns}/db"] >= 1
    # Two replacements in a row (pod-ready delay 1 s each): woken by the budget's watch, not a 5 s sleep.
    assert took < 8.0, took


def test_blocked_drain_fails_naming_pod_and_budget_and_stays_cordoned(cluster, ns, place, drain_args):
    place(ns, lambda: (cluster.deployment(ns, "db", 2), cluster.pdb_create(ns, "db", "db", min_available=2)), 2, False)
    wait_for("the budget to be computed", lambda: cluster.pdb(ns, "db").get("status", {}).get("currentHealthy") == 2)
    result = run_module("node_drain", drain_args(timeout=4))
    assert result.get("failed") is True
    message = result["msg"]
    assert "\n" not in message and "within the timeout of 4s" in message
    for pod in pod_names(cluster, ns):
        assert pod in message
    assert f"{ns}/db: The disruption budget db needs 2 healthy pods and has 2 currently" in message
    assert message.endswith("the node stays cordoned")
    assert {b["pdb"] for b in result["blocked"]} == {f"{ns}/db"}
    assert unschedulable(cluster)


def test_budgets_are_never_violated(cluster, ns, place, drain_args):
    apps = {"a": 4, "b": 3, "c": 3}

    def create():
        for app, replicas in apps.items():
            cluster.deployment(ns, app, replicas)
            cluster.pdb_create(ns, app, app, max_unavailable=1)

    place(ns, create, sum(apps.values()))
    with BudgetWatcher(cluster, ns, {app: n - 1 for app, n in apps.items()}) as watcher:
        result = run_module("node_drain", drain_args())
        wait_for("replacements", lambda: sum(is_ready(p) for p in cluster.pods(ns)) >= sum(apps.values()), 30)
    assert result["changed"] is True and "failed" not in result, result
    assert len(mine(result["evicted"], ns)) == sum(apps.values())
    assert watcher.samples > 20
    assert watcher.violations == {}, watcher.minimum


def test_unmanaged_pod_without_force_is_refused_and_nothing_is_evicted(cluster, ns, place, drain_args):
    def create():
        cluster.deployment(ns, "web", 2)
        cluster.bare_pod(ns, "lonely", TARGET)

    place(ns, create, 3, False)
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in cluster.pods(ns, node=TARGET)}
    result = run_module("node_drain", drain_args())
    assert result.get("failed") is True
    assert result["msg"] == f"cannot drain node {TARGET}: {UNMANAGED_FATAL}: {ns}/lonely"
    assert result["refused"] == {UNMANAGED_FATAL: [f"{ns}/lonely"]}
    after = {p["metadata"]["name"]: p["metadata"]["uid"] for p in cluster.pods(ns, node=TARGET)}
    assert after == before and not unschedulable(cluster)  # not even cordoned

    forced = run_module("node_drain", drain_args(force=True))
    assert f"{ns}/lonely" in forced["evicted"] and "failed" not in forced, forced
    assert any("deleting Pods that declare no controller" in w for w in forced.get("warnings", []))


def test_emptydir_is_refused_without_delete_emptydir_data(cluster, ns, place, drain_args):
    place(ns, lambda: cluster.deployment(ns, "cache", 2, empty_dir=True), 2, False)
    refused = run_module("node_drain", drain_args())
    assert refused.get("failed") is True and LOCAL_STORAGE_FATAL in refused["msg"]
    assert len(refused["refused"][LOCAL_STORAGE_FATAL]) == 2 and not unschedulable(cluster)
    result = run_module("node_drain", drain_args(delete_emptydir_data=True))
    assert "failed" not in result and len(mine(result["evicted"], ns)) == 2


def test_orphaned_daemonset_pod_counts_as_unmanaged(cluster, ns, place, drain_args):
    # An owner the garbage collector cannot resolve (a group version no longer served), so it leaves the pod
    # alone, as on a real cluster; an apps/v1 owner that does not exist would be collected before the drain.
    orphan = {
        "apiVersion": "extensions/v1beta1",
        "kind": "DaemonSet",
        "name": "gone",
        "uid": "0e0e0e0e-0000-4000-8000-000000000000",
    }

    def create():
        cluster.bare_pod(ns, "ghost", TARGET, owner={**orphan, "controller": True})

    place(ns, create, 1, False)
    refused = run_module("node_drain", drain_args())
    assert refused.get("failed") is True
    assert refused["msg"] == f"cannot drain node {TARGET}: {ORPHAN_FATAL}: {ns}/ghost"
    forced = run_module("node_drain", drain_args(force=True))
    assert f"{ns}/ghost" in forced["evicted"] and "failed" not in forced, forced
    assert not cluster.pods(ns)  # nothing recreates it


def test_statefulset_pod_recreated_under_the_same_name_counts_as_gone(cluster, ns, place, drain_args):
    place(ns, lambda: cluster.statefulset(ns, "db", 2), 2, False)
    uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in cluster.pods(ns)}
    result = run_module("node_drain", drain_args(timeout=60))
    assert "failed" not in result and mine(result["evicted"], ns) == [f"{ns}/db-0", f"{ns}/db-1"], result

    def recreated():
        pods = [p for p in cluster.pods(ns) if is_ready(p)]
        return len(pods) == 2 and pods

    for pod in wait_for("db-0 and db-1 again", recreated, 60):
        assert pod["spec"]["nodeName"] != TARGET
        assert pod["metadata"]["uid"] != uids[pod["metadata"]["name"]]


def test_drain_survives_an_api_server_restart(lab, cluster, ns, place, drain_args):
    place(ns, lambda: (cluster.deployment(ns, "web", 4), cluster.pdb_create(ns, "web", "web", max_unavailable=1)), 4)
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(run_module("node_drain", drain_args(timeout=120))))
    worker.start()
    wait_for("the drain to start", lambda: len(pod_names(cluster, ns)) < 4, 30, 0.05)
    lab.labctl("stop", "apiserver")
    time.sleep(2.0)
    lab.labctl("start", "apiserver")
    worker.join(150)
    assert result.get("changed") is True and "failed" not in result, result
    assert len(mine(result["evicted"], ns)) == 4
    assert pod_names(cluster, ns) == []


def test_missing_node_is_one_clear_line(drain_args):
    result = run_module("node_drain", drain_args(node="no-such-node"))
    assert result.get("failed") is True and result["msg"] == "node 'no-such-node' does not exist"


def test_malformed_selector_is_one_clear_line(cluster, drain_args):
    result = run_module("node_drain", drain_args(pod_selector="app in web"))
    assert result.get("failed") is True
    assert result["msg"] == "pod_selector 'app in web' is not a valid label selector (bad term 'app in web')"
    assert not unschedulable(cluster)


def test_node_wait(lab):
    base = {"kubeconfig": lab.kubeconfig, "node": TARGET}
    version = lab.info["version"]
    ok = run_module("node_wait", {**base, "kubelet_version": version, "daemonsets_running": True, "timeout": 30})
    assert ok.get("failed") is not True and ok["ready"] is True and ok["kubelet_version"] == f"v{version}", ok
    late = run_module("node_wait", {**base, "kubelet_version": "1.99.0", "timeout": 2})
    assert late.get("failed") is True
    assert late["msg"] == f"node {TARGET} was not ready within 2s; last seen: kubelet v{version}, want v1.99.0"
