#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: api_removals
short_description: Find what the next Kubernetes minors will break - objects and clients using removed API versions
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - For each hop of the upgrade path to O(target_version) - the path M(cluster_ops.kubeadm.version_skew) plans,
    one minor per hop - reports the objects and clients that use an API version that hop's release stops
    serving, with the replacement version and what must change besides the C(apiVersion) (for example Ingress
    C(spec.backend) becomes C(spec.defaultBackend); PodSecurityPolicy has no replacement).
  - The removals are a table with one row per group, version and kind, from the Kubernetes Deprecated API
    Migration Guide (U(https://kubernetes.io/docs/reference/using-api/deprecation-guide/)), every release that
    removed APIs from 1.16 on (1.16, 1.22, 1.25, 1.26, 1.27, 1.29, 1.32). Each finding links the guide's section.
  - "Sources, each optional: V(metrics), the API server's C(apiserver_requested_deprecated_apis) metric
    (C(GET /metrics)): the APIs clients still call; V(last_applied), the
    C(kubectl.kubernetes.io/last-applied-configuration) annotation of the objects of every kind a hop removes a
    version of (listed page by page, metadata only);
    V(helm), the latest revision of each Helm v3 release stored in Secrets (the manifest Helm will diff against on
    the next C(helm upgrade)); V(manifests), C(*.yaml), C(*.yml) and C(*.json) files under O(manifest_paths) on the
    host that runs the module (a GitOps checkout)."
  - Read-only. Nothing is changed, so check mode is the same run.
options:
  target_version:
    description:
      - The version to upgrade to, for example V(1.33) or V(v1.33.2). Quote it, an unquoted V(1.30) is the number
        1.3 and is refused with that hint.
      - At most 12 minors ahead of the cluster (the bound of M(cluster_ops.kubeadm.version_skew)).
    type: raw
    required: true
  current_version:
    description:
      - Scan without a cluster, as if it ran this version (for example in CI, on a GitOps checkout). Then only
        O(manifest_paths) are read and the connection options are not used.
      - Without it the cluster's version is read, that of its oldest kube-apiserver as
        M(cluster_ops.kubeadm.version_skew) reads it (the API server's C(/version) when no control-plane pod is
        found).
    type: raw
  manifest_paths:
    description:
      - Files and directories to read manifests from, on the host that runs the module. Directories are read
        recursively (hidden ones such as C(.git) are skipped); a file given by name is read whatever its extension.
      - A YAML file may hold several documents, and a C(List) is read item by item. YAML that is not a
        Kubernetes object (Helm values, templates) is ignored with a warning.
    type: list
    elements: path
  sources:
    description:
      - The sources to read. Default, every source that applies - V(metrics), V(last_applied) and V(helm) with a
        cluster, and V(manifests) when O(manifest_paths) is given.
      - A source that cannot be read (no permission, a 404) is skipped with a warning when it is a default one,
        and fails the task when it is named here.
    type: list
    elements: str
    choices: [metrics, last_applied, helm, manifests]
  fail_on_findings:
    description:
      - Fail when anything uses an API version a hop removes. The failure message is one line with the count and
        the first few; RV(lines) has one line per object.
      - Objects whose API version the current version already stopped serving (RV(already_removed)) never fail
        the task.
    type: bool
    default: false
extends_documentation_fragment:
  - cluster_ops.kubeadm.connection
attributes:
  check_mode:
    support: full
    description: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
notes:
  - Needs get on the non-resource URL C(/metrics) (V(metrics)), list on the kinds a hop removes a version of
    (V(last_applied)), list and get on Secrets in every namespace (V(helm)), and what
    M(cluster_ops.kubeadm.version_skew) reads to find the cluster's version (nodes, kube-system pods). A cluster
    whose control plane runs no pods there (a managed one) is placed by the API server's C(/version).
  - The metric counts the requests since the answering kube-apiserver started, and each instance of an HA control
    plane has its own; the one behind O(host) is read. A client that runs rarely (a monthly CronJob) may not have
    called yet.
  - Helm releases stored in ConfigMaps (C(HELM_DRIVER=configmap)) or SQL are not read.
  - The V(last_applied) source only lists the kinds a hop of the path removes a version of, so 50,000 Pods cost
    nothing; what it finds already removed is not reported in RV(already_removed) systematically.
seealso:
  - module: cluster_ops.kubeadm.version_skew
  - name: Deprecated API Migration Guide
    description: The source of the table of removals.
    link: https://kubernetes.io/docs/reference/using-api/deprecation-guide/
"""

EXAMPLES = r"""
- name: What the upgrade to 1.33 will break, from every source
  cluster_ops.kubeadm.api_removals:
    kubeconfig: /etc/kubernetes/admin.conf
    target_version: "1.33"
    manifest_paths:
      - /srv/gitops/clusters/prod
  register: removals

- name: Show one line per object
  ansible.builtin.debug:
    var: removals.lines

- name: Preflight - stop before anything is upgraded
  cluster_ops.kubeadm.api_removals:
    target_version: "{{ upgrade_target }}"
    fail_on_findings: true

- name: A GitOps checkout in CI, no cluster
  cluster_ops.kubeadm.api_removals:
    current_version: "1.24"
    target_version: "1.27"
    manifest_paths: ["{{ playbook_dir }}/../manifests"]
  delegate_to: localhost
  register: ci

- name: Only the clients that still call removed APIs, and the Helm releases
  cluster_ops.kubeadm.api_removals:
    target_version: v1.26.4
    sources: [metrics, helm]
"""

RETURN = r"""
cluster_version:
  description: The version the path starts from (the cluster's oldest kube-apiserver, or O(current_version)).
  returned: always
  type: str
  sample: v1.24.17
target_version:
  description: O(target_version) resolved to a release (a minor line becomes its C(.0)).
  returned: always
  type: str
  sample: v1.27.0
path:
  description: The hops, one version per minor, as M(cluster_ops.kubeadm.version_skew) plans them.
  returned: always
  type: list
  elements: str
  sample: [v1.25.0, v1.26.0, v1.27.0]
findings:
  description: Every object or client that uses an API version a hop removes, in the order found.
  returned: always
  type: list
  elements: dict
  contains:
    source:
      description: V(metrics), V(last_applied), V(helm) or V(manifests).
      type: str
      sample: helm
    namespace:
      description: The object's namespace; null for a cluster-scoped kind, a request, or a manifest without one.
      type: str
      sample: shop
    kind:
      description: The kind; null for a request of a resource the table does not know.
      type: str
      sample: PodDisruptionBudget
    name:
      description: The object's name; null for a request (V(metrics)).
      type: str
      sample: web
    api_version:
      description: The removed API version it uses.
      type: str
      sample: policy/v1beta1
    removed_in:
      description: The release that stops serving it.
      type: str
      sample: v1.25
    hop:
      description: The hop of RV(path) that removes it.
      type: str
      sample: v1.25.0
    replacement:
      description: The API version to migrate to, as the guide says; null when there is none (PodSecurityPolicy).
      type: str
      sample: policy/v1
    replacement_since:
      description: The release the replacement is served from.
      type: str
      sample: v1.21
    replacement_removed_in:
      description: When the replacement is itself removed later (a second migration follows), that release.
      type: str
      sample: null
    migration:
      description: What must change besides the C(apiVersion), in one line; null when nothing else changes.
      type: str
      sample: >-
        an empty spec.selector ({}) selects every pod of the namespace in policy/v1 (none in policy/v1beta1);
        an unset spec.selector selects none in both
    guide:
      description: The section of the Deprecated API Migration Guide this removal comes from.
      type: str
      sample: https://kubernetes.io/docs/reference/using-api/deprecation-guide/#poddisruptionbudget-v125
    file:
      description: The manifest file (V(manifests)).
      type: str
      sample: /srv/gitops/clusters/prod/shop/pdb.yaml
    document:
      description:
        - The 0-based index of the YAML document in the file (V(manifests)) or in the release's manifest (V(helm)).
      type: int
      sample: 0
    item:
      description: The 0-based index in a C(List) document, null otherwise.
      type: int
      sample: null
    template:
      description: The chart template the document came from, Helm's C(# Source:) (V(helm)).
      type: str
      sample: shop/templates/pdb.yaml
    release:
      description: The Helm release, C(namespace/name) (V(helm)).
      type: str
      sample: shop/web
    revision:
      description: The revision of the release read, its latest (V(helm)).
      type: int
      sample: 7
    chart:
      description: The release's chart, C(name-version) (V(helm)).
      type: str
      sample: web-1.4.2
    resource:
      description: The resource requested (V(metrics)).
      type: str
      sample: poddisruptionbudgets
    subresource:
      description: The subresource requested, null for none (V(metrics)).
      type: str
      sample: null
    line:
      description: The finding in one line.
      type: str
      sample: >-
        helm: policy/v1beta1 PodDisruptionBudget shop/web (release shop/web revision 7, shop/templates/pdb.yaml)
        is removed in v1.25: use policy/v1; also: an empty spec.selector ...
by_hop:
  description: Each hop of RV(path) -> its findings (an empty list when nothing breaks there).
  returned: always
  type: dict
  sample: {v1.25.0: [], v1.26.0: [], v1.27.0: []}
already_removed:
  description:
    - Objects in manifests or Helm releases whose API version the current version no longer serves (they fail to
      apply today, and a Helm release in that state fails its next C(helm upgrade)). Same keys as RV(findings),
      C(hop) null. Informational; never fails the task.
  returned: always
  type: list
  elements: dict
counts:
  description: Findings per source, and C(total).
  returned: always
  type: dict
  sample: {metrics: 1, last_applied: 0, helm: 2, manifests: 3, total: 6}
sources:
  description:
    - Per source whether it was read (C(read)), what it looked at (C(scanned) - metric samples, objects, releases,
      manifest objects), its C(findings), and a C(note) (why it was skipped, kinds not served).
    - V(last_applied) adds C(kinds), the kinds listed and at which version; V(helm) C(release_secrets); V(manifests)
      C(files), C(documents), C(ignored) (file and reason, the first 100) and C(ignored_files).
  returned: always
  type: dict
lines:
  description: One line per finding.
  returned: always
  type: list
  elements: str
duration:
  description: Seconds the scan took.
  returned: always
  type: float
  sample: 1.204
"""

from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC, api_client
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.findings import SOURCES
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.scan import run


def cluster_versions(client: Any) -> dict[str, Any]:
    # Imported here: only a scan of the cluster needs the cluster reader (and the kubernetes client).
    from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info import skew_versions

    return skew_versions(client)


def main() -> None:
    module = new_module(
        argument_spec={
            "target_version": {"type": "raw", "required": True},
            "current_version": {"type": "raw"},
            "manifest_paths": {"type": "list", "elements": "path"},
            "sources": {"type": "list", "elements": "str", "choices": list(SOURCES)},
            "fail_on_findings": {"type": "bool", "default": False},
            **CONNECTION_ARGSPEC,
        },
        supports_check_mode=True,
    )
    params = module.params
    run_module(
        module,
        lambda: run(params, warn=module.warn, connect=api_client, cluster_versions=cluster_versions),
        needs_kubernetes=params["current_version"] is None,
    )


if __name__ == "__main__":
    main()
