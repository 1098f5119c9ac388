"""Controllers, scheduler and kubelets of the lab, observed through the API like a user would."""

from __future__ import annotations

import time

import pytest
from lab_helpers import wait_for
from labkit.kubeclient import ApiError, KubeClient, path


@pytest.fixture(scope="module")
def api(lab) -> KubeClient:
    return KubeClient.from_kubeconfig(lab.kubeconfig)


@pytest.fixture
def ns(api, request):
    name = f"wl-{request.node.name.replace('_', '-')[5:35].strip('-')}"
    api.create(path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    api.delete_ignoring_missing(path("namespaces", name=name))


def pods(api, ns, selector=None):
    items = api.get(path("pods", ns), labelSelector=selector)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def ready(pod) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])


def evict(api, ns, name):
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
    return api.create(path("pods", ns, name, "eviction"), body)


def workload(kind, ns, name, replicas, **spec):
    labels = {"app": name}
    body = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
                                       "terminationGracePeriodSeconds": 20}}, **spec},
    }  # fmt: skip
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def test_base_profile_has_mirror_pods_for_the_static_manifests(api, lab):
    version = lab.info["version"]
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        pod = api.get(path("pods", "kube-system", f"{component}-cp-1"))
        assert pod["spec"]["containers"][0]["image"] == f"registry.k8s.io/{component}:v{version}"
        assert "kubernetes.io/config.mirror" in pod["metadata"]["annotations"]
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "Node"
        assert pod["metadata"]["ownerReferences"][0]["name"] == "cp-1"
        assert pod["status"]["phase"] == "Running"
    assert api.get(path("pods", "kube-system", "etcd-cp-1"))["spec"]["containers"][0]["image"].startswith(
        "registry.k8s.io/etcd:"
    )
    proxy = api.get(path("daemonsets", "kube-system", "kube-proxy"))
    assert proxy["spec"]["template"]["spec"]["containers"][0]["image"] == f"registry.k8s.io/kube-proxy:v{version}"
    nodes = {p["spec"]["nodeName"] for p in pods(api, "kube-system", "k8s-app=kube-proxy")}
    assert nodes == {"cp-1", "worker-1", "worker-2"}
    config = api.get(path("configmaps", "kube-system", "kubeadm-config"))["data"]["ClusterConfiguration"]
    assert f"kubernetesVersion: v{version}" in config
    assert "dataDir: /var/lib/etcd" in config


def test_static_manifest_changes_show_in_the_mirror_pod(api, lab):
    manifest = lab.state_dir / "nodes" / "cp-1" / "manifests" / "kube-scheduler.yaml"
    original = manifest.read_text()
    version = lab.info["version"]
    try:
        manifest.write_text(original.replace(f"kube-scheduler:v{version}", "kube-scheduler:v1.99.0"))
        new_image = "registry.k8s.io/kube-scheduler:v1.99.0"
        wait_for("the new mirror pod", lambda: (api.get_or_none(path("pods", "kube-system", "kube-scheduler-cp-1"))
                 or {}).get("spec", {}).get("containers", [{}])[0].get("image") == new_image)  # fmt: skip
        manifest.unlink()
        wait_for("the mirror pod to go", lambda: api.get_or_none(path("pods", "kube-system", "kube-scheduler-cp-1"))
                 is None)  # fmt: skip
    finally:
        manifest.write_text(original)
    wait_for("the mirror pod back", lambda: ready(api.get_or_none(path("pods", "kube-system", "kube-scheduler-cp-1"))
             or {"status": {}}))  # fmt: skip


def test_deployment_rolls_to_a_new_replicaset(api, ns):
    api.create(path("deployments", ns), workload("Deployment", ns, "web", 3))
    wait_for("3 ready pods", lambda: len([p for p in pods(api, ns) if ready(p)]) == 3)
    first = {p["metadata"]["labels"]["pod-template-hash"] for p in pods(api, ns)}
    assert len(first) == 1
    api.patch(path("deployments", ns, "web"),
              {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.9"}]}}}},
              kind="strategic")  # fmt: skip

    def rolled():
        current = pods(api, ns)
        images = {p["spec"]["containers"][0]["image"] for p in current}
        return len(current) == 3 and images == {"registry.k8s.io/pause:3.9"} and all(ready(p) for p in current)

    wait_for("the rollout", rolled, timeout=40)
    sets = {rs["metadata"]["name"]: rs for rs in api.get(path("replicasets", ns))["items"]}
    assert sorted(rs["spec"]["replicas"] for rs in sets.values()) == [0, 3]
    status = wait_for("the deployment status", lambda: (d := api.get(path("deployments", ns, "web")))["status"].get(
        "updatedReplicas") == 3 and d["status"].get("availableReplicas") == 3 and d)  # fmt: skip
    assert status["status"]["observedGeneration"] == status["metadata"]["generation"]


def test_statefulset_pods_come_in_order_and_keep_their_names(api, ns):
    api.create(path("statefulsets", ns), workload("StatefulSet", ns, "db", 3, serviceName="db"))
    seen = []

    def all_ready():
        current = pods(api, ns)
        names = sorted(p["metadata"]["name"] for p in current)
        if names and names not in seen:
            seen.append(names)
        return len(current) == 3 and all(ready(p) for p in current)

    wait_for("3 stateful pods", all_ready, interval=0.05)
    assert seen[0] == ["db-0"], f"db-0 alone first (ordered), saw {seen}"
    old = api.get(path("pods", ns, "db-1"))
    evict(api, ns, "db-1")
    back = wait_for("db-1 recreated", lambda: (p := api.get_or_none(path("pods", ns, "db-1"))) and
                    p["metadata"]["uid"] != old["metadata"]["uid"] and ready(p) and p)  # fmt: skip
    assert back["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "db-1"


def test_pdb_status_for_each_kind_of_budget(api, ns):
    api.create(path("deployments", ns), workload("Deployment", ns, "four", 4))
    budgets = {
        "min-int": {"minAvailable": 2},
        "min-pct": {"minAvailable": "50%"},
        "max-int": {"maxUnavailable": 1},
        "max-pct": {"maxUnavailable": "30%"},
    }
    for name, spec in budgets.items():
        api.create(path("poddisruptionbudgets", ns), {
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": "four"}}, **spec}})  # fmt: skip
    wait_for("4 ready pods", lambda: len([p for p in pods(api, ns) if ready(p)]) == 4)
    expected = {  # (desiredHealthy, disruptionsAllowed) with 4 healthy pods
        "min-int": (2, 2),
        "min-pct": (2, 2),
        "max-int": (3, 1),
        "max-pct": (2, 2),  # 30% of 4 = 1.2, rounded up: 2 may be unavailable
    }

    def statuses():
        found = {}
        for pdb in api.get(path("poddisruptionbudgets", ns))["items"]:
            s = pdb.get("status") or {}
            found[pdb["metadata"]["name"]] = (s.get("desiredHealthy"), s.get("disruptionsAllowed"))
            assert s.get("currentHealthy") in (None, 0, 1, 2, 3, 4)
        return found

    wait_for("PDB status", lambda: statuses() == expected)
    pdb = api.get(path("poddisruptionbudgets", ns, "max-int"))
    assert pdb["status"]["expectedPods"] == 4
    assert pdb["status"]["currentHealthy"] == 4
    assert pdb["status"]["conditions"][0]["reason"] == "SufficientPods"


def pods_per_node(api) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in api.get(path("pods"))["items"]:
        if pod["spec"].get("nodeName") and pod["status"].get("phase") not in ("Succeeded", "Failed"):
            counts[pod["spec"]["nodeName"]] = counts.get(pod["spec"]["nodeName"], 0) + 1
    return counts


def test_scheduler_respects_taints_and_selectors_and_explains(api, ns):
    before = pods_per_node(api)
    api.create(path("deployments", ns), workload("Deployment", ns, "spread", 4))
    wait_for("4 ready pods", lambda: len([p for p in pods(api, ns) if ready(p)]) == 4)
    nodes = [p["spec"]["nodeName"] for p in pods(api, ns)]
    assert "cp-1" not in nodes, "the control-plane taint keeps ordinary pods away"
    emptier, fuller = sorted(["worker-1", "worker-2"], key=lambda n: (before.get(n, 0), n))
    assert nodes.count(emptier) >= nodes.count(fuller), f"fewest pods first: before {before}, placed {nodes}"
    if abs(before.get("worker-1", 0) - before.get("worker-2", 0)) <= 2:
        assert set(nodes) == {"worker-1", "worker-2"}, f"spread over the workers: before {before}, placed {nodes}"
    stuck = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stuck", "namespace": ns},
             "spec": {"nodeSelector": {"disk": "nvme"}, "containers": [{"name": "a", "image": "x"}]}}  # fmt: skip
    api.create(path("pods", ns), stuck)
    cond = wait_for("the Unschedulable condition", lambda: next((c for c in api.get(path("pods", ns, "stuck"))[
        "status"].get("conditions") or [] if c["type"] == "PodScheduled"), None))  # fmt: skip
    assert cond["status"] == "False"
    assert cond["reason"] == "Unschedulable"
    assert "2 node(s) didn't match Pod's node affinity/selector" in cond["message"]
    assert "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }" in cond["message"]
    assert not api.get(path("pods", ns, "stuck"))["spec"].get("nodeName")


def test_graceful_deletion_is_finished_by_the_kubelet_after_the_scaled_grace(api, ns, lab):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "slow", "namespace": ns},
           "spec": {"containers": [{"name": "a", "image": "x"}], "terminationGracePeriodSeconds": 40}}  # fmt: skip
    api.create(path("pods", ns), pod)
    wait_for("slow running", lambda: ready(api.get(path("pods", ns, "slow"))))
    started = time.monotonic()
    api.delete(path("pods", ns, "slow"))
    terminating = api.get(path("pods", ns, "slow"))
    assert terminating["metadata"]["deletionGracePeriodSeconds"] == 40
    wait_for("the pod gone", lambda: api.get_or_none(path("pods", ns, "slow")) is None, timeout=20)
    elapsed = time.monotonic() - started
    scaled = 40 * lab.info["time_factor"]
    assert scaled * 0.8 <= elapsed <= scaled + 5, f"took {elapsed:.1f}s, grace scaled to {scaled:.1f}s"


def test_node_goes_not_ready_without_heartbeats_and_comes_back(api, lab):
    lab.labctl("stop", "kubelet-worker-2")
    try:
        node = wait_for("worker-2 Unknown", lambda: (n := api.get(path("nodes", name="worker-2"))) and any(
            c["type"] == "Ready" and c["status"] == "Unknown" for c in n["status"]["conditions"]) and n,
            timeout=20)  # fmt: skip
        ready_cond = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready_cond["reason"] == "NodeStatusUnknown"
        taints = wait_for(
            "the unreachable taints", lambda: api.get(path("nodes", name="worker-2"))["spec"].get("taints")
        )
        assert {(t["key"], t["effect"]) for t in taints} == {
            ("node.kubernetes.io/unreachable", "NoSchedule"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
        }
    finally:
        lab.labctl("start", "kubelet-worker-2")
    wait_for("worker-2 Ready", lambda: any(c["type"] == "Ready" and c["status"] == "True" for c in api.get(
        path("nodes", name="worker-2"))["status"]["conditions"]))  # fmt: skip
    wait_for("the taints gone", lambda: not api.get(path("nodes", name="worker-2"))["spec"].get("taints"))


def test_eviction_of_a_missing_pod_is_404(api):
    with pytest.raises(ApiError) as err:
        evict(api, "default", "nope")
    assert err.value.status == 404
