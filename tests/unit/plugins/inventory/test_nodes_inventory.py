"""The nodes inventory plugin: file names, connection options from the environment, groups, constructed, cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader

try:  # ansible-core 2.19: templates read from an inventory file are trusted, plain strings are not
    from ansible.template import trust_as_template
except ImportError:  # older releases trust every string

    def trust_as_template(value: Any) -> Any:
        return value


from ansible_collections.cluster_ops.kubeadm.plugins.inventory import nodes as plugin_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s import connection
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.cluster.cluster_info_fake import (
    FakeApiServer,
)

DEFAULTS: dict[str, Any] = {
    "plugin": "cluster_ops.kubeadm.nodes",
    "label_selector": None,
    "etcd": "auto",
    "use_internal_ip": True,
    "timeout": 120,
    "compose": {},
    "groups": {},
    "keyed_groups": [],
    "strict": False,
    "leading_separator": True,
    "use_extra_vars": False,
    "cache": False,
    "cache_plugin": "memory",
    "cache_timeout": 3600,
    "cache_connection": None,
    "cache_prefix": "ansible_inventory_",
    **dict.fromkeys(connection.CONNECTION_KEYS),
}


class Harness:
    """The plugin with the options a file would give (no plugin loader), reading a recorded cluster."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **options: Any) -> None:
        self.server = FakeApiServer("midupgrade")
        self.params: list[dict[str, Any]] = []
        self.path = tmp_path / "cluster.nodes.yml"
        self.path.write_text("plugin: cluster_ops.kubeadm.nodes\n")
        self.options = {**DEFAULTS, **options}
        monkeypatch.setattr(plugin_module.connection, "api_client", self._client)

    def _client(self, params: dict[str, Any]) -> Any:
        self.params.append(params)
        return self.server.client()

    def plugin(self) -> plugin_module.InventoryModule:
        plugin = plugin_module.InventoryModule()
        options = self.options

        def read_config_data(_path: str) -> None:
            plugin._options = dict(options)
            if options["cache"]:
                plugin.load_cache_plugin()

        plugin._read_config_data = read_config_data
        return plugin

    def parse(self, cache: bool = True) -> InventoryData:
        inventory = InventoryData()
        plugin = self.plugin()
        plugin.parse(inventory, DataLoader(), str(self.path), cache=cache)
        if self.options["cache"]:
            plugin.update_cache_if_changed()  # as the inventory manager does after each source
        return inventory


def members(inventory: InventoryData, group: str) -> list[str]:
    return sorted(host.name for host in inventory.groups[group].get_hosts())


@pytest.mark.parametrize(
    ("name", "ok"),
    [("cluster.nodes.yml", True), ("nodes.yaml", True), ("prod-nodes.yml", True), ("hosts.yml", False),
     ("cluster.nodes.json", False)],
)  # fmt: skip
def test_only_files_ending_nodes_yml_are_taken(tmp_path, name, ok):
    path = tmp_path / name
    path.write_text("plugin: cluster_ops.kubeadm.nodes\n")
    assert plugin_module.InventoryModule().verify_file(str(path)) is ok


def test_kubespray_groups_and_host_variables(monkeypatch, tmp_path):
    inventory = Harness(monkeypatch, tmp_path).parse()
    assert members(inventory, "kube_control_plane") == ["cp-1", "cp-2"]
    assert members(inventory, "kube_node") == ["worker-1", "worker-2"]
    assert members(inventory, "etcd") == ["cp-1", "cp-2"]  # through kube_control_plane
    assert members(inventory, "k8s_cluster") == ["cp-1", "cp-2", "worker-1", "worker-2"]
    assert [g.name for g in inventory.groups["etcd"].child_groups] == ["kube_control_plane"]
    variables = inventory.get_host("worker-1").get_vars()
    assert variables["ansible_host"] == "10.0.0.21" and variables["node_name"] == "worker-1"
    assert variables["kubeadm_node"]["unschedulable"] is True
    assert variables["kubeadm_node"]["labels"]["node-role.kubernetes.io/ingress"] == "true"


def test_external_etcd(monkeypatch, tmp_path):
    inventory = Harness(monkeypatch, tmp_path, etcd="external").parse()
    assert members(inventory, "etcd") == []
    assert members(inventory, "kube_control_plane") == ["cp-1", "cp-2"]


def test_compose_groups_and_keyed_groups(monkeypatch, tmp_path):
    trusted = trust_as_template
    harness = Harness(
        monkeypatch,
        tmp_path,
        compose={"ansible_user": trusted("'admin'"), "zone_kubelet": trusted("kubeadm_node.kubelet_version")},
        groups={"cordoned": trusted("kubeadm_node.unschedulable"), "not_ready": trusted("not kubeadm_node.ready")},
        keyed_groups=[{"key": trusted("kubeadm_node.kubelet_version"), "prefix": "kubelet"}],
        strict=True,
    )
    inventory = harness.parse()
    assert members(inventory, "cordoned") == ["worker-1"]
    assert members(inventory, "not_ready") == ["worker-2"]
    assert members(inventory, "kubelet_v1_35_2") == ["cp-1"]
    assert members(inventory, "kubelet_v1_34_4") == ["cp-2", "worker-1"]
    variables = inventory.get_host("cp-2").get_vars()
    assert variables["ansible_user"] == "admin" and variables["zone_kubelet"] == "v1.34.4"


def test_connection_options_fall_back_to_the_k8s_auth_environment(monkeypatch, tmp_path):
    for name, value in {
        "K8S_AUTH_HOST": "https://10.0.0.10:6443",
        "K8S_AUTH_API_KEY": "t0ken",
        "K8S_AUTH_VERIFY_SSL": "False",
        "K8S_AUTH_IMPERSONATE_GROUPS": "ops,audit",
    }.items():
        monkeypatch.setenv(name, value)
    harness = Harness(monkeypatch, tmp_path, context="prod")
    harness.parse()
    params = harness.params[0]
    assert params["host"] == "https://10.0.0.10:6443" and params["api_key"] == "t0ken"
    assert params["validate_certs"] is False  # the credential's string, converted as the modules convert it
    assert params["context"] == "prod"
    assert params["impersonate_groups"] == ["ops", "audit"]


def test_an_option_of_the_file_wins_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("K8S_AUTH_HOST", "https://from-env:6443")
    harness = Harness(monkeypatch, tmp_path, host="https://from-file:6443")
    harness.parse()
    assert harness.params[0]["host"] == "https://from-file:6443"


def test_a_bad_option_value_is_one_parser_error(monkeypatch, tmp_path):
    harness = Harness(monkeypatch, tmp_path, validate_certs="perhaps")
    with pytest.raises(AnsibleParserError, match=r"cluster_ops\.kubeadm\.nodes: .*validate_certs"):
        harness.parse()


def test_an_api_error_is_one_parser_error_naming_the_read(monkeypatch, tmp_path):
    harness = Harness(monkeypatch, tmp_path)
    harness.server.missing.add("api_v1_nodes")
    with pytest.raises(AnsibleParserError, match=r"cluster_ops.kubeadm.nodes: listing nodes failed: 404"):
        harness.parse()


def test_no_way_to_the_cluster_is_one_parser_error(monkeypatch, tmp_path):
    for name in ("KUBECONFIG", "K8S_AUTH_HOST", "K8S_AUTH_KUBECONFIG", "KUBERNETES_SERVICE_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    real_client = connection.api_client
    harness = Harness(monkeypatch, tmp_path)
    monkeypatch.setattr(plugin_module.connection, "api_client", real_client)
    with pytest.raises(AnsibleParserError, match="no way to reach the cluster"):
        harness.parse()


def test_the_cache_answers_without_reading_the_cluster(monkeypatch, tmp_path):
    cached = {
        "cache": True,
        "cache_plugin": "jsonfile",
        "cache_connection": str(tmp_path / "cache"),
    }
    harness = Harness(monkeypatch, tmp_path, **cached)
    first = harness.parse(cache=False)  # a refresh: read, then written to the cache
    reads = len(harness.server.requests)
    assert reads > 0
    second = harness.parse(cache=True)
    assert len(harness.server.requests) == reads  # nothing read the second time
    assert members(second, "kube_node") == members(first, "kube_node") == ["worker-1", "worker-2"]
    assert second.get_host("cp-1").get_vars()["ansible_host"] == "10.0.0.11"
