#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rollout_plan
short_description: Plan batches of nodes that can be drained at the same time, from the budgets and the capacity
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - Reads nodes, every pod and every PodDisruptionBudget once, page by page, and groups the nodes given into
    ordered batches whose drains do not wait on each other and that the rest of the cluster can take the pods of.
  - B(Budgets.) Two nodes conflict when one budget has healthy pods on both and together more than it allows at
    once. A budget allows the smaller of its C(status.disruptionsAllowed) and what its own C(minAvailable) or
    C(maxUnavailable) allows with the healthy pods seen now. A batch holds nodes with pods of one budget only while
    their pods together stay within what it allows; the pods of a budget on one node alone are a chain the drain
    of that node walks anyway (evict, wait for the replacement to be Ready, evict the next).
  - B(Capacity.) The pods a batch's drains evict and their controllers recreate must fit on the nodes that stay in
    service (Ready, not cordoned, not in the batch) as the scheduler counts it - requests (containers, sidecars, the
    largest init container, overhead) and one pod slot against allocatable, minus what is requested there already,
    with taints, C(nodeSelector) and required node affinity. DaemonSet and mirror pods stay; pods without a
    controller are not recreated. Each pod is placed where the scheduler's least-allocated scoring would put it.
  - B(Zones.) A batch never takes every node in service of a zone (label O(zone_label)) out at once; a zone with
    a single node in service may lose it alone.
  - B(Excluded.) Nodes that are NotReady or that an administrator cordoned are left out of the batches and named
    in RV(excluded). A node this collection cordoned (an earlier run that stopped) is planned.
  - B(Order.) The plan is the same for the same cluster. Candidates are taken in one fixed order - the nodes that
    conflict with the most other nodes first, then the longest budget chain first, then by name - and each batch
    is filled with every node in that order that still keeps the rules; then the batch's pods are moved where the
    scheduler would put them and the next batch is filled against that state. A first batch filled to the brim can
    leave the rest stacked on few nodes, so the fill is repeated with a few smaller bounds and the plan with the
    fewest batches wins (then the shortest estimate, then the largest bound).
  - Read-only; check mode does the same.
options:
  nodes:
    description:
      - The nodes to plan. Default is every node without the C(control-plane) (or C(master)) role.
      - A name that is not a node of the cluster is an error.
    type: list
    elements: str
  max_batch:
    description:
      - At most this many nodes in a batch, a number or a percentage of the nodes given (rounded down, at least
        one, as C(serial) counts). Default is no bound but the budgets, the capacity and the zones.
    type: raw
  zone_label:
    description: The node label that names a node's zone.
    type: str
    default: topology.kubernetes.io/zone
  pod_ready_seconds:
    description:
      - For RV(estimate) - seconds a replacement pod takes from its eviction to Ready, the length of one link of a
        budget's chain.
    type: float
    default: 30
  node_seconds:
    description:
      - For RV(estimate) - seconds the work on a batch takes after its drain (packages, restarts, the wait). Default
        counts the drains only.
    type: float
    default: 0
  timeout:
    description: Give up with an error when the read takes longer than this many seconds.
    type: int
    default: 600
extends_documentation_fragment:
  - cluster_ops.kubeadm.connection
  - cluster_ops.kubeadm._attributes
  - cluster_ops.kubeadm._attributes.info_module
  - cluster_ops.kubeadm._attributes.actiongroup_k8s
notes:
  - Needs list access to nodes, pods and poddisruptionbudgets.
  - The plan is a prediction from one read. Drains change where pods run, so plan again between batches
    (C(upgrade_serial=auto) in C(playbooks/upgrade.yml) does); the drains themselves never break a budget whatever
    the plan (M(cluster_ops.kubeadm.node_drain)).
  - Pending pods that are not bound yet, pod affinity and topology spread constraints are not counted.
seealso:
  - module: cluster_ops.kubeadm.node_drain
  - module: cluster_ops.kubeadm.cluster_info
"""

EXAMPLES = r"""
- name: Plan the workers' batches
  cluster_ops.kubeadm.rollout_plan:
    kubeconfig: /etc/kubernetes/admin.conf
  register: plan

- name: Show the plan
  ansible.builtin.debug:
    msg: "{{ plan.batches | map('join', ',') | join(' -> ') }}, about {{ plan.estimate }} s of drains"

- name: At most a quarter of these nodes at once, zones from a custom label
  cluster_ops.kubeadm.rollout_plan:
    nodes: [worker-1, worker-2, worker-3, worker-4]
    max_batch: 25%
    zone_label: example.com/rack
  register: plan
"""

RETURN = r"""
batches:
  description: The batches in order, each a list of node names (sorted).
  returned: always
  type: list
  elements: list
  sample: [[worker-1, worker-4], [worker-2], [worker-3]]
excluded:
  description: Nodes left out of the batches and why (C(NotReady), C(cordoned by an administrator)).
  returned: always
  type: dict
  sample: {worker-5: cordoned by an administrator}
splits:
  description:
    - For each boundary between two batches (C(after) is the number of the batch before it, from 1), what held back
      the first node that could not join that batch.
    - C(reason) is C(budget) (C(by) is the budget, C(namespace/name)), C(capacity) (C(by) the resources short, such as
      C(cpu) or C(memory+pods), or C(placement) when no node left may run the pod), C(zone) (C(by) the zone),
      C(max_batch), or C(balance) (C(by) the bound the plan chose itself because fuller batches would have needed
      more batches in all); C(held) counts the nodes held back by each reason.
  returned: always
  type: list
  elements: dict
  sample:
    - after: 1
      node: worker-2
      reason: budget
      by: apps/web
      message: "apps/web allows 1 disruption(s) at once: 1 of its pods on worker-1 and 1 on worker-2"
      held: {budget: 1}
estimate:
  description:
    - Seconds the rollout's drains take by the budgets' chains - for each batch, its longest chain (the pods of one
      budget it evicts, in rounds of what the budget allows) times O(pod_ready_seconds), plus O(node_seconds).
  returned: always
  type: float
  sample: 90.0
batch_estimates:
  description: RV(estimate) batch by batch.
  returned: always
  type: list
  elements: float
  sample: [30.0, 30.0, 30.0]
budgets:
  description:
    - Every budget with healthy pods on a planned node - C(allowance) (what the plan lets one batch spend),
      C(disruptions_allowed) (its status), C(healthy), C(desired_healthy) and C(pods) (node -> its pods there).
  returned: always
  type: dict
  sample:
    apps/web: {allowance: 1, disruptions_allowed: 1, healthy: 3, desired_healthy: 2, pods: {worker-1: 1, worker-2: 1}}
duration:
  description: Seconds the read and the plan took.
  returned: always
  type: float
  sample: 0.31
"""

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout.run import PLAN_ARGSPEC, run


def main() -> None:
    module = new_module(argument_spec={**PLAN_ARGSPEC, **CONNECTION_ARGSPEC}, supports_check_mode=True)
    run_module(module, lambda: run(module.params), needs_kubernetes=True)


if __name__ == "__main__":
    main()
