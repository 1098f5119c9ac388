"""Real clients against the lab API server: the official Python client, kubectl, etcdctl snapshots."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

pytest_plugins = ["apiserver_fixture"]
KUBECTL = str(Path(__file__).resolve().parents[3] / ".venv" / "bin" / "kubectl")


@pytest.fixture(scope="module")
def api(apiserver):
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(apiserver.kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api_client:
        yield api_client


def kubectl(apiserver, *args: str) -> str:
    cmd = [KUBECTL, "--kubeconfig", str(apiserver.kubeconfig), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def make_everything(apiserver, ns: str, node: str) -> None:
    """One object of every kind the lab serves, shaped as the lab's components make them."""
    apiserver.node(node)
    apiserver.pod(ns, "pod")
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    selector = {"matchLabels": {"app": "a"}}
    apps = f"/apis/apps/v1/namespaces/{ns}"
    for plural in ("deployments", "replicasets", "daemonsets", "statefulsets"):
        spec = {"selector": selector, "template": template}
        if plural == "statefulsets":
            spec["serviceName"] = "svc"
        apiserver.ok("POST", f"{apps}/{plural}", {"metadata": {"name": plural[:-1]}, "spec": spec})
    apiserver.ok("POST", f"{apps}/controllerrevisions", {"metadata": {"name": "rev"}, "revision": 1, "data": {}})
    apiserver.pdb(ns, "pdb", allowed=1)
    core = f"/api/v1/namespaces/{ns}"
    apiserver.ok("POST", f"{core}/configmaps", {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    apiserver.ok("POST", f"{core}/secrets", {"metadata": {"name": "s"}, "data": {"k": "dg=="}})
    apiserver.ok("POST", f"{core}/services", {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}})
    apiserver.ok("POST", f"{core}/serviceaccounts", {"metadata": {"name": "sa"}})
    event = {"metadata": {"name": "ev"}, "involvedObject": {"kind": "Pod", "name": "pod", "namespace": ns},
             "reason": "Started", "message": "m", "type": "Normal", "count": 1}  # fmt: skip
    apiserver.ok("POST", f"{core}/events", event)
    lease = {"metadata": {"name": node}, "spec": {"holderIdentity": node, "leaseDurationSeconds": 40,
             "renewTime": "2026-01-01T00:00:00.000000Z"}}  # fmt: skip
    apiserver.ok("POST", f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", lease)


def test_python_client_deserialises_every_kind(apiserver, api, ns):
    node = f"py-{ns}"
    make_everything(apiserver, ns, node)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    policy, coord = client.PolicyV1Api(api), client.CoordinationV1Api(api)
    assert node in [n.metadata.name for n in core.list_node().items]
    assert core.read_node(node).status.node_info.kubelet_version == "v1.35.2"
    assert core.read_node_status(node).metadata.name == node
    assert ns in [n.metadata.name for n in core.list_namespace().items]
    assert core.read_namespace(ns).status.phase == "Active"
    checks = [
        (core.list_namespaced_pod, core.read_namespaced_pod, "pod"),
        (core.list_namespaced_config_map, core.read_namespaced_config_map, "cm"),
        (core.list_namespaced_secret, core.read_namespaced_secret, "s"),
        (core.list_namespaced_service, core.read_namespaced_service, "svc"),
        (core.list_namespaced_service_account, core.read_namespaced_service_account, "sa"),
        (core.list_namespaced_event, core.read_namespaced_event, "ev"),
        (apps.list_namespaced_deployment, apps.read_namespaced_deployment, "deployment"),
        (apps.list_namespaced_replica_set, apps.read_namespaced_replica_set, "replicaset"),
        (apps.list_namespaced_daemon_set, apps.read_namespaced_daemon_set, "daemonset"),
        (apps.list_namespaced_stateful_set, apps.read_namespaced_stateful_set, "statefulset"),
        (apps.list_namespaced_controller_revision, apps.read_namespaced_controller_revision, "rev"),
        (policy.list_namespaced_pod_disruption_budget, policy.read_namespaced_pod_disruption_budget, "pdb"),
        (coord.list_namespaced_lease, coord.read_namespaced_lease, node),
    ]
    for list_call, read_call, name in checks:
        assert [o.metadata.name for o in list_call(ns).items] == [name], list_call.__name__
        assert read_call(name, ns).metadata.namespace == ns, read_call.__name__
    assert core.read_namespaced_pod_status("pod", ns).status.phase == "Running"
    assert apps.read_namespaced_deployment_scale("deployment", ns).spec.replicas == 1
    assert policy.read_namespaced_pod_disruption_budget_status("pdb", ns).status.disruptions_allowed == 1
    everywhere = [core.list_pod_for_all_namespaces, apps.list_deployment_for_all_namespaces]
    everywhere += [policy.list_pod_disruption_budget_for_all_namespaces, core.list_event_for_all_namespaces]
    for all_namespaces in everywhere:
        assert ns in {o.metadata.namespace for o in all_namespaces().items}


def test_python_client_eviction_watch_and_errors(apiserver, api, ns):
    core, policy = client.CoreV1Api(api), client.PolicyV1Api(api)
    node = f"pyev-{ns}"
    apiserver.node(node)
    apiserver.pod(ns, "a", node=node)
    apiserver.pdb(ns, "web", allowed=0, healthy=(1, 1))
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name="a", namespace=ns))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod_eviction("a", ns, body)
    assert caught.value.status == 429
    assert json.loads(caught.value.body)["details"]["causes"][0]["reason"] == "DisruptionBudget"
    apiserver.ok("PATCH", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web/status",
                 {"status": {"disruptionsAllowed": 1}})  # fmt: skip
    core.create_namespaced_pod_eviction("a", ns, body)
    assert core.read_namespaced_pod("a", ns).metadata.deletion_timestamp is not None
    assert policy.read_namespaced_pod_disruption_budget("web", ns).status.disruptions_allowed == 0

    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    apiserver.ok("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "watched"}})
    seen = []
    for event in watch.Watch().stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=2):
        seen.append((event["type"], event["object"].metadata.name))
        break
    assert seen == [("ADDED", "watched")]
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("missing", ns)
    assert caught.value.status == 404


def test_kubectl_get_cordon_uncordon_drain(apiserver, ns):
    node = f"kc-{ns}"
    apiserver.node(node, metadata={"name": node, "labels": {"node-role.kubernetes.io/control-plane": ""}})
    apiserver.pod(ns, "web-1", node=node)
    apiserver.pod(ns, "web-2", node=node)
    nodes = kubectl(apiserver, "get", "nodes")
    assert nodes.split("\n")[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    row = next(line.split() for line in nodes.splitlines() if line.startswith(node))
    assert row[1:3] == ["Ready", "control-plane"] and row[-1] == "v1.35.2"
    pods = kubectl(apiserver, "get", "pods", "-A", "-o", "wide")
    mine = [line.split() for line in pods.splitlines() if line.startswith(ns)]
    assert [r[1] for r in mine] == ["web-1", "web-2"] and {r[3] for r in mine} == {"Running"}
    assert {r[7] for r in mine} == {node}

    assert kubectl(apiserver, "cordon", node).strip() == f"node/{node} cordoned"
    assert apiserver.ok("GET", f"/api/v1/nodes/{node}")["spec"]["unschedulable"] is True
    assert "Ready,SchedulingDisabled" in kubectl(apiserver, "get", "node", node)
    assert kubectl(apiserver, "uncordon", node).strip() == f"node/{node} uncordoned"
    assert not apiserver.ok("GET", f"/api/v1/nodes/{node}")["spec"].get("unschedulable")

    refused = subprocess.run([KUBECTL, "--kubeconfig", str(apiserver.kubeconfig), "drain", node],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode != 0 and "cannot delete Pods that declare no controller" in refused.stderr
    out = kubectl(apiserver, "drain", node, "--force", "--grace-period=0", "--timeout=30s")
    assert f"node/{node} drained" in out
    assert apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods")["items"] == []


def test_kubectl_typed_creates_send_protobuf(apiserver, ns):
    # kubectl's typed clients encode these as protobuf: the lab decodes them.
    kubectl(apiserver, "create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=2", "--port=80")
    d = apiserver.ok("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    assert d["spec"]["replicas"] == 2 and d["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    container = d["spec"]["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"], container["ports"]) == (
        "nginx",
        "nginx",
        [{"containerPort": 80, "protocol": "TCP"}],
    )
    assert d["spec"]["strategy"]["type"] == "RollingUpdate"
    kubectl(apiserver, "create", "pdb", "web", "-n", ns, "--selector=app=web", "--min-available=50%")
    pdb = apiserver.ok("GET", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web")
    assert pdb["spec"] == {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}
    kubectl(
        apiserver, "run", "solo", "-n", ns, "--image=busybox", "--restart=Never", "--labels=a=b", "--", "sleep", "9"
    )
    pod = apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/solo")
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "9"] and pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["labels"] == {"a": "b"}
    kubectl(apiserver, "create", "job", "once", "-n", ns, "--image=busybox", "--", "echo", "hi")
    job = apiserver.ok("GET", f"/apis/batch/v1/namespaces/{ns}/jobs/once")
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "once",
        "controller-uid": uid, "job-name": "once"}  # fmt: skip
    assert job["metadata"]["labels"] == job["spec"]["template"]["metadata"]["labels"]
    assert (job["spec"]["backoffLimit"], job["spec"]["completions"], job["spec"]["completionMode"]) == (
        6, 1, "NonIndexed")  # fmt: skip
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Never" and pod_spec["containers"][0]["command"] == ["echo", "hi"]
    kubectl(apiserver, "create", "secret", "generic", "s", "-n", ns, "--from-literal=k=v")
    assert apiserver.ok("GET", f"/api/v1/namespaces/{ns}/secrets/s")["data"] == {"k": "dg=="}


def test_kubectl_apply_scale_delete(apiserver, ns, tmp_path):
    container = {"name": "c", "image": "nginx", "env": [{"name": "A", "value": "1"}]}
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [container]}}
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template},
    }
    path = tmp_path / "deploy.json"
    path.write_text(json.dumps(manifest))
    assert kubectl(apiserver, "apply", "-f", str(path)).strip() == "deployment.apps/web created"
    manifest["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "2"
    path.write_text(json.dumps(manifest))
    assert kubectl(apiserver, "apply", "-f", str(path)).strip() == "deployment.apps/web configured"
    d = apiserver.ok("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    assert d["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "2"}]
    assert d["metadata"]["generation"] == 2
    assert (
        kubectl(apiserver, "scale", "-n", ns, "deployment/web", "--replicas=4").strip() == "deployment.apps/web scaled"
    )
    assert apiserver.ok("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/web")["spec"]["replicas"] == 4
    assert "deleted" in kubectl(apiserver, "delete", "-f", str(path))
    assert apiserver.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web")[0] == 404


def test_snapshot_restore_brings_a_deleted_namespace_back(apiserver, tmp_path):
    srv = type(apiserver)(tmp_path)  # a second etcd and API server of its own
    srv.start_etcd()
    try:
        srv.start()
        ns = srv.namespace("snap")
        srv.ok("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "kept"}, "data": {"k": "v"}})
        snapshot = tmp_path / "snap.db"
        srv.etcdctl("snapshot", "save", str(snapshot))
        srv.ok("DELETE", f"/api/v1/namespaces/{ns}")
        wait_for(lambda: srv.get(f"/api/v1/namespaces/{ns}")[0] == 404)

        # Restore under a running API server: it sees another etcd cluster and relists.
        srv.stop_etcd()
        restored = tmp_path / "restored"
        peer = f"https://127.0.0.1:{srv.peer_port}"
        subprocess.run(["etcdctl", "snapshot", "restore", str(snapshot), "--data-dir", str(restored),
                        "--name", "lab-etcd", "--initial-cluster", f"lab-etcd={peer}",
                        "--initial-advertise-peer-urls", peer],
                       check=True, capture_output=True, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"})  # fmt: skip
        srv.start_etcd(restored)
        wait_for(lambda: srv.get(f"/api/v1/namespaces/{ns}")[0] == 200)
        assert srv.ok("GET", f"/api/v1/namespaces/{ns}")["status"]["phase"] == "Active"
        assert srv.ok("GET", f"/api/v1/namespaces/{ns}/configmaps/kept")["data"] == {"k": "v"}
        srv.ok("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "after"}})  # writes work again

        assert srv.stop() == 0  # SIGTERM: a clean exit
        srv._local.conn = None
        srv.start()
        names = [c["metadata"]["name"] for c in srv.ok("GET", f"/api/v1/namespaces/{ns}/configmaps")["items"]]
        assert names == ["after", "kept"]
    finally:
        srv.stop_controllers()
        srv.stop()
        srv.stop_etcd()


def wait_for(check, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
