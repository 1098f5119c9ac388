"""The static pod control-plane upgrade of ``kubeadm upgrade apply`` and ``upgrade node``
(phases/upgrade/staticpods.go).

New manifests are written to ``/etc/kubernetes/tmp/kubeadm-upgraded-manifests<N>``; for each component (etcd first,
when local and ``--etcd-upgrade``) the certificates are renewed, the old manifest is moved to
``kubeadm-backup-manifests-<date>`` and the new one into place, then kubeadm waits for the mirror pod's
``kubernetes.io/config.hash`` to change and for the component's pods to be Running. On any failure the components
already touched get their old manifests back. etcd's data dir is copied to ``kubeadm-backup-etcd-<date>`` first.
"""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.etcd import EtcdClient
from labkit.kubeadm import certs, manifests
from labkit.kubeadm.cluster import describe, pods_with_label
from labkit.kubeadm.constants import CONTROL_PLANE_COMPONENTS, ETCD_DATA_DIR, MANIFESTS_DIR, PKI_DIR, TMP_DIR
from labkit.kubeadm.output import KubeadmError, Printer
from labkit.kubeclient import ApiError, KubeClient, path

HASH = "kubernetes.io/config.hash"
ETCD_PKI = PKI_DIR / "etcd"
ETCD_CLIENT_FILES: tuple[str, str, str] = (
    str(ETCD_PKI / "ca.crt"),
    str(ETCD_PKI / "healthcheck-client.crt"),
    str(ETCD_PKI / "healthcheck-client.key"),
)
POLL = 0.5


class ComponentFailure(Exception):
    pass


def go_duration(seconds: float) -> str:
    """Go's time.Duration String() for whole seconds: 5m0s, 30s, 1h0m0s."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def timestamp() -> str:
    return time.strftime("%Y-%m-%d-%H-%M-%S")


def random_suffix() -> str:
    return str(random.randint(100000000, 4294967295))


@dataclass
class Upgrade:
    client: KubeClient
    printer: Printer
    node: str
    ip: str
    version: str
    cluster_config: dict[str, Any]
    timeout: float
    renew_certificates: bool
    etcd_upgrade: bool
    recover: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        stamp = timestamp()
        self.upgraded_dir = TMP_DIR / f"kubeadm-upgraded-manifests{random_suffix()}"
        self.backup_dir = TMP_DIR / f"kubeadm-backup-manifests-{stamp}"
        self.etcd_backup_dir = TMP_DIR / f"kubeadm-backup-etcd-{stamp}"

    def line(self, text: str) -> None:
        self.printer.line(text)

    # -- the whole control plane -------------------------------------------------------------------------------

    def run(self) -> None:
        self.line(f'[upgrade/staticpods] Writing new Static Pod manifests to "{self.upgraded_dir}"')
        self.upgraded_dir.mkdir(parents=True, exist_ok=True)
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        for name, text in manifests.for_node(self.version, self.node, self.ip, self.cluster_config).items():
            (self.upgraded_dir / name).write_text(text)
        hashes = {c: self.wait_for_single_hash(c) for c in ("etcd", *CONTROL_PLANE_COMPONENTS)}
        try:
            if self.etcd_upgrade:
                self.upgrade_etcd(hashes["etcd"])
            for component in CONTROL_PLANE_COMPONENTS:
                self.upgrade_component(component, hashes[component])
        except ComponentFailure as exc:
            self.rollback()
            raise KubeadmError(
                "couldn't complete the static pod upgrade: couldn't upgrade control plane. kubeadm has tried to "
                f"recover everything into the earlier state. Errors faced: {exc}",
                "control-plane",
            ) from None
        shutil.rmtree(self.upgraded_dir, ignore_errors=True)

    def rollback(self) -> None:
        for component, backup in self.recover.items():
            if backup.exists():
                shutil.move(str(backup), MANIFESTS_DIR / f"{component}.yaml")

    # -- one component -----------------------------------------------------------------------------------------

    def upgrade_component(self, component: str, before_hash: str) -> None:
        self.line(f'[upgrade/staticpods] Preparing for "{component}" upgrade')
        if self.renew_certificates:
            certs.renew_for(component, self.line)
        current = MANIFESTS_DIR / f"{component}.yaml"
        new = self.upgraded_dir / f"{component}.yaml"
        if current.exists() and current.read_bytes() == new.read_bytes():
            self.line(f"[upgrade/staticpods] Current and new manifests of {component} are equal, skipping upgrade")
            return
        backup = self.backup_dir / f"{component}.yaml"
        self.recover[component] = backup
        shutil.move(str(current), backup)
        shutil.move(str(new), current)
        self.line(f'[upgrade/staticpods] Moving new manifest to "{current}" and backing up old manifest to "{backup}"')
        self.line("[upgrade/staticpods] Waiting for the kubelet to restart the component")
        self.line(f"[upgrade/staticpods] This can take up to {go_duration(self.timeout)}")
        self.wait_for_hash_change(component, before_hash)
        self.wait_for_pods_with_label(component)
        self.line(f'[upgrade/staticpods] Component "{component}" upgraded successfully!')

    def upgrade_etcd(self, before_hash: str) -> None:
        etcd = self.etcd_client()
        problem = cluster_health(etcd)
        if problem:
            raise ComponentFailure(f"etcd cluster is not healthy: {problem}")
        shutil.copytree(ETCD_DATA_DIR, self.etcd_backup_dir / "etcd", symlinks=True)
        try:
            self.upgrade_component("etcd", before_hash)
            self.line("[upgrade/etcd] Waiting for etcd to become available")
            self.wait_for_etcd(etcd)
        except ComponentFailure as exc:
            self.line(f"[upgrade/etcd] Failed to upgrade etcd: {exc}")
            self.line("[upgrade/etcd] Waiting for previous etcd to become available")
            self.rollback()
            self.recover.clear()
            self.wait_for_etcd(etcd)
            self.line("[upgrade/etcd] Etcd was rolled back and is now available")
            raise ComponentFailure(
                f"fatal error when trying to upgrade the etcd cluster, rolled the state back to pre-upgrade state: "
                f"{exc}"
            ) from None

    # -- waits -------------------------------------------------------------------------------------------------

    def mirror_hash(self, component: str) -> str:
        url = path("pods", "kube-system", f"{component}-{self.node}")
        try:
            pod = self.client.get(url)
        except (ApiError, OSError) as exc:
            raise ComponentFailure(describe(self.client, url, exc)) from None
        digest = (pod["metadata"].get("annotations") or {}).get(HASH)
        if not digest:
            raise ComponentFailure(f"failed to obtain static Pod hash for component {component} on Node {self.node}")
        return str(digest)

    def wait_for_single_hash(self, component: str) -> str:
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return self.mirror_hash(component)
            except ComponentFailure as exc:
                if time.monotonic() > deadline:
                    raise KubeadmError(
                        f"failed to obtain static Pod hash for component {component} on Node {self.node}: {exc}",
                        "control-plane",
                    ) from None
            time.sleep(POLL)

    def wait_for_hash_change(self, component: str, before: str) -> None:
        deadline = time.monotonic() + self.timeout
        last_error: str | None = None
        while time.monotonic() < deadline:
            try:
                if self.mirror_hash(component) != before:
                    return
                last_error = None
            except ComponentFailure as exc:
                last_error = f"failed to obtain static Pod hash for component {component} on Node {self.node}: {exc}"
            time.sleep(POLL)
        if last_error:
            raise ComponentFailure(last_error)
        raise ComponentFailure(
            f"static Pod hash for component {component} on Node {self.node} did not change after "
            f"{go_duration(self.timeout)}: context deadline exceeded"
        )

    def wait_for_pods_with_label(self, component: str) -> None:
        selector = f"component={component}"
        deadline = time.monotonic() + self.timeout
        known = -1
        while time.monotonic() < deadline:
            try:
                pods = pods_with_label(self.client, selector)
            except (ApiError, OSError):
                time.sleep(POLL)
                continue
            if len(pods) != known:
                self.line(f"[apiclient] Found {len(pods)} Pods for label selector {selector}")
                known = len(pods)
            if pods and all((p.get("status") or {}).get("phase") == "Running" for p in pods):
                return
            time.sleep(POLL)
        raise ComponentFailure("context deadline exceeded")

    def etcd_client(self) -> EtcdClient:
        return EtcdClient([f"https://{self.ip}:2379"], *ETCD_CLIENT_FILES, timeout=5)

    def wait_for_etcd(self, etcd: EtcdClient) -> None:
        deadline = time.monotonic() + self.timeout
        problem = None
        while time.monotonic() < deadline:
            problem = cluster_health(etcd)
            if problem is None:
                return
            time.sleep(POLL)
        raise ComponentFailure(f"etcd cluster is not available: {problem}")


def cluster_health(etcd: EtcdClient) -> str | None:
    """None when every member answers, else what failed (etcdutil's CheckClusterHealth)."""
    try:
        members = etcd.call("/v3/cluster/member/list", {}).get("members") or []
    except Exception as exc:
        return str(exc)
    for member in members:
        for url in member.get("clientURLs") or []:
            member_client = EtcdClient([url], *ETCD_CLIENT_FILES, timeout=3)
            try:
                member_client.status()
            except Exception as exc:
                return f"error checking endpoint {url}: {exc}"
            finally:
                member_client.close()
    return None
