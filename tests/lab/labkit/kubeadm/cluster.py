"""What kubeadm reads from the cluster: the API server's version, control-plane pods, nodes, addons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.kubeadm.output import KubeadmError
from labkit.kubeadm.versions import Version, image_tag
from labkit.kubeclient import ApiError, KubeClient, path

REQUEST_TIMEOUT = 10.0


def client_from(kubeconfig: Path) -> KubeClient:
    if not kubeconfig.exists():
        raise KubeadmError(
            f'couldn\'t create a Kubernetes client from file "{kubeconfig}": failed to load admin kubeconfig: '
            f"open {kubeconfig}: no such file or directory"
        )
    return KubeClient.from_kubeconfig(str(kubeconfig), timeout=REQUEST_TIMEOUT)


def describe(client: KubeClient, url: str, exc: Exception) -> str:
    """A client error as client-go prints it (``Get "https://...": dial tcp ...: connect: connection refused``)."""
    full = f"https://{client.host}:{client.port}{url}?timeout=10s"
    if isinstance(exc, ApiError):
        return str(exc.body.get("message") or exc)
    if isinstance(exc, ConnectionRefusedError):
        return f'Get "{full}": dial tcp {client.host}:{client.port}: connect: connection refused'
    if isinstance(exc, TimeoutError):
        return f'Get "{full}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    return f'Get "{full}": {exc}'


def server_version(client: KubeClient) -> Version:
    try:
        return Version.parse(client.get("/version")["gitVersion"])
    except (ApiError, OSError, ValueError) as exc:
        raise KubeadmError(f"Unable to fetch cluster version: {describe(client, '/version', exc)}") from None


def pods_with_label(client: KubeClient, selector: str) -> list[dict[str, Any]]:
    return client.get(path("pods", "kube-system"), labelSelector=selector).get("items", [])


def control_plane_images(client: KubeClient, component: str) -> dict[str, str]:
    """Node name -> image of the component's mirror pod (``component=<c>,tier=control-plane``)."""
    pods = pods_with_label(client, f"component={component},tier=control-plane")
    return {p["spec"].get("nodeName", ""): p["spec"]["containers"][0]["image"] for p in pods}


def control_plane_nodes(client: KubeClient) -> list[dict[str, Any]]:
    return client.get(path("nodes"), labelSelector="node-role.kubernetes.io/control-plane").get("items", [])


def kubelet_versions(client: KubeClient) -> dict[str, str]:
    nodes = client.get(path("nodes")).get("items", [])
    return {n["metadata"]["name"]: n.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", "") for n in nodes}


def coredns_image_tag(client: KubeClient) -> str:
    deployment = client.get_or_none(path("deployments", "kube-system", "coredns"))
    if not deployment:
        return ""
    return image_tag(deployment["spec"]["template"]["spec"]["containers"][0]["image"])
