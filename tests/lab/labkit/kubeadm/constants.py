"""kubeadm's paths, names and defaults."""

from __future__ import annotations

from pathlib import Path

KUBERNETES_DIR = Path("/etc/kubernetes")
MANIFESTS_DIR = KUBERNETES_DIR / "manifests"
PKI_DIR = KUBERNETES_DIR / "pki"
TMP_DIR = KUBERNETES_DIR / "tmp"
ADMIN_CONF = KUBERNETES_DIR / "admin.conf"
SUPER_ADMIN_CONF = KUBERNETES_DIR / "super-admin.conf"
KUBELET_CONF = KUBERNETES_DIR / "kubelet.conf"
KUBELET_DIR = Path("/var/lib/kubelet")
KUBELET_CONFIG = KUBELET_DIR / "config.yaml"
KUBELET_FLAGS_ENV = KUBELET_DIR / "kubeadm-flags.env"
KUBELET_INSTANCE_CONFIG = KUBELET_DIR / "instance-config.yaml"
ETCD_DATA_DIR = Path("/var/lib/etcd")
LAB_SETTINGS = Path("/etc/cluster-ops-lab/settings.json")  # the simulation's knobs (time factor), not kubeadm's

CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
STATIC_PODS = ("etcd", *CONTROL_PLANE_COMPONENTS)
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
IMAGE_REPOSITORY = "registry.k8s.io"
CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
KUBEADM_CONFIG_MAP = "kubeadm-config"
KUBELET_CONFIG_MAP = "kubelet-config"
API_PORT = 6443
UPGRADE_MANIFESTS_TIMEOUT = 300.0  # UpgradeConfiguration.timeouts.upgradeManifests
CREATE_JOB_TIMEOUT = 15.0
