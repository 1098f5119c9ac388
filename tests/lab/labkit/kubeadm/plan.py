"""``kubeadm upgrade plan [version] [-o text|json|yaml]`` (cmd/kubeadm/app/cmd/upgrade/plan.go and
phases/upgrade/compute.go): the checks, the version discovery and the plan printer.

The lab's nodes are offline, so without a version argument kubeadm falls back to its own version for the
``stable`` and ``stable-1.NN`` labels (with klog's warnings on stderr), as the real one does without internet;
with an argument every label resolves to it (the real offline getter's quirk).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from labkit.kubeadm import cluster, health
from labkit.kubeadm.config import fetch_cluster_configuration
from labkit.kubeadm.output import KubeadmError, Printer
from labkit.kubeadm.tabwriter import format_table
from labkit.kubeadm.versions import Version, image_tag
from labkit.kubeadm_defaults import COREDNS, ETCD, minor
from labkit.kubeclient import ApiError, KubeClient

SEPARATOR = "_" * 69 + "\n\n"
CONFIG_VERSIONS = [("kubeproxy.config.k8s.io", "v1alpha1"), ("kubelet.config.k8s.io", "v1beta1")]
CONFIG_NOTE = (
    "The table below shows the current state of component configs as understood by this version of kubeadm.\n"
    'Configs that have a "yes" mark in the "MANUAL UPGRADE REQUIRED" column require manual config upgrade or\n'
    "resetting to kubeadm defaults before a successful upgrade can be performed. The version to manually\n"
    'upgrade to is denoted in the "PREFERRED VERSION" column.\n'
)


@dataclass
class Component:
    name: str
    current: str
    new: str
    node: str = ""

    def as_json(self) -> dict[str, str]:
        data = {"name": self.name, "currentVersion": self.current, "newVersion": self.new}
        return {**data, "nodeName": self.node} if self.node else data


@dataclass
class AvailableUpgrade:
    description: str
    target: Version
    components: list[Component]


def nameserver() -> str:
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            if line.startswith("nameserver"):
                return f"{line.split()[1]}:53"
    except (OSError, IndexError):
        pass
    return "127.0.0.53:53"


def resolve_label(printer: Printer, label: str, kubeadm_version: Version, given: str | None) -> Version:
    if given:
        return Version.parse(given)
    url = f"https://dl.k8s.io/release/{label}.txt"
    printer.klog("W", "version.go:109", f'could not fetch a Kubernetes version from the internet: unable to get URL '
                                        f'"{url}": Get "{url}": dial tcp: lookup dl.k8s.io on {nameserver()}: no such '
                                        "host")  # fmt: skip
    printer.klog("W", "version.go:110", f"falling back to the local client version: {kubeadm_version.v}")
    return kubeadm_version


def sorted_by_version(images: dict[str, str]) -> list[tuple[str, str]]:
    """(node, tag) sorted by the tag, then the node (kubeadm sorts the versions as strings)."""
    return sorted(((node, image_tag(image)) for node, image in images.items()), key=lambda item: (item[1], item[0]))


def components_for(client: KubeClient, target: Version, cluster_version: Version, kubeadm_version: Version,
                   kubelets: dict[str, str]) -> list[Component]:  # fmt: skip
    components: list[Component] = []
    if any(version != target.v for version in kubelets.values()):
        for node, version in sorted(kubelets.items(), key=lambda item: (item[1], item[0])):
            components.append(Component("kubelet", version, target.v, node))
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        for node, tag in sorted_by_version(cluster.control_plane_images(client, name)):
            components.append(Component(name, tag, target.v, node))
    components.append(Component("kube-proxy", str(cluster_version), target.v))
    coredns_target = COREDNS.get(minor(str(kubeadm_version)), "")
    components.append(Component("CoreDNS", cluster.coredns_image_tag(client), coredns_target))
    components.append(Component("kubeadm", kubeadm_version.v, target.v))
    etcd_target = ETCD.get(minor(str(target)), "N/A")
    for node, tag in sorted_by_version(cluster.control_plane_images(client, "etcd")):
        components.append(Component("etcd", tag, etcd_target, node))
    return components


def compute(client: KubeClient, printer: Printer, kubeadm_version: Version, given: str | None,
            ignore: list[str]) -> tuple[list[AvailableUpgrade], Version]:  # fmt: skip
    printer.line("[preflight] Running pre-flight checks.")
    printer.line('[upgrade/config] Reading configuration from the "kubeadm-config" ConfigMap in namespace '
                 '"kube-system"...')  # fmt: skip
    try:
        fetch_cluster_configuration(client)
    except ApiError as exc:
        if exc.status != 404:
            raise KubeadmError(f"unable to fetch the kubeadm-config ConfigMap: {exc}") from None
        printer.line('[upgrade/config] In order to upgrade, a ConfigMap called "kubeadm-config" in the "kube-system" '
                     "namespace must exist.")  # fmt: skip
        raise KubeadmError('[upgrade/init config] FATAL: the ConfigMap "kubeadm-config" in the "kube-system" '
                           "namespace was not found") from None  # fmt: skip
    printer.line("[upgrade/config] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to "
                 "re-upload it.")  # fmt: skip
    printer.line("[upgrade] Running cluster health checks")
    health.run(client, printer, ignore, None, wrap="[upgrade/health] FATAL: ")
    printer.line("[upgrade] Fetching available versions to upgrade to")
    apiservers = cluster.control_plane_images(client, "kube-apiserver")
    tags = sorted({Version.parse(image_tag(i)) for i in apiservers.values()})
    if not tags:
        raise KubeadmError("couldn't find any kube-apiserver pods (component=kube-apiserver,tier=control-plane)")
    if len(tags) > 1:
        printer.klog("W", "compute.go:92", f"Different API server versions in the cluster were discovered: "
                                           f"[{' '.join(t.v for t in tags)}]. Please upgrade your control plane nodes "
                                           "to the same version of Kubernetes")  # fmt: skip
    cluster_version = tags[-1]
    printer.line(f"[upgrade/versions] Cluster version: {cluster_version}")
    printer.line(f"[upgrade/versions] kubeadm version: {kubeadm_version.v}")
    stable = resolve_label(printer, "stable", kubeadm_version, given)
    printer.line(f"[upgrade/versions] Target version: {stable.v}")
    series = resolve_label(printer, f"stable-{cluster_version.major}.{cluster_version.minor}", kubeadm_version, given)
    printer.line(f"[upgrade/versions] Latest version in the {cluster_version.minor_line} series: {series.v}")
    kubelets = cluster.kubelet_versions(client)
    upgrades = []
    if cluster_version < series:
        components = components_for(client, series, cluster_version, kubeadm_version, kubelets)
        upgrades.append(AvailableUpgrade(f"version in the {cluster_version.minor_line} series", series, components))
    if cluster_version < stable and stable != series:
        components = components_for(client, stable, cluster_version, kubeadm_version, kubelets)
        upgrades.append(AvailableUpgrade("stable version", stable, components))
    return upgrades, kubeadm_version


def text(upgrades: list[AvailableUpgrade], kubeadm_version: Version) -> str:
    if not upgrades:
        return ""
    out = []
    for upgrade in upgrades:
        out.append("Components that must be upgraded manually after you have upgraded the control plane with "
                   "'kubeadm upgrade apply':\n")  # fmt: skip
        header = ["COMPONENT", "NODE", "CURRENT", "TARGET"]
        kubelet_rows = [[c.name, c.node, c.current, c.new] for c in upgrade.components if c.name == "kubelet"]
        out.append(format_table([header, *kubelet_rows]))
        out.append(f"\nUpgrade to the latest {upgrade.description}:\n\n")
        rows = [[c.name, c.node, c.current, c.new] for c in upgrade.components if c.name not in ("kubelet", "kubeadm")]
        out.append(format_table([header, *rows]))
        out.append("\nYou can now apply the upgrade by executing the following command:\n\n")
        out.append(f"\tkubeadm upgrade apply {upgrade.target.v}\n\n")
        if kubeadm_version < upgrade.target:
            out.append(
                f"Note: Before you can perform this upgrade, you have to update kubeadm to {upgrade.target.v}.\n\n"
            )
        out.append(SEPARATOR)
    out.append("\n" + CONFIG_NOTE + "\n")
    config_rows = [["API GROUP", "CURRENT VERSION", "PREFERRED VERSION", "MANUAL UPGRADE REQUIRED"]]
    config_rows += [[group, version, version, "no"] for group, version in CONFIG_VERSIONS]
    out.append(format_table(config_rows))
    out.append(SEPARATOR)
    return "".join(out)


def document(upgrades: list[AvailableUpgrade]) -> dict[str, Any]:
    plan: dict[str, Any] = {"kind": "UpgradePlan", "apiVersion": "output.kubeadm.k8s.io/v1alpha3"}
    if upgrades:
        plan["availableUpgrades"] = [
            {"description": u.description, "components": [c.as_json() for c in u.components]} for u in upgrades
        ]
    plan["configVersions"] = [
        {"group": group, "currentVersion": version, "preferredVersion": version, "manualUpgradeRequired": False}
        for group, version in CONFIG_VERSIONS
    ]
    return plan


def render(upgrades: list[AvailableUpgrade], kubeadm_version: Version, output: str) -> str:
    if output == "json":
        return json.dumps(document(upgrades), indent=4) + "\n"
    if output == "yaml":
        return yaml.safe_dump(document(upgrades), sort_keys=True, default_flow_style=False)
    return text(upgrades, kubeadm_version)
