"""kubeadm's configuration documents: the ClusterConfiguration kept in the ``kubeadm-config`` ConfigMap, the
KubeletConfiguration in ``kubelet-config`` and /var/lib/kubelet, and the kubelet's ``kubeadm-flags.env``."""

from __future__ import annotations

from typing import Any

import yaml

from labkit.bootstrap import kubelet_configuration
from labkit.kubeadm.constants import CRI_SOCKET, KUBEADM_CONFIG_MAP, KUBELET_CONFIG_MAP
from labkit.kubeadm_defaults import PAUSE
from labkit.kubeclient import KubeClient, path


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
