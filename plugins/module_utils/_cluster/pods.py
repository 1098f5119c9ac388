# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one pod tells about the cluster: control-plane and kube-proxy versions, and whether it blocks a drain.

Works on plain JSON pods, one at a time, keeping only small summaries (pods are streamed page by page).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.selectors import PdbIndex

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
# kubeadm's static pods, by image name; keys are the names the skew policy uses.
CONTROL_PLANE_COMPONENTS = {
    "kube-apiserver": "kube_apiserver",
    "kube-controller-manager": "kube_controller_manager",
    "kube-scheduler": "kube_scheduler",
    "etcd": "etcd",
}
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


def split_image(image: str) -> tuple[str, str | None]:
    """``registry.k8s.io/kube-apiserver:v1.35.2`` -> (``kube-apiserver``, ``v1.35.2``); digests are dropped."""
    reference = image.split("@", 1)[0]
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[slash + 1 : colon], reference[colon + 1 :]
    return reference[slash + 1 :], None


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return (pod.get("spec") or {}).get("containers") or []


def _node_of(pod: dict[str, Any]) -> str | None:
    return (pod.get("spec") or {}).get("nodeName")


def is_mirror(pod: dict[str, Any]) -> bool:
    return MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {})


def control_plane_component(pod: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(node, component key, image tag) for a kubeadm static (mirror) pod, else None."""
    node = _node_of(pod)
    if not node or not is_mirror(pod):
        return None
    for container in _containers(pod):
        name, tag = split_image(container.get("image") or "")
        if name in CONTROL_PLANE_COMPONENTS:
            return node, CONTROL_PLANE_COMPONENTS[name], tag
    return None


def kube_proxy_version(pod: dict[str, Any]) -> tuple[str, str | None] | None:
    """(node, image tag) for a kube-proxy pod of the kube-proxy DaemonSet, else None."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    node = _node_of(pod)
    if labels.get("k8s-app") != "kube-proxy" or not node:
        return None
    for container in _containers(pod):
        name, tag = split_image(container.get("image") or "")
        if name == "kube-proxy":
            return node, tag
    return None


def _controller(metadata: dict[str, Any]) -> dict[str, Any] | None:
    for owner in metadata.get("ownerReferences") or ():
        if owner.get("controller"):
            return owner
    return None


def drain_blocker(pod: dict[str, Any], pdbs: PdbIndex) -> dict[str, Any] | None:
    """Why ``kubectl drain --ignore-daemonsets`` (or an eviction) would refuse this pod, or None.

    Reasons: ``unmanaged`` (no controller: needs --force, the pod is lost), ``emptydir`` (local data:
    needs --delete-emptydir-data), ``pdb`` (a PodDisruptionBudget with disruptionsAllowed 0: the eviction
    gets 429), ``multiple_pdbs`` (more than one PDB selects it: the eviction gets 500). Like kubectl, mirror
    pods, DaemonSet pods, terminating pods and finished pods never block; PDBs do not guard Pending pods.
    """
    metadata = pod.get("metadata") or {}
    status = pod.get("status") or {}
    phase = status.get("phase")
    if metadata.get("deletionTimestamp") or phase in FINISHED_PHASES or is_mirror(pod):
        return None
    controller = _controller(metadata)
    if controller and controller.get("kind") == "DaemonSet":
        return None
    reasons = []
    if not controller:
        reasons.append("unmanaged")
    if any("emptyDir" in volume for volume in (pod.get("spec") or {}).get("volumes") or ()):
        reasons.append("emptydir")
    blocking_pdbs: list[str] = []
    if phase == "Running":
        selecting = pdbs.matching(metadata.get("namespace", ""), metadata.get("labels") or {})
        if len(selecting) > 1:
            reasons.append("multiple_pdbs")
            blocking_pdbs = sorted(pdb.name for pdb in selecting)
        elif selecting and selecting[0].disruptions_allowed <= 0:
            reasons.append("pdb")
            blocking_pdbs = [selecting[0].name]
    if not reasons:
        return None
    blocker: dict[str, Any] = {
        "namespace": metadata.get("namespace"),
        "name": metadata.get("name"),
        "reasons": reasons,
    }
    if blocking_pdbs:
        blocker["pdbs"] = blocking_pdbs
    return blocker
