"""Pieces ``upgrade apply`` and ``upgrade node`` share: the node's identity, reading kubeadm-config, the image
pull lines, the kubeconfig and bootstrap-token phases, the confirmation prompt."""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

from labkit.kubeadm import certs
from labkit.kubeadm.config import fetch_cluster_configuration
from labkit.kubeadm.constants import ADMIN_CONF, KUBELET_CONF, MANIFESTS_DIR
from labkit.kubeadm.output import KubeadmError, Printer
from labkit.kubeclient import ApiError, KubeClient

ADVERTISE_ANNOTATION = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"


def node_name() -> str:
    return socket.gethostname().lower()


def advertise_address() -> str:
    """The node's API endpoint address, from its kube-apiserver manifest's annotation (as kubeadm reads it)."""
    manifest = MANIFESTS_DIR / "kube-apiserver.yaml"
    try:
        pod = yaml.safe_load(manifest.read_text())
        return str(pod["metadata"]["annotations"][ADVERTISE_ANNOTATION]).rsplit(":", 1)[0]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        raise KubeadmError(f"failed to get the API endpoint of this node from {manifest}") from None


def read_cluster_configuration(client: KubeClient, printer: Printer, prefix: str) -> dict[str, Any]:
    printer.line(f'[{prefix}] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
    try:
        config, _ = fetch_cluster_configuration(client)
    except (ApiError, OSError) as exc:
        raise KubeadmError(f"unable to fetch the kubeadm-config ConfigMap: {exc}") from None
    printer.line(
        f"[{prefix}] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it."
    )
    return config


def pull_images(printer: Printer, prefix: str, dry_run: bool) -> None:
    if dry_run:
        printer.line("[dryrun] Would pull the required images (like 'kubeadm config images pull')")
        return
    printer.line(f"[{prefix}] Pulling images required for setting up a Kubernetes cluster")
    printer.line(f"[{prefix}] This might take a minute or two, depending on the speed of your internet connection")
    printer.line(f"[{prefix}] You can also perform this action beforehand using 'kubeadm config images pull'")


def kubeconfig_phase(printer: Printer, renew: bool) -> None:
    if renew:
        certs.renew_kubeconfigs()
    printer.line("[upgrade/kubeconfig] The kubeconfig files for this node were successfully upgraded!")


def bootstrap_token_phase(printer: Printer) -> None:
    printer.line("[upgrade/bootstrap-token] Configuring bootstrap token and cluster-info RBAC rules")
    printer.line("[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes")
    printer.line("[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for "
                 "nodes to get long term certificate credentials")  # fmt: skip
    printer.line("[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve "
                 "CSRs from a Node Bootstrap Token")  # fmt: skip
    printer.line("[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client "
                 "certificates in the cluster")  # fmt: skip


def confirm(printer: Printer, stdin: TextIO | None = None) -> None:
    """``[upgrade] Are you sure you want to proceed? [y/N]:`` -- only y/yes go on."""
    printer.out.write("[upgrade] Are you sure you want to proceed? [y/N]: ")
    printer.out.flush()
    answer = (stdin or sys.stdin).readline().strip().lower()
    if answer not in ("y", "yes"):
        raise KubeadmError("won't proceed; the user didn't answer (Y|y) in order to continue", "preflight")


def is_control_plane() -> bool:
    return (MANIFESTS_DIR / "kube-apiserver.yaml").exists()


def default_kubeconfig() -> Path:
    return ADMIN_CONF if is_control_plane() else KUBELET_CONF
