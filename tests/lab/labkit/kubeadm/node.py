"""``kubeadm upgrade node`` (cmd/kubeadm/app/cmd/upgrade/node.go and its phases): on another control plane the
same static pod upgrade as apply, to the version kubeadm-config names (``apply`` already set it); on a worker only
the kubelet configuration. There is no version argument and no ``--force``.

The 1.32+ wording of the control-plane lines and the worker's transcript are composed from kubeadm's sources
(no full real transcript was at hand)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.kubeadm import addons, cluster, kubelet_config, phases
from labkit.kubeadm.constants import TMP_DIR
from labkit.kubeadm.output import KubeadmError, Printer
from labkit.kubeadm.staticpods import Upgrade
from labkit.kubeadm.upgrade_config import manifests_timeout
from labkit.kubeadm.versions import Version


@dataclass
class NodeOptions:
    dry_run: bool = False
    etcd_upgrade: bool = True
    certificate_renewal: bool = True
    ignore_preflight_errors: list[str] = field(default_factory=list)
    kubeconfig: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)


def upgrade_node(kubeadm_version: str, options: NodeOptions, printer: Printer) -> None:
    control_plane = phases.is_control_plane()
    client = cluster.client_from(options.kubeconfig or phases.default_kubeconfig())
    cluster_config = phases.read_cluster_configuration(client, printer, "upgrade")
    try:
        target = Version.parse(str(cluster_config.get("kubernetesVersion", "")))
    except ValueError as exc:
        raise KubeadmError(f"kubeadm-config has no valid kubernetesVersion: {exc}", "preflight") from None
    printer.line("[preflight] Running pre-flight checks")
    if not control_plane:
        printer.line("[preflight] Skipping prepull. Not a control plane node.")
        printer.line("[upgrade] Skipping phase. Not a control plane node.")
        printer.line("[upgrade] Skipping phase. Not a control plane node.")
    else:
        phases.pull_images(printer, "preflight", options.dry_run)
    if options.dry_run:
        printer.line(f'[dryrun] Would upgrade this node to "{target.v}" (static pods, kubeconfig files, kubelet '
                     "configuration)")  # fmt: skip
        printer.line("[upgrade/successful] Finished dryrunning successfully!")
        return
    node = phases.node_name()
    if control_plane:
        timeout = manifests_timeout(options.config)
        printer.line(f'[upgrade/control-plane] Upgrading your Static Pod-hosted control plane instance to version '
                     f'"{target.v}"...')  # fmt: skip
        Upgrade(client, printer, node, phases.advertise_address(), str(target), cluster_config, timeout,
                options.certificate_renewal, options.etcd_upgrade).run()  # fmt: skip
        printer.line("[upgrade/control-plane] The control plane instance for this node was successfully upgraded!")
        phases.kubeconfig_phase(printer, options.certificate_renewal)
    TMP_DIR.mkdir(parents=True, exist_ok=True)
    kubelet_config.write_kubelet_files(client, printer, control_plane_apply=False)
    if control_plane:
        addons.upgrade_addons(client, printer, node, str(target), kubeadm_version)
    else:
        printer.line("[upgrade/addon] Skipping addon/coredns phase. Not a control plane node.")
        printer.line("[upgrade/addon] Skipping addon/kube-proxy phase. Not a control plane node.")
