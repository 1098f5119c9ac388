"""cluster_info on recorded API JSON of a kubeadm cluster in the middle of an upgrade.

The scenario (fixtures/cluster_info/midupgrade): cp-1 upgraded to v1.35.2, cp-2 still v1.34.4 (etcd 3.5.15-0),
worker-1 cordoned with a bare debug pod, a StatefulSet pod with emptyDir and a web pod behind a PDB at zero,
worker-2 NotReady with a pod selected by two PDBs; kube-proxy's DaemonSet at v1.35.2 with no pod on worker-2.
"""

from __future__ import annotations

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster import info as cf
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import (
    ApiError,
    ClusterOpsError,
    InvalidInput,
    OperationTimeout,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.cluster.cluster_info_fake import (
    FakeApiServer,
)

KUBE_PROXY_DS = "apis_apps_v1_namespaces_kube-system_daemonsets_kube-proxy"
KUBEADM_CONFIG = "api_v1_namespaces_kube-system_configmaps_kubeadm-config"


def paths(server: FakeApiServer) -> list[str]:
    return [request[0] for request in server.requests]


def test_skew_versions_reads_nodes_kube_system_pods_and_the_kube_proxy_daemonset_only():
    server = FakeApiServer("midupgrade")
    assert cf.skew_versions(server.client()) == {
        "kube_apiserver": ["v1.35.2", "v1.34.4"],
        "kube_controller_manager": ["v1.35.2", "v1.34.4"],
        "kube_scheduler": ["v1.35.2", "v1.34.4"],
        "kubelet": {"cp-1": "v1.35.2", "cp-2": "v1.34.4", "worker-1": "v1.34.4", "worker-2": "v1.33.8"},
        # worker-2 has no kube-proxy pod: the DaemonSet's image stands in
        "kube_proxy": {"cp-1": "v1.35.2", "cp-2": "v1.35.2", "worker-1": "v1.34.4", "worker-2": "v1.35.2"},
    }
    assert sorted(set(paths(server))) == [
        "/api/v1/namespaces/kube-system/pods",
        "/api/v1/nodes",
        "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy",
    ]
    assert all("limit" in query for path, query in server.requests if not path.endswith("kube-proxy"))


def test_skew_versions_without_kube_proxy_daemonset_reports_only_nodes_with_a_pod():
    server = FakeApiServer("midupgrade", missing=(KUBE_PROXY_DS,))
    assert cf.skew_versions(server.client())["kube_proxy"] == {
        "cp-1": "v1.35.2",
        "cp-2": "v1.35.2",
        "worker-1": "v1.34.4",
    }


@pytest.fixture(scope="module")
def facts():
    server = FakeApiServer("midupgrade")
    result = cf.gather(server.client(), page_size=3)
    return result, server


def test_every_list_is_followed_through_its_continue_tokens(facts):
    server = facts[1]
    pod_queries = [query for path, query in server.requests if path == "/api/v1/pods"]
    assert len(pod_queries) == 9  # 25 pods in pages of 3
    assert "continue" not in pod_queries[0]
    assert all(q["limit"] == "3" and q["continue"] for q in pod_queries[1:])
    assert paths(server).count("/api/v1/nodes") == 2
    assert paths(server).count("/apis/policy/v1/poddisruptionbudgets") == 2


def test_a_list_restarted_after_an_expired_token_counts_every_pod_once(facts):
    server = FakeApiServer("midupgrade", expiring=("api_v1_pods", "apis_policy_v1_poddisruptionbudgets"))
    result = cf.gather(server.client(), page_size=3)
    pod_queries = [query for path, query in server.requests if path == "/api/v1/pods"]
    assert len(pod_queries) == 11  # page 1, the expired page 2, then all 9 pages again
    assert sum("continue" not in query for query in pod_queries) == 2
    assert result["counts"] == facts[0]["counts"]
    assert result["drain_blockers"] == facts[0]["drain_blockers"]
    assert result["pdbs"] == facts[0]["pdbs"]
    assert result["nodes"] == facts[0]["nodes"]


def test_node_facts(facts):
    nodes = facts[0]["nodes"]
    assert sorted(nodes) == ["cp-1", "cp-2", "worker-1", "worker-2"]
    assert nodes["cp-1"] == {
        "roles": ["control-plane"],
        "control_plane": True,
        "ready": True,
        "unschedulable": False,
        "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        "kubelet_version": "v1.35.2",
        "boot_id": "b0b00001-1111-2222-3333-444455556666",
        "internal_ip": "10.0.0.11",
        "cordoned_by": None,
        "pods": 6,
    }
    assert nodes["worker-1"]["roles"] == ["ingress", "worker"]
    assert nodes["worker-1"]["unschedulable"] is True
    assert nodes["worker-1"]["taints"] == [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    assert nodes["worker-2"]["ready"] is False  # Ready condition Unknown
    assert [t["effect"] for t in nodes["worker-2"]["taints"]] == ["NoSchedule", "NoExecute"]
    assert nodes["worker-2"]["kubelet_version"] == "v1.33.8"
    assert sum(n["pods"] for n in nodes.values()) == 24  # one of the 25 pods is not scheduled


def test_control_plane_versions_from_mirror_pods(facts):
    assert facts[0]["control_plane"] == {
        "cp-1": {
            "kube_apiserver": "v1.35.2",
            "kube_controller_manager": "v1.35.2",
            "kube_scheduler": "v1.35.2",
            "etcd": "3.6.5-0",
        },
        "cp-2": {
            "kube_apiserver": "v1.34.4",
            "kube_controller_manager": "v1.34.4",
            "kube_scheduler": "v1.34.4",
            "etcd": "3.5.15-0",
        },
    }


def test_kubeadm_cluster_configuration_and_kube_proxy(facts):
    result = facts[0]
    config = result["kubeadm_config"]
    assert config["kind"] == "ClusterConfiguration"
    assert config["kubernetesVersion"] == "v1.35.2"
    assert config["networking"]["podSubnet"] == "192.168.0.0/16"
    assert config["apiServer"]["extraArgs"][1] == {"name": "audit-log-maxage", "value": "30"}
    assert result["kube_proxy"] == {
        "image": "registry.k8s.io/kube-proxy:v1.35.2",
        "version": "v1.35.2",
        "nodes": {"cp-1": "v1.35.2", "cp-2": "v1.35.2", "worker-1": "v1.34.4"},
    }


def test_pdbs(facts):
    pdbs = {(p["namespace"], p["name"]): p for p in facts[0]["pdbs"]}
    assert list(pdbs) == sorted(pdbs)
    assert pdbs["shop", "web"] == {
        "namespace": "shop",
        "name": "web",
        "disruptions_allowed": 0,
        "current_healthy": 2,
        "desired_healthy": 2,
        "expected_pods": 3,
        "min_available": 2,
        "max_unavailable": None,
    }
    assert pdbs["shop", "canary"]["max_unavailable"] == "50%"
    assert pdbs["shop", "cache"]["disruptions_allowed"] == 1


def test_drain_blockers(facts):
    assert facts[0]["drain_blockers"] == {
        "worker-1": [
            {"namespace": "default", "name": "debug-shell", "reasons": ["unmanaged"]},
            {"namespace": "shop", "name": "cache-0", "reasons": ["emptydir"]},
            {"namespace": "shop", "name": "web-5d7f9c6b8d-k2x8v", "reasons": ["pdb"], "pdbs": ["web"]},
        ],
        "worker-2": [
            {
                "namespace": "monitoring",
                "name": "prometheus-0",
                "reasons": ["multiple_pdbs"],
                "pdbs": ["monitoring-all", "prometheus"],
            },
            {"namespace": "shop", "name": "web-5d7f9c6b8d-p9d4s", "reasons": ["pdb"], "pdbs": ["web"]},
        ],
    }


def test_counts_and_duration(facts):
    result = facts[0]
    assert result["counts"] == {
        "nodes": 4,
        "ready_nodes": 3,
        "unschedulable_nodes": 1,
        "control_plane_nodes": 2,
        "pods": 25,
        "pdbs": 6,
        "pdbs_blocking": 4,
        "drain_blockers": 5,
    }
    assert 0 <= result["duration"] < 30


def test_without_pods_reads_only_kube_system_and_reports_no_blockers():
    server = FakeApiServer("midupgrade")
    result = cf.gather(server.client(), include_pods=False)
    assert "/api/v1/pods" not in paths(server)
    assert "/api/v1/namespaces/kube-system/pods" in paths(server)
    assert result["drain_blockers"] is None
    assert result["counts"]["pods"] is None
    assert result["counts"]["drain_blockers"] is None
    assert "pods" not in result["nodes"]["cp-1"]
    assert result["control_plane"]["cp-2"]["etcd"] == "3.5.15-0"
    assert result["kube_proxy"]["nodes"]["worker-1"] == "v1.34.4"


def test_named_nodes_are_read_with_a_field_selector():
    server = FakeApiServer("midupgrade")
    result = cf.gather(server.client(), nodes=["worker-1", "cp-2"], page_size=3)
    selectors = {q.get("fieldSelector") for path, q in server.requests if path == "/api/v1/pods"}
    assert selectors == {"spec.nodeName=worker-1", "spec.nodeName=cp-2"}
    assert sorted(result["nodes"]) == ["cp-2", "worker-1"]
    assert list(result["control_plane"]) == ["cp-2"]
    assert result["kube_proxy"]["nodes"] == {"cp-2": "v1.35.2", "worker-1": "v1.34.4"}
    assert list(result["drain_blockers"]) == ["worker-1"]
    assert len(result["drain_blockers"]["worker-1"]) == 3
    assert result["counts"]["pods"] == 13
    assert result["counts"]["pdbs"] == 6  # PDBs stay cluster-wide


def test_many_named_nodes_filter_the_full_pod_list(monkeypatch):
    monkeypatch.setattr(cf, "PER_NODE_LISTING_MAX", 1)
    server = FakeApiServer("midupgrade")
    result = cf.gather(server.client(), nodes=["worker-1", "cp-2"])
    assert {q.get("fieldSelector") for path, q in server.requests if path == "/api/v1/pods"} == {None}
    assert result["counts"]["pods"] == 13
    assert list(result["drain_blockers"]) == ["worker-1"]


def test_unknown_node_is_one_clear_error():
    with pytest.raises(InvalidInput, match=r"nodes not found in the cluster: worker-9$"):
        cf.gather(FakeApiServer("midupgrade").client(), nodes=["worker-1", "worker-9"])


def test_cluster_not_made_by_kubeadm_gives_nulls():
    server = FakeApiServer("midupgrade", missing=(KUBE_PROXY_DS, KUBEADM_CONFIG))
    result = cf.gather(server.client(), include_pods=False)
    assert result["kubeadm_config"] is None
    assert result["kube_proxy"]["image"] is None
    assert result["kube_proxy"]["version"] is None


def test_api_error_names_what_was_read():
    server = FakeApiServer("midupgrade", missing=("api_v1_nodes",))
    with pytest.raises(ApiError, match=r"^listing nodes failed: 404 "):
        cf.gather(server.client())


def test_timeout_is_an_operation_timeout():
    with pytest.raises(OperationTimeout, match="listing nodes did not finish within"):
        cf.gather(FakeApiServer("midupgrade").client(), timeout=1e-9)


def test_run_rejects_a_non_positive_timeout():
    with pytest.raises(InvalidInput, match="timeout must be a positive number of seconds, got 0"):
        cf.run({"timeout": 0})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, None),
        ({"data": {}}, None),
        ({"data": {"ClusterConfiguration": "kind: ClusterConfiguration\nkubernetesVersion: v1.33.1\n"}}, "v1.33.1"),
    ],
)
def test_parse_cluster_configuration(data, expected):
    parsed = cf.parse_cluster_configuration(data)
    assert (parsed or {}).get("kubernetesVersion") == expected


@pytest.mark.parametrize("text", ["kind: [unclosed", "just a string"])
def test_bad_cluster_configuration_is_one_clear_error(text):
    with pytest.raises(ClusterOpsError, match="kube-system/kubeadm-config: ClusterConfiguration is not"):
        cf.parse_cluster_configuration({"data": {"ClusterConfiguration": text}})
