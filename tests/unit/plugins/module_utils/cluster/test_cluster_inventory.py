"""The nodes inventory's logic on recorded API JSON: the nodes read, kubespray's groups, the etcd topology."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster import inventory
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError, InvalidInput
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.cluster.cluster_info_fake import (
    FakeApiServer,
    FakeResponse,
)

KUBEADM_CONFIG = "api_v1_namespaces_kube-system_configmaps_kubeadm-config"


class Forbidden(FakeResponse):
    def __init__(self, message: str) -> None:
        body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden", "code": 403}
        super().__init__(200, {**body, "message": message})
        self.status, self.reason = 403, "Forbidden"


class ConfigurableServer(FakeApiServer):
    """The recorded cluster, with some paths answering 403 or another ClusterConfiguration."""

    def __init__(self, forbidden: tuple[str, ...] = (), configuration: str | None = None) -> None:
        super().__init__("midupgrade")
        self.forbidden = forbidden
        self.configuration = configuration

    def request(self, method: str, url: str, headers: Any = None, body: Any = None, **kwargs: Any) -> FakeResponse:
        for path in self.forbidden:
            if path in url:
                self.requests.append((path, {}))
                return Forbidden(f'configmaps "kubeadm-config" is forbidden: cannot get resource at {path}')
        if self.configuration is not None and "kubeadm-config" in url:
            return FakeResponse(200, {"data": {"ClusterConfiguration": self.configuration}})
        return super().request(method, url, headers=headers, body=body, **kwargs)


def test_every_node_is_read_page_by_page_with_its_facts():
    server = FakeApiServer("midupgrade")
    nodes = inventory.read_nodes(server.client(), page_size=1)
    assert list(nodes) == ["cp-1", "cp-2", "worker-1", "worker-2"]
    assert [path for path, _query in server.requests] == ["/api/v1/nodes"] * 4  # one node per page
    assert all(query["limit"] == "1" for _path, query in server.requests)
    worker = nodes["worker-1"]
    assert worker["roles"] == ["ingress", "worker"] and not worker["control_plane"]
    assert worker["unschedulable"] is True and worker["internal_ip"] == "10.0.0.21"
    assert worker["labels"]["node-role.kubernetes.io/ingress"] == "true"
    assert worker["kubelet_version"] == "v1.34.4" and worker["cordoned_by"] is None
    assert nodes["cp-1"]["control_plane"] and nodes["cp-1"]["architecture"] == "amd64"
    assert set(worker) >= {"os_image", "kernel_version", "container_runtime", "ready", "taints"}


def test_a_label_selector_is_sent_to_the_api():
    server = FakeApiServer("midupgrade")
    inventory.read_nodes(server.client(), label_selector="node-role.kubernetes.io/worker")
    assert server.requests[0][1]["labelSelector"] == "node-role.kubernetes.io/worker"


def test_kubespray_groups_with_a_stacked_etcd():
    nodes = inventory.read_nodes(FakeApiServer("midupgrade").client())
    hosts, children = inventory.layout(nodes, stacked=True)
    assert hosts == {"kube_control_plane": ["cp-1", "cp-2"], "kube_node": ["worker-1", "worker-2"]}
    assert children == {"k8s_cluster": ["kube_control_plane", "kube_node"], "etcd": ["kube_control_plane"]}


def test_an_external_etcd_leaves_the_etcd_group_empty():
    nodes = inventory.read_nodes(FakeApiServer("midupgrade").client())
    assert inventory.layout(nodes, stacked=False)[1]["etcd"] == []


def test_auto_reads_kubeadm_config_local_etcd_is_stacked():
    warnings: list[str] = []
    assert inventory.stacked_etcd(FakeApiServer("midupgrade").client(), "auto", warnings.append) is True
    assert warnings == []


def test_auto_external_etcd():
    server = ConfigurableServer(configuration="kind: ClusterConfiguration\netcd:\n  external:\n    endpoints: [x]\n")
    assert inventory.stacked_etcd(server.client(), "auto", [].append) is False


def test_auto_without_the_configmap_warns_and_takes_stacked():
    warnings: list[str] = []
    server = FakeApiServer("midupgrade", missing=(KUBEADM_CONFIG,))
    assert inventory.stacked_etcd(server.client(), "auto", warnings.append) is True
    assert warnings == [
        "kube-system/kubeadm-config has no ClusterConfiguration; the control planes are taken as the etcd members"
    ]


def test_auto_when_the_configmap_is_forbidden_warns_naming_the_403():
    warnings: list[str] = []
    server = ConfigurableServer(forbidden=("/configmaps/kubeadm-config",))
    assert inventory.stacked_etcd(server.client(), "auto", warnings.append) is True
    assert len(warnings) == 1 and "403" in warnings[0] and "set etcd: external if not" in warnings[0]


@pytest.mark.parametrize(("mode", "stacked"), [("stacked", True), ("external", False)])
def test_an_explicit_etcd_mode_reads_nothing(mode, stacked):
    server = FakeApiServer("midupgrade")
    assert inventory.stacked_etcd(server.client(), mode, [].append) is stacked
    assert server.requests == []


def test_an_unknown_etcd_mode_is_refused_naming_it():
    with pytest.raises(InvalidInput, match="etcd 'both' is not one of auto, stacked, external"):
        inventory.stacked_etcd(FakeApiServer("midupgrade").client(), "both", [].append)


def test_a_forbidden_node_list_is_an_api_error_naming_it():
    server = ConfigurableServer(forbidden=("/api/v1/nodes",))
    with pytest.raises(ApiError, match="listing nodes failed: 403"):
        inventory.read_nodes(server.client())


def test_host_variables():
    facts = {"internal_ip": "10.0.0.21", "ready": True}
    assert inventory.host_variables("worker-1", facts) == {
        "node_name": "worker-1",
        "kubeadm_node": facts,
        "ansible_host": "10.0.0.21",
    }
    assert "ansible_host" not in inventory.host_variables("worker-1", facts, use_internal_ip=False)
    assert "ansible_host" not in inventory.host_variables("worker-1", {"internal_ip": None})
