"""The upload-config and kubelet-config phases: the cluster's ConfigMaps, then this node's kubelet files
(backed up first; the kubelet is not restarted -- that is the operator's next step)."""

from __future__ import annotations

import shutil
from typing import Any

from labkit.kubeadm import config as kubeadm_config
from labkit.kubeadm.constants import (
    CRI_SOCKET,
    KUBEADM_CONFIG_MAP,
    KUBELET_CONFIG,
    KUBELET_CONFIG_MAP,
    KUBELET_FLAGS_ENV,
    KUBELET_INSTANCE_CONFIG,
    TMP_DIR,
)
from labkit.kubeadm.output import Printer
from labkit.kubeadm.staticpods import random_suffix
from labkit.kubeclient import KubeClient, path
from labkit.objects import config_map


def upload_config(client: KubeClient, printer: Printer, cluster_config: dict[str, Any], version: str) -> None:
    cluster_config = {**cluster_config, "kubernetesVersion": f"v{version.lstrip('v')}"}
    printer.line(f'[upload-config] Storing the configuration used in ConfigMap "{KUBEADM_CONFIG_MAP}" in the '
                 '"kube-system" Namespace')  # fmt: skip
    put_config_map(client, KUBEADM_CONFIG_MAP, {"ClusterConfiguration": kubeadm_config.dump(cluster_config)})
    printer.line(f'[kubelet] Creating a ConfigMap "{KUBELET_CONFIG_MAP}" in namespace kube-system with the '
                 "configuration for the kubelets in the cluster")  # fmt: skip
    put_config_map(client, KUBELET_CONFIG_MAP, {"kubelet": kubeadm_config.kubelet_config_map_yaml(client)})


def put_config_map(client: KubeClient, name: str, data: dict[str, str]) -> None:
    url = path("configmaps", "kube-system", name)
    current = client.get_or_none(url)
    if current is None:
        client.create(path("configmaps", "kube-system"), config_map("kube-system", name, data))
    else:
        current["data"] = data
        client.update(url, current)


def backup_dir(printer: Printer) -> Any:
    directory = TMP_DIR / f"kubeadm-kubelet-config{random_suffix()}"
    printer.klog("W", "postupgrade.go:116", f"Using temporary directory {directory} for kubelet config. To override "
                                            "it set the environment variable KUBEADM_UPGRADE_DRYRUN_DIR")  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    printer.line(f"[upgrade] Backing up kubelet config file to {directory}/config.yaml")
    shutil.copy2(KUBELET_CONFIG, directory / "config.yaml")
    return directory


def write_kubelet_files(client: KubeClient, printer: Printer, control_plane_apply: bool) -> None:
    """``upgrade apply`` rewrites the flags and instance config too (1.34+); ``upgrade node`` the config."""
    backup_dir(printer)
    if control_plane_apply:
        flags = KUBELET_FLAGS_ENV.read_text() if KUBELET_FLAGS_ENV.exists() else ""
        printer.line(f'[kubelet-start] Writing kubelet environment file with flags to file "{KUBELET_FLAGS_ENV}"')
        KUBELET_FLAGS_ENV.write_text(flags)
        printer.line(f'[kubelet-start] Writing kubelet configuration to file "{KUBELET_INSTANCE_CONFIG}"')
        KUBELET_INSTANCE_CONFIG.write_text(
            "apiVersion: kubelet.config.k8s.io/v1beta1\n"
            f"containerRuntimeEndpoint: {CRI_SOCKET}\nkind: KubeletConfiguration\n"
        )
        printer.line('[patches] Applied patch of type "application/strategic-merge-patch+json" to target '
                     '"kubeletconfiguration"')  # fmt: skip
    printer.line(f'[kubelet-start] Writing kubelet configuration to file "{KUBELET_CONFIG}"')
    KUBELET_CONFIG.write_text(kubeadm_config.kubelet_config_map_yaml(client))
    printer.line("[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!")
