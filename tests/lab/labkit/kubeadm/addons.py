"""The addon phase: CoreDNS and kube-proxy at the new version, only once every control plane runs it
(phases/upgrade/addons.go); otherwise kubeadm says which control planes are behind, once per addon."""

from __future__ import annotations

from typing import Any

from labkit.bootstrap import coredns, kube_proxy
from labkit.kubeadm.cluster import control_plane_images
from labkit.kubeadm.output import Printer
from labkit.kubeadm_defaults import COREDNS, minor
from labkit.kubeclient import ApiError, KubeClient, path


def unupgraded_control_planes(client: KubeClient, node: str) -> list[str]:
    images = control_plane_images(client, "kube-apiserver")
    mine = images.get(node)
    return sorted(name for name, image in images.items() if image != mine)


def apply_object(client: KubeClient, resource: str, obj: dict[str, Any]) -> None:
    """Create, or replace the spec/data of, an addon object (what kubeadm's apiclient.CreateOrUpdate does)."""
    meta = obj["metadata"]
    url = path(resource, meta.get("namespace"), meta["name"])
    current = client.get_or_none(url)
    if current is None:
        client.create(path(resource, meta.get("namespace")), obj)
        return
    for key in ("spec", "data"):
        if key in obj:
            current[key] = obj[key]
    current["metadata"].setdefault("labels", {}).update(meta.get("labels") or {})
    client.update(url, current)


def upgrade_addons(client: KubeClient, printer: Printer, node: str, version: str, kubeadm_version: str) -> None:
    behind = unupgraded_control_planes(client, node)
    if behind:
        for _addon in ("coredns", "kube-proxy"):
            printer.line(
                f"[upgrade/addon] Skipping upgrade of addons because control plane instances [{' '.join(behind)}] "
                "have not been upgraded"
            )
        return
    dns = coredns(version)
    image = f"registry.k8s.io/coredns/coredns:{COREDNS.get(minor(kubeadm_version), 'v1.13.1')}"
    for resource, obj in dns:
        if resource == "deployments":
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = image
        try:
            apply_object(client, resource, obj)
        except ApiError as exc:
            if exc.status != 409:
                raise
    printer.line("[addons] Applied essential addon: CoreDNS")
    for resource, obj in kube_proxy(version):
        apply_object(client, resource, obj)
    printer.line("[addons] Applied essential addon: kube-proxy")
