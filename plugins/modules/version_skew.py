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
  - With O(newest_minor) or O(probe_newest_minor) it also says when to upgrade (RV(support)) - the newest released
    minor, the three minors still patched, and how far behind the cluster is - and refuses a target beyond the
    newest release.
  - Every option is checked before anything is read; a bad value fails the task with one line naming the option
    and the value. A version that arrived as a number (YAML reads an unquoted V(1.30) as 1.3) is refused with
    a hint to quote it.
options:
  target_version:
    description:
      - The version to upgrade to, for example V(v1.33.2), V(1.33.2) or V(1.33).
      - A minor line (V(1.33)) means the newest release of that minor in O(available_versions), else
        V(v1.33.0); never less than what the control plane already runs in that minor.
      - Without it only the current versions are judged and RV(upgrade_path) is empty.
      - At most 12 minors ahead of the cluster (the path is planned one minor per hop, and a longer one is a
        typo or a job for several stages), and never beyond the newest released minor when it is known
        (O(newest_minor), O(probe_newest_minor)).
      - Quote it in YAML. An unquoted V(1.30) is the number 1.3 and is refused with that hint.
    type: raw
  versions:
    description:
      - The versions to judge, instead of reading them from the cluster. Every form is accepted
        (V(v1.30.2), V(1.30.2), package versions like V(1.30.2-1.1) and image references like
        V(registry.k8s.io/kube-apiserver:v1.30.2)).
      - Without it the module reads the cluster with the connection options.
      - Every version is a string; one that arrived as a number is refused naming it (quote it).
    type: dict
    suboptions:
      kube_apiserver:
        description: The version of each kube-apiserver instance. Required when O(versions) is given.
        type: list
        elements: raw
      kube_controller_manager:
        description: The version of each kube-controller-manager instance.
        type: list
        elements: raw
      kube_scheduler:
        description: The version of each kube-scheduler instance.
        type: list
        elements: raw
      kubelet:
        description: Node name -> kubelet version.
        type: dict
      kube_proxy:
        description: Node name -> kube-proxy version.
        type: dict
      kubectl:
        description: The kubectl version used to manage the cluster.
        type: raw
      kubeadm:
        description: The kubeadm version installed on the control plane.
        type: raw
  available_versions:
    description:
      - The versions that can be installed (for example from the package repository), in any accepted form.
      - Intermediate hops go to the newest release of their minor in this list; a hop whose version is not in
        the list is an error.
    type: list
    elements: raw
  newest_minor:
    description:
      - The newest released Kubernetes minor, for example V(1.35) (a patch version such as V(v1.35.2) is read as
        its minor). Quote it.
      - Fills RV(support) and bounds O(target_version) without any network access; O(probe_newest_minor) is
        then not needed and not done.
    type: raw
  probe_newest_minor:
    description:
      - Find the newest released minor in the package repository at O(repo_base_url) - pkgs.k8s.io has one
        repository per minor and answers 403 for a minor that does not exist - by asking for
        C(<repo_base_url>/v1.NN/deb/InRelease) from the cluster's minor upward until the first minor that is not
        there (403 or 404), at most 16 requests within O(probe_timeout).
      - Off by default, so the module works offline; not done when O(newest_minor) is given.
      - An unreachable repository, an unexpected answer or a timeout fails the task with one line naming the URL.
    type: bool
    default: false
  repo_base_url:
    description:
      - The base of the per-minor package repositories probed by O(probe_newest_minor); a mirror or the lab's
        repository with the same layout (C(<base>/v1.NN/deb/InRelease)).
    type: str
    default: "https://pkgs.k8s.io/core:/stable:"
  probe_timeout:
    description: Seconds the whole probe may take (more than 0, at most 300).
    type: float
    default: 10
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
  - O(probe_newest_minor) reaches O(repo_base_url) from the host that runs the module (the controller), through
    the proxy of its E(https_proxy) environment variable if set.
seealso:
  - module: cluster_ops.kubeadm.api_removals
  - name: Kubernetes version skew policy
    description: The policy the module applies.
    link: https://kubernetes.io/releases/version-skew-policy/
  - name: Kubernetes releases
    description: The three newest minors get patch releases.
    link: https://kubernetes.io/releases/
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

- name: When to upgrade - ask pkgs.k8s.io for the newest minor
  cluster_ops.kubeadm.version_skew:
    kubeconfig: /etc/kubernetes/admin.conf
    probe_newest_minor: true
  register: skew

- name: Print where the cluster stands
  ansible.builtin.debug:
    msg: "{{ skew.support.summary }}"   # v1.34 is supported until v1.37 is released; 1 minor behind the newest (v1.35)

- name: The same offline, with a mirror's newest minor known from elsewhere
  cluster_ops.kubeadm.version_skew:
    versions:
      kube_apiserver: [v1.33.4]
    newest_minor: "1.35"
    target_version: "1.35"
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
support:
  description:
    - Where the cluster stands in the support window, when the newest minor is known (O(newest_minor) or
      O(probe_newest_minor)); null otherwise.
  returned: always
  type: dict
  contains:
    newest_minor:
      description: The newest released minor.
      type: str
      sample: v1.35
    supported_minors:
      description: The minors still patched, the three newest, oldest first.
      type: list
      elements: str
      sample: [v1.33, v1.34, v1.35]
    cluster_minor:
      description: The cluster's minor (that of its oldest kube-apiserver).
      type: str
      sample: v1.34
    supported:
      description: Whether the cluster's minor is among RV(support.supported_minors).
      type: bool
      sample: true
    minors_behind:
      description: How many minors the cluster is behind the newest.
      type: int
      sample: 1
    supported_until:
      description: The release that ends the support of the cluster's minor (its minor plus 3).
      type: str
      sample: v1.37
    target_supported:
      description: Whether the minor of O(target_version) is among the supported minors; null without a target.
      type: bool
      sample: true
    source:
      description: Where the newest minor came from, V(newest_minor) (the option) or V(probe).
      type: str
      sample: probe
    probes:
      description: The requests of the probe (minor, URL, HTTP status); empty without a probe.
      type: list
      elements: dict
      sample: [{minor: v1.34, url: "https://pkgs.k8s.io/core:/stable:/v1.34/deb/InRelease", status: 200}]
    summary:
      description: One line for a report.
      type: str
      sample: v1.34 is supported until v1.37 is released; 1 minor behind the newest (v1.35)
"""

from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC, api_client
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.skew import run
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.support import DEFAULT_REPO_BASE_URL

VERSIONS_OPTIONS = {
    "kube_apiserver": {"type": "list", "elements": "raw"},
    "kube_controller_manager": {"type": "list", "elements": "raw"},
    "kube_scheduler": {"type": "list", "elements": "raw"},
    "kubelet": {"type": "dict"},
    "kube_proxy": {"type": "dict"},
    "kubectl": {"type": "raw"},
    "kubeadm": {"type": "raw"},
}


def cluster_versions(params: dict[str, Any]) -> dict[str, Any]:
    # Imported here: only a live read needs the cluster facts (and the kubernetes client).
    from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import skew_versions

    return skew_versions(api_client(params))


def main() -> None:
    module = new_module(
        argument_spec={
            # raw, not str: a str option would turn an unquoted 1.30 (the float 1.3) into "1.3" silently.
            "target_version": {"type": "raw"},
            "versions": {"type": "dict", "options": VERSIONS_OPTIONS},
            "available_versions": {"type": "list", "elements": "raw"},
            "fail_on_violation": {"type": "bool", "default": True},
            "newest_minor": {"type": "raw"},
            "probe_newest_minor": {"type": "bool", "default": False},
            "repo_base_url": {"type": "str", "default": DEFAULT_REPO_BASE_URL},
            "probe_timeout": {"type": "float", "default": 10},
            **CONNECTION_ARGSPEC,
        },
        supports_check_mode=True,
    )
    params = module.params
    run_module(
        module, lambda: run(params, lambda: cluster_versions(params)), needs_kubernetes=params["versions"] is None
    )


if __name__ == "__main__":
    main()
