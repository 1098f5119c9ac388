# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One paginated read of a kubeadm cluster: nodes, component versions, kubeadm config, PDBs, drain blockers.

Everything is read as plain JSON page by page (``limit``/``continue``) and reduced to small summaries at
once, so memory stays flat on clusters of thousands of nodes and tens of thousands of pods.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Callable

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.pods import (
    control_plane_component,
    drain_blocker,
    kube_proxy_version,
    split_image,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.selectors import Pdb, PdbIndex
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import (
    ApiError,
    ClusterOpsError,
    InvalidInput,
    OperationTimeout,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.api import PAGE_SIZE, call_json, paginate
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import api_client as connect
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.api import CORDONED_BY
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._options import check_seconds

try:
    from kubernetes import client as k8s_client
except ImportError:  # reported by run_module(needs_kubernetes=True)
    k8s_client = None  # type: ignore[assignment]

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

ROLE_PREFIX = "node-role.kubernetes.io/"
CONTROL_PLANE_ROLES = frozenset({"control-plane", "master"})
SYSTEM_NAMESPACE = "kube-system"
# Up to this many requested nodes, their pods are listed node by node (field selector) instead of all pods.
PER_NODE_LISTING_MAX = 20


def summarize_node(node: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(name, facts) of one Node object."""
    metadata = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    labels = metadata.get("labels") or {}
    roles = sorted(key[len(ROLE_PREFIX) :] for key in labels if key.startswith(ROLE_PREFIX) and key != ROLE_PREFIX)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or ())
    internal_ips = [a.get("address") for a in status.get("addresses") or () if a.get("type") == "InternalIP"]
    taints = [{k: t[k] for k in ("key", "value", "effect") if k in t} for t in spec.get("taints") or ()]
    return metadata.get("name", ""), {
        "roles": roles,
        "control_plane": bool(CONTROL_PLANE_ROLES.intersection(roles)),
        "ready": ready,
        "unschedulable": bool(spec.get("unschedulable")),
        "taints": taints,
        "kubelet_version": (status.get("nodeInfo") or {}).get("kubeletVersion"),
        "boot_id": (status.get("nodeInfo") or {}).get("bootID"),
        "internal_ip": internal_ips[0] if internal_ips else None,
        "cordoned_by": (metadata.get("annotations") or {}).get(CORDONED_BY),
    }


def summarize_pdb(pdb: dict[str, Any]) -> tuple[Pdb, dict[str, Any]]:
    """(index entry, reported facts) of one PodDisruptionBudget."""
    metadata = pdb.get("metadata") or {}
    spec = pdb.get("spec") or {}
    status = pdb.get("status") or {}
    allowed = int(status.get("disruptionsAllowed") or 0)
    entry = Pdb(metadata.get("namespace", ""), metadata.get("name", ""), spec.get("selector"), allowed)
    facts = {
        "namespace": entry.namespace,
        "name": entry.name,
        "disruptions_allowed": allowed,
        "current_healthy": status.get("currentHealthy"),
        "desired_healthy": status.get("desiredHealthy"),
        "expected_pods": status.get("expectedPods"),
        "min_available": spec.get("minAvailable"),
        "max_unavailable": spec.get("maxUnavailable"),
    }
    return entry, facts


class _Reader:
    """Typed client calls as plain JSON, with one deadline for the whole read."""

    def __init__(self, api_client: Any, timeout: float, page_size: int) -> None:
        # Any: every call is made with _preload_content=False and returns the raw response, not the model.
        self.core: Any = k8s_client.CoreV1Api(api_client)
        self.apps: Any = k8s_client.AppsV1Api(api_client)
        self.policy: Any = k8s_client.PolicyV1Api(api_client)
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.page_size = page_size

    def items(self, call: Callable[..., Any], what: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for count, item in enumerate(paginate(call, what, limit=self.page_size, deadline=self.deadline, **kwargs)):
            if count % self.page_size == 0 and time.monotonic() > self.deadline:
                raise OperationTimeout(f"{what} did not finish within {self.timeout:g}s", items_read=count)
            yield item

    def optional(self, call: Callable[..., Any], what: str, **kwargs: Any) -> dict[str, Any] | None:
        """One object, or None when it does not exist (404)."""
        try:
            return call_json(call, what, deadline=self.deadline, **kwargs)
        except ApiError as exc:
            if exc.details.get("status") == 404:
                return None
            raise

    def nodes(self) -> Iterator[dict[str, Any]]:
        return self.items(self.core.list_node, "listing nodes")

    def system_pods(self) -> Iterator[dict[str, Any]]:
        return self.items(self.core.list_namespaced_pod, "listing kube-system pods", namespace=SYSTEM_NAMESPACE)

    def all_pods(self, field_selector: str | None = None) -> Iterator[dict[str, Any]]:
        what = f"listing pods ({field_selector})" if field_selector else "listing pods"
        return self.items(self.core.list_pod_for_all_namespaces, what, field_selector=field_selector)

    def pdbs(self) -> Iterator[dict[str, Any]]:
        return self.items(self.policy.list_pod_disruption_budget_for_all_namespaces, "listing PodDisruptionBudgets")

    def kube_proxy_daemonset(self) -> dict[str, Any] | None:
        return self.optional(
            self.apps.read_namespaced_daemon_set,
            "reading DaemonSet kube-system/kube-proxy",
            name="kube-proxy",
            namespace=SYSTEM_NAMESPACE,
        )

    def kubeadm_config(self) -> dict[str, Any] | None:
        return self.optional(
            self.core.read_namespaced_config_map,
            "reading ConfigMap kube-system/kubeadm-config",
            name="kubeadm-config",
            namespace=SYSTEM_NAMESPACE,
        )


def daemonset_image(daemonset: dict[str, Any] | None, container: str) -> str | None:
    """The image of ``container`` in a DaemonSet's pod template."""
    template_spec = (((daemonset or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    for entry in template_spec.get("containers") or ():
        if entry.get("name") == container:
            return entry.get("image")
    return None


def parse_cluster_configuration(configmap: dict[str, Any] | None) -> dict[str, Any] | None:
    """kubeadm's ClusterConfiguration from the ``kubeadm-config`` ConfigMap, or None on a non-kubeadm cluster."""
    text = ((configmap or {}).get("data") or {}).get("ClusterConfiguration")
    if not text:
        return None
    if not HAS_YAML:
        raise ClusterOpsError("reading kube-system/kubeadm-config needs the Python library PyYAML")
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClusterOpsError(f"kube-system/kubeadm-config: ClusterConfiguration is not valid YAML: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ClusterOpsError("kube-system/kubeadm-config: ClusterConfiguration is not a YAML mapping")
    return parsed


def skew_versions(api_client: Any) -> dict[str, Any]:
    """The running versions the skew policy judges, read from nodes, kube-system pods and the kube-proxy DaemonSet.

    Control-plane lists hold one version per control-plane node that has the component's mirror pod (in
    node name order); kube-proxy falls back to the DaemonSet's image for nodes without a kube-proxy pod.
    """
    reader = _Reader(api_client, timeout=300, page_size=PAGE_SIZE)
    kubelet = {}
    for node in reader.nodes():
        name, facts = summarize_node(node)
        if facts["kubelet_version"]:
            kubelet[name] = facts["kubelet_version"]
    control_plane: dict[str, dict[str, str]] = {}
    kube_proxy: dict[str, str] = {}
    for pod in reader.system_pods():
        _collect_versions(pod, control_plane, kube_proxy)
    fallback = split_image(daemonset_image(reader.kube_proxy_daemonset(), "kube-proxy") or "")[1]
    if fallback:
        for name in kubelet:
            kube_proxy.setdefault(name, fallback)
    versions: dict[str, Any] = {
        key: [control_plane[node][key] for node in sorted(control_plane) if key in control_plane[node]]
        for key in ("kube_apiserver", "kube_controller_manager", "kube_scheduler")
    }
    versions["kubelet"] = kubelet
    versions["kube_proxy"] = dict(sorted(kube_proxy.items()))
    return versions


def _collect_versions(
    pod: dict[str, Any], control_plane: dict[str, dict[str, str]], kube_proxy: dict[str, str]
) -> None:
    """Record the control-plane component or kube-proxy version a kube-system pod shows, if any."""
    component = control_plane_component(pod)
    if component:
        node, key, tag = component
        if tag:
            control_plane.setdefault(node, {})[key] = tag
        return
    proxy = kube_proxy_version(pod)
    if proxy and proxy[1]:
        kube_proxy[proxy[0]] = proxy[1]


def gather(
    api_client: Any,
    include_pods: bool = True,
    nodes: list[str] | None = None,
    timeout: float = 600,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """The facts of the cluster (see the cluster_info module's RETURN); read-only."""
    started = time.monotonic()
    reader = _Reader(api_client, timeout=timeout, page_size=page_size)
    wanted = set(nodes) if nodes else None

    node_facts: dict[str, dict[str, Any]] = {}
    for node in reader.nodes():
        name, facts = summarize_node(node)
        if wanted is None or name in wanted:
            node_facts[name] = facts
    if wanted:
        missing = sorted(wanted - set(node_facts))
        if missing:
            raise InvalidInput(f"nodes not found in the cluster: {', '.join(missing)}", missing=missing)

    pdbs, pdb_facts = _read_pdbs(reader)

    control_plane: dict[str, dict[str, str]] = {}
    proxy_nodes: dict[str, str] = {}
    blockers: dict[str, list[dict[str, Any]]] = {}
    pods_per_node: dict[str, int] = dict.fromkeys(node_facts, 0)
    seen: set[str] = set()  # namespace/name: a list restarted after an expired continue token repeats pods
    for pod in _pods(reader, include_pods, wanted):
        metadata = pod.get("metadata") or {}
        node_name = (pod.get("spec") or {}).get("nodeName")
        key = f"{metadata.get('namespace')}/{metadata.get('name')}"
        if (wanted is not None and node_name not in wanted) or key in seen:
            continue
        seen.add(key)
        if metadata.get("namespace") == SYSTEM_NAMESPACE:
            _collect_versions(pod, control_plane, proxy_nodes)
        if not include_pods:
            continue
        if node_name in pods_per_node:
            pods_per_node[node_name] += 1
        blocker = drain_blocker(pod, pdbs) if node_name else None
        if node_name and blocker:
            blockers.setdefault(node_name, []).append(blocker)

    for name, facts in node_facts.items():
        if facts["control_plane"]:
            control_plane.setdefault(name, {})
        if include_pods:
            facts["pods"] = pods_per_node[name]
    daemonset_image_ref = daemonset_image(reader.kube_proxy_daemonset(), "kube-proxy")

    return {
        "nodes": node_facts,
        "control_plane": {node: control_plane[node] for node in sorted(control_plane)},
        "kubeadm_config": parse_cluster_configuration(reader.kubeadm_config()),
        "kube_proxy": {
            "image": daemonset_image_ref,
            "version": split_image(daemonset_image_ref)[1] if daemonset_image_ref else None,
            "nodes": dict(sorted(proxy_nodes.items())),
        },
        "pdbs": pdb_facts,
        "drain_blockers": {node: sorted(blockers[node], key=_name_of) for node in sorted(blockers)}
        if include_pods
        else None,
        "counts": {
            "nodes": len(node_facts),
            "ready_nodes": sum(1 for f in node_facts.values() if f["ready"]),
            "unschedulable_nodes": sum(1 for f in node_facts.values() if f["unschedulable"]),
            "control_plane_nodes": sum(1 for f in node_facts.values() if f["control_plane"]),
            "pods": len(seen) if include_pods else None,
            "pdbs": len(pdb_facts),
            "pdbs_blocking": sum(1 for p in pdb_facts if p["disruptions_allowed"] <= 0),
            "drain_blockers": sum(len(b) for b in blockers.values()) if include_pods else None,
        },
        "duration": round(time.monotonic() - started, 3),
    }


def _name_of(item: dict[str, Any]) -> tuple[str, str]:
    return item["namespace"], item["name"]


def _read_pdbs(reader: _Reader) -> tuple[PdbIndex, list[dict[str, Any]]]:
    """The index of every PDB and their reported facts, sorted by namespace and name."""
    found: dict[tuple[str, str], tuple[Pdb, dict[str, Any]]] = {}
    for pdb in reader.pdbs():
        entry, facts = summarize_pdb(pdb)
        found[entry.namespace, entry.name] = (entry, facts)  # keyed: a restarted list repeats items
    ordered = [found[key] for key in sorted(found)]
    return PdbIndex([pair[0] for pair in ordered]), [pair[1] for pair in ordered]


def _pods(reader: _Reader, include_pods: bool, wanted: set[str] | None) -> Iterator[dict[str, Any]]:
    """The pods to look at: every pod, the pods of a few nodes, or (without include_pods) kube-system's."""
    if not include_pods:
        yield from reader.system_pods()
    elif wanted is not None and len(wanted) <= PER_NODE_LISTING_MAX:
        for node in sorted(wanted):
            yield from reader.all_pods(field_selector=f"spec.nodeName={node}")
    else:
        yield from reader.all_pods()


def run(params: dict[str, Any]) -> dict[str, Any]:
    """The cluster_info module's logic: connect, gather, report."""
    if params.get("timeout") is not None:
        check_seconds("timeout", params["timeout"])
    result = gather(
        connect(params),
        include_pods=params.get("include_pods", True),
        nodes=params.get("nodes") or None,
        timeout=params.get("timeout") or 600,
    )
    result["changed"] = False
    return result
