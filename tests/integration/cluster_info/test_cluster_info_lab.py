"""cluster_info against the lab: what it reports must match what the API (read with the real kubectl) holds.

Creates its own workload in the namespace ``facts-it``: a bare pod (unmanaged), a Deployment with an emptyDir,
a Deployment behind a PDB at zero disruptions, and a Deployment selected by two PDBs.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
from ansible_run import run_module

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import gather, skew_versions
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import api_client

NAMESPACE = "facts-it"


def kubectl_json(lab, kubectl, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [kubectl, "--kubeconfig", str(lab.kubeconfig), *args, "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def kubectl_create(lab, kubectl, objects: list[dict[str, Any]]) -> None:
    document = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    # --validate=false: client-side validation needs the OpenAPI document, which the lab does not serve
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(lab.kubeconfig), "create", "--validate=false", "-f", "-"],
        input=document,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def deployment(name: str, replicas: int, volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}
    if volumes:
        spec["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": spec},
        },
    }


def pdb(name: str, selector: dict[str, Any], **budget: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"selector": selector, **budget},
    }


@pytest.fixture(scope="module")
def workload(lab, kubectl):
    """The facts-it objects, with every pod Running and Ready and every PDB's status computed."""
    kubectl_create(lab, kubectl, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}])
    kubectl_create(
        lab,
        kubectl,
        [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "loner", "namespace": NAMESPACE, "labels": {"app": "loner"}},
                "spec": {
                    "nodeName": "worker-1",
                    "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
                },
            },
            deployment("scratchy", 1, volumes=[{"name": "tmp", "emptyDir": {}}]),
            deployment("guarded", 2),
            pdb("guarded", {"matchLabels": {"app": "guarded"}}, minAvailable=2),
            deployment("shared", 1),
            pdb("shared-a", {"matchLabels": {"app": "shared"}}, maxUnavailable=1),
            pdb(
                "shared-b",
                {"matchExpressions": [{"key": "app", "operator": "In", "values": ["shared"]}]},
                maxUnavailable=1,
            ),
        ],
    )
    deadline = time.monotonic() + 90
    while True:
        pods = kubectl_json(lab, kubectl, "get", "pods", "-n", NAMESPACE)["items"]
        budgets = {
            p["metadata"]["name"]: p.get("status") or {}
            for p in kubectl_json(lab, kubectl, "get", "pdb", "-n", NAMESPACE)["items"]
        }
        running = [p for p in pods if p["status"].get("phase") == "Running"]
        settled = (
            len(running) == 5
            and budgets.get("guarded", {}).get("currentHealthy") == 2
            and budgets.get("shared-a", {}).get("currentHealthy") == 1
        )
        if settled:
            break
        assert time.monotonic() < deadline, f"facts-it workload not ready: {len(running)}/5 pods Running, {budgets}"
        time.sleep(1)
    yield {p["metadata"]["name"]: p for p in pods}
    subprocess.run(
        [kubectl, "--kubeconfig", str(lab.kubeconfig), "delete", "namespace", NAMESPACE, "--wait=false"],
        check=False,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def facts(lab, workload):
    result = run_module("cluster_info", {"kubeconfig": str(lab.kubeconfig)})
    assert not result.get("failed"), result
    return result


def test_nodes_match_the_api(lab, kubectl, facts):
    nodes = {n["metadata"]["name"]: n for n in kubectl_json(lab, kubectl, "get", "nodes")["items"]}
    assert sorted(facts["nodes"]) == sorted(nodes)
    assert facts["counts"]["nodes"] == len(nodes)
    for name, node in nodes.items():
        reported = facts["nodes"][name]
        assert reported["kubelet_version"] == node["status"]["nodeInfo"]["kubeletVersion"]
        internal = [a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"]
        assert reported["internal_ip"] == internal[0]
        ready = [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert reported["ready"] is (ready == ["True"])
        assert reported["unschedulable"] is bool(node["spec"].get("unschedulable"))
        assert [t["key"] for t in reported["taints"]] == [t["key"] for t in node["spec"].get("taints") or []]
    assert facts["nodes"]["cp-1"]["roles"] == ["control-plane"]
    assert facts["nodes"]["cp-1"]["control_plane"] is True
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in facts["nodes"]["cp-1"]["taints"]
    assert facts["nodes"]["worker-1"]["control_plane"] is False
    assert facts["counts"]["control_plane_nodes"] == 1


def test_versions_match_the_mirror_pods_the_daemonset_and_kubeadm_config(lab, kubectl, facts):
    system = kubectl_json(lab, kubectl, "get", "pods", "-n", "kube-system")["items"]
    mirrors = {
        p["metadata"]["name"]: p["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
        for p in system
        if "kubernetes.io/config.mirror" in (p["metadata"].get("annotations") or {})
    }
    assert facts["control_plane"] == {
        "cp-1": {
            "kube_apiserver": mirrors["kube-apiserver-cp-1"],
            "kube_controller_manager": mirrors["kube-controller-manager-cp-1"],
            "kube_scheduler": mirrors["kube-scheduler-cp-1"],
            "etcd": mirrors["etcd-cp-1"],
        }
    }
    version = "v" + lab.info["version"].lstrip("v")
    assert facts["control_plane"]["cp-1"]["kube_apiserver"] == version
    assert facts["kubeadm_config"]["kubernetesVersion"] == version
    daemonset = kubectl_json(lab, kubectl, "get", "daemonset", "-n", "kube-system", "kube-proxy")
    assert facts["kube_proxy"]["image"] == daemonset["spec"]["template"]["spec"]["containers"][0]["image"]
    proxies = {
        p["spec"]["nodeName"] for p in system if (p["metadata"].get("labels") or {}).get("k8s-app") == "kube-proxy"
    }
    assert set(facts["kube_proxy"]["nodes"]) == proxies


def test_pdbs_match_the_api(lab, kubectl, facts):
    budgets = kubectl_json(lab, kubectl, "get", "pdb", "-A")["items"]
    assert facts["counts"]["pdbs"] == len(budgets)
    reported = {(p["namespace"], p["name"]): p for p in facts["pdbs"]}
    for budget in budgets:
        entry = reported[budget["metadata"]["namespace"], budget["metadata"]["name"]]
        assert entry["disruptions_allowed"] == budget["status"]["disruptionsAllowed"]
        assert entry["expected_pods"] == budget["status"].get("expectedPods")
    guarded = reported[NAMESPACE, "guarded"]
    assert (guarded["disruptions_allowed"], guarded["min_available"], guarded["current_healthy"]) == (0, 2, 2)


def test_drain_blockers_are_the_pods_we_made(facts, workload):
    blockers = {
        (b["namespace"], b["name"]): (node, b)
        for node, entries in facts["drain_blockers"].items()
        for b in entries
        if b["namespace"] == NAMESPACE
    }
    expected = {}
    for name, pod in workload.items():
        app = pod["metadata"]["labels"]["app"]
        reasons = {
            "loner": ["unmanaged"],
            "scratchy": ["emptydir"],
            "guarded": ["pdb"],
            "shared": ["multiple_pdbs"],
        }[app]
        expected[NAMESPACE, name] = (pod["spec"]["nodeName"], reasons)
    assert {key: (node, b["reasons"]) for key, (node, b) in blockers.items()} == expected
    shared = [b for _, b in blockers.values() if b["reasons"] == ["multiple_pdbs"]]
    assert shared[0]["pdbs"] == ["shared-a", "shared-b"]
    assert facts["nodes"]["worker-1"]["pods"] >= 1


def test_check_mode_reports_the_same_and_changes_nothing(lab, facts):
    checked = run_module("cluster_info", {"kubeconfig": str(lab.kubeconfig)}, check=True)
    assert checked["changed"] is False
    assert checked["nodes"] == facts["nodes"]
    assert checked["drain_blockers"] == facts["drain_blockers"]


def test_named_nodes_and_no_pods(lab, facts):
    one = run_module("cluster_info", {"kubeconfig": str(lab.kubeconfig), "nodes": ["worker-1"]})
    assert list(one["nodes"]) == ["worker-1"]
    assert one["nodes"]["worker-1"] == facts["nodes"]["worker-1"]
    assert one["drain_blockers"].get("worker-1") == facts["drain_blockers"].get("worker-1")
    assert one["control_plane"] == {}
    light = run_module("cluster_info", {"kubeconfig": str(lab.kubeconfig), "include_pods": False})
    assert light["drain_blockers"] is None
    assert light["control_plane"] == facts["control_plane"]


def test_unknown_node_is_one_clear_line(lab):
    result = run_module("cluster_info", {"kubeconfig": str(lab.kubeconfig), "nodes": ["worker-1", "nope-7"]})
    assert result["failed"] is True
    assert result["msg"] == "nodes not found in the cluster: nope-7"
    assert "Traceback" not in str(result.get("exception", ""))  # ansible-core 2.19 says "(traceback unavailable)"


def test_small_pages_give_the_same_facts_as_large_ones(lab, workload):
    client = api_client({"kubeconfig": str(lab.kubeconfig)})
    small = gather(client, page_size=2)
    large = gather(client, page_size=500)
    small.pop("duration")
    large.pop("duration")
    assert small == large
    assert small["counts"]["pods"] > 2


def test_skew_versions_match_the_api(lab, kubectl):
    versions = skew_versions(api_client({"kubeconfig": str(lab.kubeconfig)}))
    nodes = kubectl_json(lab, kubectl, "get", "nodes")["items"]
    assert versions["kubelet"] == {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes}
    version = "v" + lab.info["version"].lstrip("v")
    assert versions["kube_apiserver"] == [version]
    assert versions["kube_controller_manager"] == [version]
    assert versions["kube_scheduler"] == [version]
    assert set(versions["kube_proxy"]) == set(versions["kubelet"])


@pytest.fixture
def apps_profile(lab, kubectl):
    """The ``apps`` profile on the shared lab, removed afterwards: its pods would block other tests' drains."""
    lab.labctl("seed", "--profile", "apps")
    yield
    subprocess.run(
        [kubectl, "--kubeconfig", lab.kubeconfig, "delete", "namespace", "apps", "--wait=true", "--timeout=120s"],
        check=True,
        capture_output=True,
        timeout=150,
    )


def test_apps_profile_blockers(lab, apps_profile):
    result = run_module("cluster_info", {"kubeconfig": str(lab.kubeconfig)})
    apps = {
        b["name"]: b["reasons"]
        for entries in result["drain_blockers"].values()
        for b in entries
        if b["namespace"] == "apps"
    }
    assert apps.pop("standalone") == ["unmanaged"]
    assert sorted(apps.values()) == [["emptydir"], ["emptydir"]]  # the two scratch pods
    assert all(name.startswith("scratch-") for name in apps)


def test_the_former_name_cluster_facts_is_routed_to_cluster_info(lab):
    args = {"kubeconfig": str(lab.kubeconfig), "include_pods": False}
    former, current = run_module("cluster_facts", args), run_module("cluster_info", args)
    assert "failed" not in former, former
    assert sorted(former["nodes"]) == sorted(current["nodes"]) == sorted(lab.info["nodes"])
    assert former["control_plane"] == current["control_plane"]
