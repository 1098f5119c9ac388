#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: node_drain
short_description: Drain, cordon or uncordon a node like kubectl, concurrently and without breaking PodDisruptionBudgets
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - O(state=cordon) and O(state=uncordon) set the node's C(spec.unschedulable); the task is changed only when
    that value changes.
  - A node this module cordons gets the annotation C(cluster-ops.io/cordoned-by=cluster_ops.kubeadm), which
    uncordoning removes, so that a later run can tell its own cordon from an administrator's
    (RV(cluster_ops.kubeadm.cluster_info#module:nodes.cordoned_by)).
  - O(state=drain) does what C(kubectl drain) does, with the same filters, in the same order and with the same
    messages. The node's pods are listed and judged before anything changes; if any pod is refused (a
    DaemonSet pod without O(ignore_daemonsets), a pod with C(emptyDir) storage without
    O(delete_emptydir_data), a pod without a controller or whose DaemonSet is gone without O(force)), the task
    fails naming every refused pod, and neither cordons the node nor evicts anything.
  - Otherwise the node is cordoned and its pods are evicted through the policy/v1 Eviction API, up to
    O(concurrency) requests at a time. Mirror pods and (with O(ignore_daemonsets)) DaemonSet pods are skipped;
    finished (C(Succeeded)/C(Failed)) pods are deleted.
  - An eviction refused with 429 because a PodDisruptionBudget allows no disruption is retried the moment a
    watch on that budget reports C(disruptionsAllowed) above zero (kubectl sleeps 5 s after every 429), never
    releasing more pods than the budget allows, and honouring C(Retry-After). If the watch cannot be kept
    open, a capped backoff (0.1 s doubling to 2 s) takes over.
  - Each pod is awaited until it is gone, by UID (a StatefulSet pod recreated under the same name counts as
    gone), through a watch on the node's pods, polled when the watch is down. Transient API errors
    (connection refused, 5xx, an expired C(continue) token) are retried; everything is bounded by O(timeout).
  - On failure the result names every blocking pod and budget with the API server's message (for example
    C(The disruption budget web needs 3 healthy pods and has 2 currently)), and the node stays cordoned
    unless O(uncordon_on_failure) is set.
options:
  node:
    description: Name of the node.
    type: str
    required: true
    aliases: [name]
  state:
    description:
      - V(drain) cordons the node and evicts its pods; V(cordon) and V(uncordon) only set C(spec.unschedulable).
      - The names are those of M(kubernetes.core.k8s_drain).
    type: str
    choices: [drain, cordon, uncordon]
    default: drain
  ignore_daemonsets:
    description:
      - Skip DaemonSet-managed pods instead of refusing to drain (C(kubectl drain --ignore-daemonsets)).
        They would be recreated on the node at once, so they are never evicted.
    type: bool
    default: false
  delete_emptydir_data:
    description:
      - Evict pods that use C(emptyDir) volumes; their data is lost (C(--delete-emptydir-data)).
    type: bool
    default: false
  force:
    description:
      - Also evict pods that declare no controller, and pods whose DaemonSet no longer exists (C(--force)).
        Nothing recreates them.
    type: bool
    default: false
  grace_period:
    description:
      - Seconds each pod is given to terminate. V(-1) uses the pod's own C(terminationGracePeriodSeconds);
        V(0) is honoured (immediate). C(--grace-period).
    type: int
    default: -1
  timeout:
    description:
      - Seconds the whole task may take (reading, cordon, evictions, waiting for deletion); then it fails
        naming what is still blocked or terminating.
    type: int
    default: 300
  pod_selector:
    description:
      - Only drain pods whose labels match this label selector (C(--pod-selector)), for example C(app=web,tier!=db).
      - A malformed selector fails the task before anything is changed.
    type: str
  disable_eviction:
    description:
      - Delete pods instead of evicting them (C(--disable-eviction)).
      - B(This bypasses PodDisruptionBudgets.) Use it only when evictions cannot work, for example when a pod
        is selected by more than one budget.
    type: bool
    default: false
  skip_wait_for_delete_timeout:
    description:
      - Do not wait for pods whose deletion was requested more than this many seconds ago; V(0) waits for every
        pod (C(--skip-wait-for-delete-timeout)). Useful when the node is down and its pods cannot terminate.
    type: int
    default: 0
  concurrency:
    description:
      - At most this many API requests (evictions, deletions, reads) in flight at once. Pods waiting for a
        budget do not hold a slot.
    type: int
    default: 50
  uncordon_on_failure:
    description:
      - Uncordon the node when the drain fails (only if this task cordoned it).
      - The default is false on purpose. A half-drained node must not receive new pods while its remaining
        pods are still to be moved, and a retry of the task resumes where it stopped.
    type: bool
    default: false
extends_documentation_fragment:
  - cluster_ops.kubeadm.connection
  - cluster_ops.kubeadm._attributes
  - cluster_ops.kubeadm._attributes.actiongroup_k8s
attributes:
  check_mode:
    support: full
    details:
      - Nothing is changed. The result lists the pods a real run would evict (RV(evicted)) and delete
        (RV(deleted)) and the skipped pods (RV(skipped_pods)); refused pods fail the task as a real run would.
  diff_mode:
    support: full
    details:
      - The node's C(unschedulable) and the list of its pods before and after.
  idempotent:
    support: full
    details:
      - Draining a drained node, cordoning a cordoned one or uncordoning a schedulable one changes nothing.
notes:
  - Needs get/patch on nodes, list/watch/get on pods, create on pods/eviction, delete on pods (for finished
    pods and O(disable_eviction)), get on daemonsets, list/watch on poddisruptionbudgets.
  - Draining a drained node changes nothing.
seealso:
  - module: cluster_ops.kubeadm.node_wait
  - name: kubectl drain
    description: The command whose semantics this module follows.
    link: https://kubernetes.io/docs/reference/kubectl/generated/kubectl_drain/
"""

EXAMPLES = r"""
- name: Drain a worker before maintenance
  cluster_ops.kubeadm.node_drain:
    node: worker-1
    ignore_daemonsets: true
    delete_emptydir_data: true
    timeout: 600
  register: drained

- name: Show what a drain would evict, changing nothing
  cluster_ops.kubeadm.node_drain:
    node: worker-1
    ignore_daemonsets: true
  check_mode: true
  register: plan

- name: Only cordon
  cluster_ops.kubeadm.node_drain:
    node: worker-1
    state: cordon

- name: Put the node back into service
  cluster_ops.kubeadm.node_drain:
    node: worker-1
    state: uncordon

- name: Connection options once for every module of the collection
  module_defaults:
    group/cluster_ops.kubeadm.k8s:
      kubeconfig: /etc/kubernetes/admin.conf
  block:
    - name: Drain only the web tier
      cluster_ops.kubeadm.node_drain:
        node: worker-2
        pod_selector: tier=web
"""

RETURN = r"""
node:
  description: The node's name.
  returned: always
  type: str
  sample: worker-1
state:
  description: The state that was applied.
  returned: always
  type: str
  sample: drain
unschedulable:
  description: Whether the node is cordoned at the end (in check mode, would be).
  returned: always
  type: bool
  sample: true
evicted:
  description: Pods evicted (and gone), as C(namespace/name); in check mode, the pods that would be.
  returned: state=drain
  type: list
  elements: str
  sample: [default/web-5d4f-abcde]
deleted:
  description: Pods deleted instead of evicted (finished pods, or every pod with O(disable_eviction)).
  returned: state=drain
  type: list
  elements: str
  sample: [batch/report-28312-xyz]
skipped_pods:
  description:
    - Pods left on the node and why (DaemonSet-managed, mirror pod, deleting for too long).
    - Not named C(skipped), a key Ansible reserves for skipped tasks, which would show the drain as skipped.
  returned: state=drain
  type: list
  elements: dict
  sample: [{pod: kube-system/kube-proxy-abcde, reason: DaemonSet-managed}]
retries:
  description:
    - Evictions retried after a 429, in total, per pod and per budget (C(namespace/name)), and requests retried
      after a transient error.
  returned: state=drain
  type: dict
  sample: {total: 7, pods: {default/web-1: 1}, pdbs: {default/web: 7}, transient: 0}
not_waited:
  description: Pods not awaited because of O(skip_wait_for_delete_timeout).
  returned: when any
  type: list
  elements: str
duration:
  description: Seconds the task took.
  returned: always
  type: float
  sample: 8.412
timings:
  description:
    - Seconds per phase. C(list) the pod lists, C(cordon) the patch, C(evict) from the first eviction to the
      last one accepted, C(wait_delete) from then until the last pod was gone.
  returned: always
  type: dict
  sample: {list: 0.021, cordon: 0.008, evict: 7.9, wait_delete: 0.35}
blocked:
  description: On failure, the pods still refused by a budget, with the budget and the API server's message.
  returned: failure
  type: list
  elements: dict
  sample:
    - pod: default/web-2
      pdb: default/web
      message: The disruption budget web needs 3 healthy pods and has 2 currently
errors:
  description: On failure, the pods whose eviction failed otherwise (or that were still terminating), and why.
  returned: failure
  type: list
  elements: dict
refused:
  description: When pods are refused by the filters, kubectl's message -> the refused pods.
  returned: failure
  type: dict
  sample: {"cannot delete Pods with local storage (use --delete-emptydir-data to override)": [default/cache-0]}
"""

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.drain import DRAIN_ARGSPEC, run


def main() -> None:
    module = new_module(argument_spec={**DRAIN_ARGSPEC, **CONNECTION_ARGSPEC}, supports_check_mode=True)
    run_module(
        module, lambda: run(module.params, check_mode=module.check_mode, diff=module._diff), needs_kubernetes=True
    )


if __name__ == "__main__":
    main()
