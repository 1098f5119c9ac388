#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cluster_info
short_description: Read the state of a kubeadm cluster that matters for maintenance, in one paginated pass
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - Reads nodes, kube-system pods (or every pod), PodDisruptionBudgets, the C(kube-proxy) DaemonSet and the
    C(kubeadm-config) ConfigMap, and reports what an upgrade or a drain needs to know.
  - Every list is read page by page (C(limit)/C(continue)) and reduced to a small summary at once, so the
    module works on clusters of thousands of nodes and tens of thousands of pods with little memory.
  - Control-plane component versions come from the images of the kubeadm static (mirror) pods on each
    control-plane node; kube-proxy's from its DaemonSet and from its pods.
  - A drain blocker is a pod that C(kubectl drain --ignore-daemonsets) or the eviction API would refuse
    (see RV(drain_blockers)). Mirror pods, DaemonSet pods, terminating and finished pods never block.
  - The facts are returned as the task's result (use C(register)), not set as host facts.
options:
  include_pods:
    description:
      - Read every pod of the cluster to find drain blockers and count pods per node.
      - This is the expensive part on a large cluster. When false, only kube-system pods are read (for the
        component versions) and RV(drain_blockers) and the pod counts are null.
    type: bool
    default: true
  nodes:
    description:
      - Report only these nodes (their facts, control-plane versions, kube-proxy versions, drain blockers).
        PDBs are always reported for the whole cluster.
      - The pods of up to 20 named nodes are listed node by node with a field selector, not all pods.
      - A name that is not a node of the cluster is an error.
    type: list
    elements: str
  timeout:
    description: Give up with an error when the whole read takes longer than this many seconds.
    type: int
    default: 600
extends_documentation_fragment:
  - cluster_ops.kubeadm.connection
  - cluster_ops.kubeadm._attributes
  - cluster_ops.kubeadm._attributes.info_module
  - cluster_ops.kubeadm._attributes.actiongroup_k8s
notes:
  - Needs read (list) access to nodes, pods, poddisruptionbudgets, and get access to the kube-system
    DaemonSet C(kube-proxy) and ConfigMap C(kubeadm-config). A missing DaemonSet or ConfigMap (a cluster
    not made by kubeadm) gives null values, not an error.
requirements:
  - kubernetes (the Python client)
  - PyYAML
seealso:
  - module: cluster_ops.kubeadm.version_skew
"""

EXAMPLES = r"""
- name: Read the cluster
  cluster_ops.kubeadm.cluster_info:
    kubeconfig: /etc/kubernetes/admin.conf
  register: cluster

- name: Stop when a node is not Ready
  ansible.builtin.assert:
    that: cluster.counts.ready_nodes == cluster.counts.nodes
    fail_msg: "NotReady: {{ cluster.nodes | dict2items | rejectattr('value.ready') | map(attribute='key') | list }}"

- name: Stop when a drain of worker-1 would be refused
  ansible.builtin.assert:
    that: cluster.drain_blockers['worker-1'] is not defined
    fail_msg: "{{ cluster.drain_blockers['worker-1'] }}"

- name: Only the control plane's versions, without reading every pod
  cluster_ops.kubeadm.cluster_info:
    include_pods: false
  register: cluster

- name: Facts of the next batch of nodes only
  cluster_ops.kubeadm.cluster_info:
    nodes: [worker-1, worker-2]
  register: batch
"""

RETURN = r"""
nodes:
  description: Node name -> its facts.
  returned: always
  type: dict
  sample:
    cp-1:
      roles: [control-plane]
      control_plane: true
      ready: true
      unschedulable: false
      taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
      kubelet_version: v1.35.2
      internal_ip: 10.0.0.11
      pods: 9
  contains:
    roles:
      description: The C(node-role.kubernetes.io/<role>) labels' roles, sorted.
      type: list
      elements: str
    control_plane:
      description: Whether the node has the C(control-plane) (or legacy C(master)) role.
      type: bool
    ready:
      description: Whether the node's C(Ready) condition is C(True).
      type: bool
    unschedulable:
      description: Whether the node is cordoned.
      type: bool
    taints:
      description: The node's taints (C(key), C(value) when set, C(effect)).
      type: list
      elements: dict
    kubelet_version:
      description: The kubelet version the node reports.
      type: str
    boot_id:
      description: The boot ID the node reports (C(status.nodeInfo.bootID)); it changes with every boot.
      type: str
    internal_ip:
      description: The node's first C(InternalIP) address, or null.
      type: str
    pods:
      description: How many pods are bound to the node. Only with O(include_pods).
      type: int
    cordoned_by:
      description:
        - V(cluster_ops.kubeadm) when this collection cordoned the node (annotation C(cluster-ops.io/cordoned-by),
          removed when it uncordons it), else null; a cordoned node without it was cordoned by someone else.
      type: str
control_plane:
  description:
    - Control-plane node -> the image tags of its kubeadm static pods (C(kube_apiserver),
      C(kube_controller_manager), C(kube_scheduler), C(etcd)). A component without a mirror pod is absent.
  returned: always
  type: dict
  sample:
    cp-1: {kube_apiserver: v1.35.2, kube_controller_manager: v1.35.2, kube_scheduler: v1.35.2, etcd: 3.6.5-0}
kubeadm_config:
  description: The kubeadm ClusterConfiguration from the C(kube-system/kubeadm-config) ConfigMap, or null.
  returned: always
  type: dict
  sample: {kind: ClusterConfiguration, kubernetesVersion: v1.35.2, controlPlaneEndpoint: "k8s-api:6443"}
kube_proxy:
  description: kube-proxy's DaemonSet image and version, and the version of its pod on each node.
  returned: always
  type: dict
  sample: {image: "registry.k8s.io/kube-proxy:v1.35.2", version: v1.35.2, nodes: {cp-1: v1.35.2}}
pdbs:
  description: Every PodDisruptionBudget, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  sample:
    - namespace: shop
      name: web
      disruptions_allowed: 0
      current_healthy: 2
      desired_healthy: 2
      expected_pods: 3
      min_available: 2
      max_unavailable: null
drain_blockers:
  description:
    - Node name -> the pods a drain of that node would refuse; nodes without any are absent.
    - Each pod has C(namespace), C(name), C(reasons) and, for PDB reasons, C(pdbs) (the PDB names).
    - Reasons are C(unmanaged) (no controller owner; lost for good, needs C(force)), C(emptydir) (local data,
      needs C(delete_emptydir_data)), C(pdb) (its PDB allows no disruption; the eviction gets 429) and
      C(multiple_pdbs) (more than one PDB selects it; the eviction gets 500). PDBs do not guard Pending pods.
    - Null without O(include_pods).
  returned: always
  type: dict
  sample:
    worker-1:
      - {namespace: default, name: debug-shell, reasons: [unmanaged]}
      - {namespace: shop, name: web-5d7f9c6b8d-k2x8v, reasons: [pdb], pdbs: [web]}
counts:
  description: Totals; C(pods) and C(drain_blockers) are null without O(include_pods).
  returned: always
  type: dict
  sample:
    nodes: 3
    ready_nodes: 3
    unschedulable_nodes: 0
    control_plane_nodes: 1
    pods: 40
    pdbs: 2
    pdbs_blocking: 1
    drain_blockers: 2
duration:
  description: Seconds the read took.
  returned: always
  type: float
  sample: 0.412
"""

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import run
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module


def main() -> None:
    module = new_module(
        argument_spec={
            "include_pods": {"type": "bool", "default": True},
            "nodes": {"type": "list", "elements": "str"},
            "timeout": {"type": "int", "default": 600},
            **CONNECTION_ARGSPEC,
        },
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module.params), needs_kubernetes=True)


if __name__ == "__main__":
    main()
