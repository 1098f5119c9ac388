#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: version_skew
short_description: Check a cluster against the Kubernetes version skew policy and plan the upgrade path
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - Judges the versions of a cluster's components against the official version skew policy
    (U(https://kubernetes.io/releases/version-skew-policy/)), now and during each hop of a planned upgrade.
  - The versions come from O(versions) (offline) or, without it, from the cluster itself (control plane
    mirror pods, node kubelet versions, the kube-proxy DaemonSet).
  - The upgrade path has one hop per minor. Intermediate hops go to the newest release of their minor in
    O(available_versions) (to C(vX.Y.0) when no list is given); the last hop goes to O(target_version).
  - During a hop the control plane (apiservers, controller-managers, schedulers, kubeadm and the kube-proxy
    DaemonSet, which C(kubeadm upgrade apply) moves too) is at the hop version, while kubelets and kubectl are
    where the previous hop left them (their current versions for the first hop). A kubelet that the first hop
    would leave too far behind is therefore an error before anything is touched.
  - A downgrade (a target older than a running control plane component) is an error.
  - kubectl outside one minor of the apiservers, and kubeadm not at or one minor ahead of them, are warnings.
options:
  target_version:
    description:
      - The version to upgrade to, for example V(v1.33.2), V(1.33.2) or V(1.33).
      - A minor line (V(1.33)) means the newest release of that minor in O(available_versions), else
        V(v1.33.0); never less than what the control plane already runs in that minor.
      - Without it only the current versions are judged and RV(upgrade_path) is empty.
      - Quote it in YAML, an unquoted V(1.30) is the number 1.3.
    type: str
  versions:
    description:
      - The versions to judge, instead of reading them from the cluster. Every form is accepted
        (V(v1.30.2), V(1.30.2), package versions like V(1.30.2-1.1) and image references like
        V(registry.k8s.io/kube-apiserver:v1.30.2)).
      - Without it the module reads the cluster with the connection options.
    type: dict
    suboptions:
      kube_apiserver:
        description: The version of each kube-apiserver instance. Required when O(versions) is given.
        type: list
        elements: str
      kube_controller_manager:
        description: The version of each kube-controller-manager instance.
        type: list
        elements: str
      kube_scheduler:
        description: The version of each kube-scheduler instance.
        type: list
        elements: str
      kubelet:
        description: Node name -> kubelet version.
        type: dict
      kube_proxy:
        description: Node name -> kube-proxy version.
        type: dict
      kubectl:
        description: The kubectl version used to manage the cluster.
        type: str
      kubeadm:
        description: The kubeadm version installed on the control plane.
        type: str
  available_versions:
    description:
      - The versions that can be installed (for example from the package repository), in any accepted form.
      - Intermediate hops go to the newest release of their minor in this list; a hop whose version is not in
        the list is an error.
    type: list
    elements: str
  fail_on_violation:
    description:
      - Fail when a violation of severity C(error) is found. Warnings never fail the task.
      - When false the task succeeds and RV(ok) tells whether the versions are allowed.
    type: bool
    default: true
extends_documentation_fragment:
  - cluster_ops.kubeadm.connection
  - cluster_ops.kubeadm._attributes
  - cluster_ops.kubeadm._attributes.info_module
  - cluster_ops.kubeadm._attributes.actiongroup_k8s
notes:
  - The connection options are used only when O(versions) is not given.
"""

EXAMPLES = r"""
- name: Check the cluster and plan the upgrade to 1.33
  cluster_ops.kubeadm.version_skew:
    kubeconfig: /etc/kubernetes/admin.conf
    target_version: "1.33"
    available_versions: "{{ kubeadm_versions_in_repo }}"
  register: skew

- name: Show the hops
  ansible.builtin.debug:
    msg: "{{ skew.upgrade_path }}"

- name: Judge versions given offline, report without failing
  cluster_ops.kubeadm.version_skew:
    versions:
      kube_apiserver: [v1.32.1, v1.32.1, v1.32.1]
      kube_controller_manager: [v1.32.1, v1.32.1, v1.32.1]
      kube_scheduler: [v1.32.1, v1.32.1, v1.32.1]
      kubelet:
        worker-1: v1.32.1
        worker-2: v1.29.4
      kube_proxy:
        worker-1: v1.32.1
        worker-2: v1.32.1
      kubectl: v1.32.0
    target_version: v1.33.2
    fail_on_violation: false
  register: skew

- name: Stop when the upgrade is not allowed
  ansible.builtin.assert:
    that: skew.ok
    fail_msg: "{{ skew.violations | map(attribute='message') | list }}"
"""

RETURN = r"""
current:
  description: The versions judged, canonical (C(v1.30.2)), in the shape of O(versions).
  returned: always
  type: dict
  sample:
    kube_apiserver: [v1.32.1]
    kube_controller_manager: [v1.32.1]
    kube_scheduler: [v1.32.1]
    kubelet: {cp-1: v1.32.1, worker-1: v1.31.4}
    kube_proxy: {cp-1: v1.32.1, worker-1: v1.32.1}
    kubectl: null
    kubeadm: null
cluster_version:
  description: The cluster's version, that of its oldest kube-apiserver.
  returned: always
  type: str
  sample: v1.32.1
target_version:
  description: O(target_version) resolved to a release (a minor line becomes a patch release), or null.
  returned: always
  type: str
  sample: v1.33.2
violations:
  description:
    - Every violation of the skew policy, now and during the planned hops (a problem already present is
      reported once, at its first occurrence).
  returned: always
  type: list
  elements: dict
  contains:
    component:
      description: The component, named like the keys of O(versions).
      type: str
      sample: kubelet
    node:
      description: The node, for kubelet and kube_proxy; null otherwise.
      type: str
      sample: worker-2
    version:
      description: The component's version in the judged state.
      type: str
      sample: v1.29.4
    rule:
      description:
        - The rule broken, C(apiserver_ha_skew), C(controller_manager_skew), C(scheduler_skew), C(kubelet_skew),
          C(kube_proxy_skew), C(kube_proxy_kubelet_skew), C(kubectl_skew), C(kubeadm_skew), C(no_downgrade)
          or C(hop_available).
      type: str
      sample: kubelet_skew
    message:
      description: One line saying what is wrong and what the policy allows.
      type: str
      sample: >-
        during hop 1 of 1 (control plane at v1.33.2): kubelet v1.29.4 on node worker-2 is 4 minors older than
        kube-apiserver v1.33.2 (the policy allows 3)
    severity:
      description: V(error) (fails the task when O(fail_on_violation)) or V(warning).
      type: str
      sample: error
    hop:
      description: The hop during which the violation would occur, null for the current state.
      type: str
      sample: v1.33.2
upgrade_path:
  description: The hops to O(target_version), one version per minor; empty when there is nothing to do.
  returned: always
  type: list
  elements: str
  sample: [v1.31.5, v1.32.3, v1.33.2]
checked_hops:
  description: Each hop judged, whether it is allowed and how many errors it has.
  returned: always
  type: list
  elements: dict
  sample: [{version: v1.33.2, ok: false, errors: 1}]
ok:
  description: True when no violation of severity C(error) was found.
  returned: always
  type: bool
  sample: true
"""

from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC, api_client
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.skew import check, enforce

VERSIONS_OPTIONS = {
    "kube_apiserver": {"type": "list", "elements": "str"},
    "kube_controller_manager": {"type": "list", "elements": "str"},
    "kube_scheduler": {"type": "list", "elements": "str"},
    "kubelet": {"type": "dict"},
    "kube_proxy": {"type": "dict"},
    "kubectl": {"type": "str"},
    "kubeadm": {"type": "str"},
}


def cluster_versions(params: dict[str, Any]) -> dict[str, Any]:
    # Imported here: only a live read needs the cluster facts (and the kubernetes client).
    from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import skew_versions

    return skew_versions(api_client(params))


def main() -> None:
    module = new_module(
        argument_spec={
            "target_version": {"type": "str"},
            "versions": {"type": "dict", "options": VERSIONS_OPTIONS},
            "available_versions": {"type": "list", "elements": "str"},
            "fail_on_violation": {"type": "bool", "default": True},
            **CONNECTION_ARGSPEC,
        },
        supports_check_mode=True,
    )
    params = module.params

    def logic() -> dict[str, Any]:
        versions = params["versions"] if params["versions"] is not None else cluster_versions(params)
        result = check(versions, params["target_version"], params["available_versions"])
        return enforce(result, params["fail_on_violation"])

    run_module(module, logic, needs_kubernetes=params["versions"] is None)


if __name__ == "__main__":
    main()
