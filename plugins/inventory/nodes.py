# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nodes
short_description: The nodes of a kubeadm cluster as an inventory, in kubespray's groups
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - Reads the cluster's Node objects through the API (page by page) and makes one host per node, named as the node,
    with C(ansible_host) set to its first C(InternalIP) address.
  - "Groups the hosts as the collection's playbooks and kubespray expect them: nodes with the
    C(node-role.kubernetes.io/control-plane) (or legacy C(master)) label in C(kube_control_plane), the other nodes in
    C(kube_node), both groups under C(k8s_cluster); C(etcd) holds C(kube_control_plane) when the cluster's etcd is
    stacked (kubeadm's default), and nothing when it is external (see O(etcd))."
  - Every host gets C(node_name) (the node's name in the API, which the roles use) and C(kubeadm_node), the node's
    facts as M(cluster_ops.kubeadm.cluster_info) reports them (C(roles), C(control_plane), C(ready),
    C(unschedulable), C(taints), C(kubelet_version), C(internal_ip), C(cordoned_by)) plus C(labels), C(os_image),
    C(kernel_version), C(architecture) and C(container_runtime), for O(compose), O(groups) and O(keyed_groups).
  - The connection options are those of the collection's modules, with the same environment variables
    (E(K8S_AUTH_HOST), E(K8S_AUTH_API_KEY), E(K8S_AUTH_SSL_CA_CERT), E(K8S_AUTH_VERIFY_SSL), E(K8S_AUTH_KUBECONFIG)
    ...), so an AWX inventory source with a Kubernetes bearer token credential, or with the collection's kubeconfig
    credential type, needs no option at all.
  - The inventory file's name must end with C(nodes.yml) or C(nodes.yaml).
options:
  plugin:
    description: The name of this plugin, which makes the file an inventory of it.
    type: str
    required: true
    choices: [cluster_ops.kubeadm.nodes]
  label_selector:
    description:
      - Only the nodes whose labels match this label selector, for example C(topology.kubernetes.io/zone=eu-1a).
      - The groups are made of the nodes read; a selector that leaves out the control planes leaves
        C(kube_control_plane) empty.
    type: str
  etcd:
    description:
      - Where the cluster's etcd runs. V(stacked) puts the control planes in C(etcd), V(external) leaves the group
        empty (its members are not nodes; add them to the inventory yourself).
      - V(auto) reads kubeadm's ClusterConfiguration (the C(kube-system/kubeadm-config) ConfigMap) - C(etcd.external)
        means external, anything else stacked; when the ConfigMap cannot be read, stacked is assumed with a warning.
    type: str
    choices: [auto, stacked, external]
    default: auto
  use_internal_ip:
    description:
      - Set C(ansible_host) to the node's first C(InternalIP). When false (or a node has none), Ansible connects to
        the node's name; O(compose) can set C(ansible_host) from any fact instead.
    type: bool
    default: true
  timeout:
    description: Seconds the whole read may take.
    type: int
    default: 120
extends_documentation_fragment:
  - cluster_ops.kubeadm.connection
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
notes:
  - Needs list on nodes and, with O(etcd=auto), get on the ConfigMap C(kube-system/kubeadm-config).
  - Nodes that are not Ready are listed too; their C(kubeadm_node.ready) is false (a constructed group of them is
    one O(groups) entry away).
seealso:
  - module: cluster_ops.kubeadm.cluster_info
"""

EXAMPLES = r"""
# cluster.nodes.yml - the nodes of the cluster the environment's credentials reach (AWX: a Kubernetes bearer
# token credential, or the collection's kubeconfig credential type, on the inventory source), with more groups and
# variables from the node facts.
plugin: cluster_ops.kubeadm.nodes
groups:
  not_ready: not kubeadm_node.ready
  cordoned_by_others: kubeadm_node.unschedulable and not kubeadm_node.cordoned_by
keyed_groups:
  - key: kubeadm_node.labels['topology.kubernetes.io/zone'] | default('none')
    prefix: zone
  - key: kubeadm_node.kubelet_version
    prefix: kubelet
compose:
  ansible_user: "'ubuntu'"

# prod.nodes.yml - an explicit kubeconfig and context:
#   plugin: cluster_ops.kubeadm.nodes
#   kubeconfig: ~/.kube/prod.conf
#   context: prod-admin

# batch.nodes.yml - only some nodes, of the API server given here with the token of K8S_AUTH_API_KEY, cached for
# an hour:
#   plugin: cluster_ops.kubeadm.nodes
#   host: https://10.0.0.10:6443
#   ca_cert: /etc/pki/cluster-ca.crt
#   label_selector: node.kubernetes.io/pool=batch
#   cache: true
#   cache_plugin: ansible.builtin.jsonfile
#   cache_connection: /tmp/cluster-ops-inventory
#   cache_timeout: 3600
"""

from typing import Any

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster import inventory as layout
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ClusterOpsError
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s import connection

display = Display()


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "cluster_ops.kubeadm.nodes"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(("nodes.yml", "nodes.yaml"))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        found = None
        if use_cache:
            try:
                found = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if found is None:
            found = self._read_cluster()
        if update_cache:
            self._cache[cache_key] = found
        self._populate(found["nodes"], found["stacked_etcd"])

    def connection_params(self) -> dict[str, Any]:
        """The connection options of the file, completed from the K8S_AUTH_* environment as the modules do."""
        given = {name: self.get_option(name) for name in connection.CONNECTION_KEYS}
        result = ArgumentSpecValidator(connection.CONNECTION_ARGSPEC).validate(
            {name: value for name, value in given.items() if value is not None}
        )
        if result.error_messages:
            raise AnsibleParserError(f"{self.NAME}: {'; '.join(result.error_messages)}")
        return result.validated_parameters

    def _read_cluster(self) -> dict[str, Any]:
        if not connection.HAS_KUBERNETES:
            raise AnsibleError(f"{self.NAME} needs the kubernetes Python client (pip install kubernetes)")
        timeout = self.get_option("timeout")
        try:
            client = connection.api_client(self.connection_params())
            nodes = layout.read_nodes(client, self.get_option("label_selector"), timeout=timeout)
            stacked = layout.stacked_etcd(client, self.get_option("etcd"), display.warning, timeout=timeout)
        except ClusterOpsError as exc:
            raise AnsibleParserError(f"{self.NAME}: {exc.message}") from exc
        return {"nodes": nodes, "stacked_etcd": stacked}

    def _populate(self, nodes: dict[str, dict[str, Any]], stacked: bool) -> None:
        hosts, children = layout.layout(nodes, stacked)
        for group in (*children, *hosts):
            self.inventory.add_group(group)
        for parent, members in children.items():
            for child in members:
                self.inventory.add_child(parent, child)
        strict = self.get_option("strict")
        for group, names in hosts.items():
            for name in names:
                self.inventory.add_host(name, group=group)
                variables = layout.host_variables(name, nodes[name], self.get_option("use_internal_ip"))
                for key, value in variables.items():
                    self.inventory.set_variable(name, key, value)
                self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
