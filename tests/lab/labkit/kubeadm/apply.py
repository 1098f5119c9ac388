"""``kubeadm upgrade apply VERSION`` (cmd/kubeadm/app/cmd/upgrade/apply.go and its phases): preflight (cluster
health checks, version policy, confirmation, image pull), control-plane, upload-config, kubeconfig,
kubelet-config, bootstrap-token, addon, with kubeadm 1.35's output lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from labkit.kubeadm import addons, cluster, health, kubelet_config, phases, policy
from labkit.kubeadm.constants import ADMIN_CONF
from labkit.kubeadm.output import KubeadmError, Printer
from labkit.kubeadm.staticpods import Upgrade, go_duration
from labkit.kubeadm.upgrade_config import manifests_timeout
from labkit.kubeadm.versions import Version
from labkit.kubeclient import ApiError, KubeClient


@dataclass
class ApplyOptions:
    version: str | None = None
    yes: bool = False
    force: bool = False
    dry_run: bool = False
    etcd_upgrade: bool = True
    certificate_renewal: bool = True
    ignore_preflight_errors: list[str] = field(default_factory=list)
    kubeconfig: Path = ADMIN_CONF
    config: dict[str, Any] = field(default_factory=dict)


def apply(kubeadm_version: str, options: ApplyOptions, printer: Printer, stdin: TextIO | None = None) -> None:
    kubeadm = Version.parse(kubeadm_version)
    client = cluster.client_from(options.kubeconfig)
    cluster_config = phases.read_cluster_configuration(client, printer, "upgrade")
    printer.line("[upgrade/preflight] Running preflight checks")
    printer.line("[upgrade] Running cluster health checks")
    health.run(client, printer, options.ignore_preflight_errors, "preflight", dry_run=options.dry_run)
    if not options.version:
        raise KubeadmError("missing one or more required arguments. Required arguments: [version]", "preflight")
    try:
        target = Version.parse(options.version)
    except ValueError as exc:
        raise KubeadmError(f"unable to parse version {options.version!r}: {exc}", "preflight") from None
    printer.line(f'[upgrade/preflight] You have chosen to upgrade the cluster version to "{target.v}"')
    cluster_version = cluster.server_version(client)
    printer.line(f"[upgrade/versions] Cluster version: {cluster_version.v}")
    printer.line(f"[upgrade/versions] kubeadm version: {kubeadm.v}")
    enforce_policy(client, target, cluster_version, kubeadm, options.force, printer)
    if not (options.yes or options.force or options.dry_run):
        phases.confirm(printer, stdin)
    phases.pull_images(printer, "upgrade/preflight", options.dry_run)
    timeout = manifests_timeout(options.config)
    if options.dry_run:
        dry_run(printer, target, timeout)
        return
    node = phases.node_name()
    printer.line(f'[upgrade/control-plane] Upgrading your static Pod-hosted control plane to version "{target.v}" '
                 f"(timeout: {go_duration(timeout)})...")  # fmt: skip
    Upgrade(client, printer, node, phases.advertise_address(), str(target), cluster_config, timeout,
            options.certificate_renewal, options.etcd_upgrade).run()  # fmt: skip
    printer.line("[upgrade/control-plane] The control plane instance for this node was successfully upgraded!")
    kubelet_config.upload_config(client, printer, cluster_config, str(target))
    phases.kubeconfig_phase(printer, options.certificate_renewal)
    kubelet_config.write_kubelet_files(client, printer, control_plane_apply=True)
    phases.bootstrap_token_phase(printer)
    addons.upgrade_addons(client, printer, node, str(target), kubeadm_version)
    printer.line("")
    printer.line(f'[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "{target.v}".')
    printer.line("")
    printer.line("[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order.")


def enforce_policy(client: KubeClient, target: Version, cluster_version: Version, kubeadm: Version, force: bool,
                   printer: Printer) -> None:  # fmt: skip
    try:
        kubelets: list[str] | None = list(cluster.kubelet_versions(client).values())
        kubelets_error = None
    except (ApiError, OSError) as exc:
        kubelets, kubelets_error = None, str(exc)
    errors = policy.enforce(target, cluster_version, kubeadm, kubelets, kubelets_error)
    fatal, forced = policy.verdict(errors, force)
    if fatal:
        raise KubeadmError(fatal, "preflight")
    if forced:
        printer.line(forced)


def dry_run(printer: Printer, target: Version, timeout: float) -> None:
    """What ``--dry-run`` reports instead of changing anything (composed: the real one also prints every object
    and manifest it would write)."""
    printer.line(f'[upgrade/control-plane] Upgrading your static Pod-hosted control plane to version "{target.v}" '
                 f"(timeout: {go_duration(timeout)})...")  # fmt: skip
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        printer.line(f'[dryrun] Would write a new Static Pod manifest for "{component}" to '
                     f'"/etc/kubernetes/manifests/{component}.yaml" and back up the old one')  # fmt: skip
    printer.line('[dryrun] Would update the ConfigMap "kubeadm-config" in the "kube-system" Namespace')
    printer.line('[dryrun] Would update the ConfigMap "kubelet-config" in the "kube-system" Namespace')
    printer.line('[dryrun] Would write the kubelet configuration to file "/var/lib/kubelet/config.yaml"')
    printer.line("[dryrun] Would upgrade the CoreDNS and kube-proxy addons once every control plane is upgraded")
    printer.line("[upgrade/successful] Finished dryrunning successfully!")
