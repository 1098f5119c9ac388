"""kubeadm's configuration documents: the ClusterConfiguration kept in the ``kubeadm-config`` ConfigMap, the
KubeletConfiguration in ``kubelet-config`` and /var/lib/kubelet, and the kubelet's ``kubeadm-flags.env``."""

from __future__ import annotations

from typing import Any

import yaml

from labkit.bootstrap import kubelet_configuration
from labkit.kubeadm.constants import CRI_SOCKET, KUBEADM_CONFIG_MAP, KUBELET_CONFIG_MAP
from labkit.kubeadm_defaults import PAUSE
from labkit.kubeclient import KubeClient, path


def cluster_configuration(version: str, control_plane_endpoint: str | None) -> dict[str, Any]:
    """What ``kubeadm init`` uploads (v1beta4), ``controlPlaneEndpoint`` only when one was given (HA)."""
    config: dict[str, Any] = {
        "apiServer": {},
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "caCertificateValidityPeriod": "87600h0m0s",
        "certificateValidityPeriod": "8760h0m0s",
        "certificatesDir": "/etc/kubernetes/pki",
        "clusterName": "kubernetes",
        "controllerManager": {},
        "dns": {},
        "encryptionAlgorithm": "RSA-2048",
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "imageRepository": "registry.k8s.io",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": f"v{version.lstrip('v')}",
        "networking": {"dnsDomain": "cluster.local", "podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
        "proxy": {},
        "scheduler": {},
    }
    if control_plane_endpoint:
        config["controlPlaneEndpoint"] = control_plane_endpoint
    return config


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False)


def kubelet_config_yaml() -> str:
    return kubelet_configuration()


def kubeadm_flags_env(node_ip: str) -> str:
    """``/var/lib/kubelet/kubeadm-flags.env`` as kubeadm writes it (``--node-ip`` as set through
    ``nodeRegistration.kubeletExtraArgs``, which the lab needs: every node shares the host's network)."""
    flags = f"--container-runtime-endpoint={CRI_SOCKET} --node-ip={node_ip} --pod-infra-container-image={PAUSE}"
    return f'KUBELET_KUBEADM_ARGS="{flags}"\n'


def fetch_cluster_configuration(client: KubeClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """(ClusterConfiguration, the ConfigMap) from kube-system/kubeadm-config."""
    config_map = client.get(path("configmaps", "kube-system", KUBEADM_CONFIG_MAP))
    return yaml.safe_load((config_map.get("data") or {}).get("ClusterConfiguration") or "{}") or {}, config_map


def kubelet_config_map_yaml(client: KubeClient) -> str:
    config_map = client.get_or_none(path("configmaps", "kube-system", KUBELET_CONFIG_MAP)) or {}
    return (config_map.get("data") or {}).get("kubelet") or kubelet_config_yaml()
