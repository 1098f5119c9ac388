# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster's nodes as an Ansible inventory: one host per node, kubespray's groups, the node's facts as variables.

The nodes are read with cluster_info's paginated reader and summarised by its ``summarize_node``; this module only
decides the groups and the host variables, so that the inventory plugin stays wiring (options, cache, constructed).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import (
    PAGE_SIZE,
    _Reader,
    parse_cluster_configuration,
    summarize_node,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError, ClusterOpsError, InvalidInput

# kubespray's group names, which the collection's playbooks target.
CLUSTER_GROUP = "k8s_cluster"
CONTROL_PLANE_GROUP = "kube_control_plane"
NODE_GROUP = "kube_node"
ETCD_GROUP = "etcd"
GROUPS = (CLUSTER_GROUP, CONTROL_PLANE_GROUP, NODE_GROUP, ETCD_GROUP)
ETCD_MODES = ("auto", "stacked", "external")
# The host variable that holds a node's facts.
FACTS_VARIABLE = "kubeadm_node"


def node_facts(node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(name, facts) of a Node object: cluster_info's summary, plus its labels and what nodeInfo says of its OS."""
    name, facts = summarize_node(node)
    metadata = node.get("metadata") or {}
    info = (node.get("status") or {}).get("nodeInfo") or {}
    facts["labels"] = dict(metadata.get("labels") or {})
    facts["os_image"] = info.get("osImage")
    facts["kernel_version"] = info.get("kernelVersion")
    facts["architecture"] = info.get("architecture")
    facts["container_runtime"] = info.get("containerRuntimeVersion")
    return name, facts


def read_nodes(
    api_client: Any, label_selector: Optional[str] = None, timeout: float = 120, page_size: int = PAGE_SIZE
) -> dict[str, dict[str, Any]]:
    """Node name -> facts for every node (matching ``label_selector``), read page by page."""
    reader = _Reader(api_client, timeout=timeout, page_size=page_size)
    what = f"listing nodes ({label_selector})" if label_selector else "listing nodes"
    found: dict[str, dict[str, Any]] = {}
    for node in reader.items(reader.core.list_node, what, label_selector=label_selector or None):
        name, facts = node_facts(node)
        if name:
            found[name] = facts  # keyed: a list restarted after an expired continue token repeats nodes
    return dict(sorted(found.items()))


def stacked_etcd(api_client: Any, mode: str, warn: Callable[[str], None], timeout: float = 120) -> bool:
    """Whether the control planes are the etcd members (kubeadm's stacked etcd).

    ``auto`` reads kubeadm's ClusterConfiguration: ``etcd.external`` means an external etcd; ``etcd.local`` or no
    etcd section means stacked. When the ConfigMap cannot be read, stacked is assumed with a warning.
    """
    if mode not in ETCD_MODES:
        raise InvalidInput(f"etcd {mode!r} is not one of {', '.join(ETCD_MODES)}")
    if mode != "auto":
        return mode == "stacked"
    reader = _Reader(api_client, timeout=timeout, page_size=PAGE_SIZE)
    try:
        configuration = parse_cluster_configuration(reader.kubeadm_config())
    except (ApiError, ClusterOpsError) as exc:
        warn(f"{exc.message}; the control planes are taken as the etcd members (set etcd: external if not)")
        return True
    if configuration is None:
        warn("kube-system/kubeadm-config has no ClusterConfiguration; the control planes are taken as the etcd members")
        return True
    return "external" not in (configuration.get("etcd") or {})


def layout(nodes: dict[str, dict[str, Any]], stacked: bool) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """kubespray's groups as (group -> hosts, group -> child groups): the control planes in kube_control_plane, the
    other nodes in kube_node, both under k8s_cluster; with a stacked etcd, kube_control_plane under etcd, as
    kubespray's inventories write it (an external etcd leaves the group empty: its members are not nodes)."""
    control_planes = [name for name, facts in nodes.items() if facts.get("control_plane")]
    hosts = {
        CONTROL_PLANE_GROUP: control_planes,
        NODE_GROUP: [name for name in nodes if name not in control_planes],
    }
    children = {
        CLUSTER_GROUP: [CONTROL_PLANE_GROUP, NODE_GROUP],
        ETCD_GROUP: [CONTROL_PLANE_GROUP] if stacked else [],
    }
    return hosts, children


def host_variables(name: str, facts: dict[str, Any], use_internal_ip: bool = True) -> dict[str, Any]:
    """The variables of a node's host: ``ansible_host`` (its InternalIP), ``node_name`` (the name the roles use
    in the API) and its facts under ``kubeadm_node``."""
    variables: dict[str, Any] = {"node_name": name, FACTS_VARIABLE: facts}
    if use_internal_ip and facts.get("internal_ip"):
        variables["ansible_host"] = facts["internal_ip"]
    return variables
