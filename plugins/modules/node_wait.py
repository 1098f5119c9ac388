#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_wait
short_description: Wait until a node is Ready, runs a given kubelet version, and its DaemonSet pods are Running
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - Reads the node every O(interval) seconds until its C(Ready) condition is C(True), and, when asked, its
    kubelet reports O(kubelet_version) and every DaemonSet pod bound to it is C(Running).
  - A node that does not exist yet, or an API server that does not answer (as during a control-plane
    upgrade or a reboot), is waited for too.
  - When O(timeout) passes, the task fails with one line that says what was last seen - the Ready condition
    with its reason and message, the kubelet version seen and the one wanted, the DaemonSet pods not Running.
options:
  node:
    description: Name of the node.
    type: str
    required: true
    aliases: [name]
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 300
  kubelet_version:
    description:
      - Also wait until the node's kubelet reports this version (C(status.nodeInfo.kubeletVersion)).
        C(1.35.2) and C(v1.35.2) are the same.
    type: str
  daemonsets_running:
    description:
      - Also wait until every DaemonSet-managed pod bound to the node is C(Running) and not terminating
        (for example kube-proxy and the network plugin after a reboot).
    type: bool
    default: false
  previous_boot_id:
    description:
      - Also wait until the node reports a boot ID (C(status.nodeInfo.bootID)) other than this one, the
        RV(boot_id) read before a reboot, so that the kubelet of the new boot has reported. Without it a node
        whose kubelet does not start after a reboot looks Ready until the control plane marks it
        C(Unknown) (the node monitor grace period, 40 to 50 seconds).
    type: str
  interval:
    description: Seconds between two reads.
    type: float
    default: 1.0
extends_documentation_fragment:
  - cluster_ops.kubeadm.connection
  - cluster_ops.kubeadm._attributes
  - cluster_ops.kubeadm._attributes.info_module
  - cluster_ops.kubeadm._attributes.actiongroup_k8s
notes:
  - Needs get on nodes and, with O(daemonsets_running), list on pods.
seealso:
  - module: cluster_ops.kubeadm.node_drain
"""

EXAMPLES = r"""
- name: Wait for the node to come back after a reboot
  cluster_ops.kubeadm.node_wait:
    node: worker-1
    timeout: 600
    daemonsets_running: true

- name: Read the boot ID before a reboot
  cluster_ops.kubeadm.node_wait:
    node: worker-1
  register: before_reboot

- name: After the reboot, wait for the kubelet of the new boot
  cluster_ops.kubeadm.node_wait:
    node: worker-1
    previous_boot_id: "{{ before_reboot.boot_id }}"
    daemonsets_running: true

- name: Wait until the upgraded kubelet has registered
  cluster_ops.kubeadm.node_wait:
    node: "{{ inventory_hostname }}"
    kubelet_version: "{{ target_version }}"
  delegate_to: localhost
"""

RETURN = r"""
node:
  description: The node's name.
  returned: always
  type: str
  sample: worker-1
ready:
  description: Whether the node's C(Ready) condition is C(True).
  returned: success
  type: bool
  sample: true
kubelet_version:
  description: The version the node's kubelet reports.
  returned: success
  type: str
  sample: v1.35.2
boot_id:
  description: The boot ID the node's kubelet reports (C(status.nodeInfo.bootID)); it changes with every boot.
  returned: success
  type: str
  sample: 5d1c4a3e-8f0b-4c55-9a8e-2f7d8c1e9b40
unschedulable:
  description: Whether the node is cordoned (node_wait does not change it).
  returned: success
  type: bool
  sample: true
daemonset_pods_not_running:
  description: DaemonSet pods on the node not yet Running (empty on success); only with O(daemonsets_running).
  returned: when daemonsets_running
  type: list
  elements: str
  sample: []
elapsed:
  description: Seconds waited.
  returned: always
  type: float
  sample: 12.3
polls:
  description: How many times the node was read.
  returned: always
  type: int
  sample: 13
last_seen:
  description: On timeout, the node's state at the last read.
  returned: failure
  type: dict
"""

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.wait import WAIT_ARGSPEC, run


def main() -> None:
    module = new_module(argument_spec={**WAIT_ARGSPEC, **CONNECTION_ARGSPEC}, supports_check_mode=True)
    run_module(module, lambda: run(module.params), needs_kubernetes=True)


if __name__ == "__main__":
    main()
