"""The simulated kubelet of a node container, as the ``kubelet`` package installs it at /usr/bin/kubelet.

It takes the real kubelet's command line as kubeadm's systemd drop-in builds it (``--kubeconfig``, ``--config``,
the flags of ``kubeadm-flags.env``), reads its KubeletConfiguration (``staticPodPath``), runs the static pods as
systemd units (``labkit.static_pods``) from the moment it starts -- before any API server exists, as a real kubelet
brings up the control plane -- and registers its Node once the API answers. It reports the version it was
installed with: upgrading the package changes nothing until the kubelet is restarted.

Everything is imported when the process starts, so a package upgrade cannot swap code under a running kubelet.
"""

from __future__ import annotations

import json
import platform
import socket
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from labkit import component
from labkit.kubeclient import ApiError, Informer, KubeClient
from labkit.kubelet import Kubelet
from labkit.static_pods import SystemdRuntime

SETTINGS = Path("/etc/cluster-ops-lab/settings.json")
# The kubelet flags kubeadm and its users pass; anything else is refused like the real kubelet does.
KNOWN_FLAGS = {
    "bootstrap-kubeconfig", "kubeconfig", "config", "container-runtime-endpoint", "node-ip",
    "pod-infra-container-image", "hostname-override", "node-labels", "register-with-taints", "v",
    "cgroup-driver", "fail-swap-on", "cloud-provider", "rotate-certificates", "resolv-conf", "max-pods",
    "kube-reserved", "system-reserved", "eviction-hard", "feature-gates", "image-credential-provider-config",
    "image-credential-provider-bin-dir", "provider-id", "root-dir", "runtime-request-timeout",
}  # fmt: skip


def parse_flags(argv: list[str]) -> dict[str, str]:
    flags: dict[str, str] = {}
    items = iter(argv)
    for item in items:
        if not item.startswith("--"):
            raise SystemExit(f"Error: unexpected argument {item!r}")
        name, sep, value = item[2:].partition("=")
        if name not in KNOWN_FLAGS:
            raise SystemExit(f"Error: unknown flag: --{name}")
        flags[name] = value if sep else next(items, "true")
    return flags


def read_os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return "Debian GNU/Linux 12 (bookworm)"


class NodeKubelet(Kubelet):
    def __init__(self, client: KubeClient, info: dict[str, Any], name: str, ip: str, manifests: Path):
        index = int(ip.rsplit(".", 1)[1])
        super().__init__(
            client,
            info,
            {name: {"ip": ip, "index": index, "control_plane": False, "manifests": manifests}},
            fleet=False,
        )
        self.name = name
        self.runtime = SystemdRuntime()
        self.static_running: dict[str, bool] = {}

    def identity(self, name: str) -> dict[str, str]:
        machine = Path("/etc/machine-id").read_text().strip()
        return {
            "machineID": machine,
            "systemUUID": f"{machine[:8]}-{machine[8:12]}-{machine[12:16]}-{machine[16:20]}-{machine[20:32]}",
            "bootID": Path("/proc/sys/kernel/random/boot_id").read_text().strip(),
            "osImage": read_os_release(),
            "kernelVersion": platform.release(),
        }

    def containers_started(self, pod: dict[str, Any]) -> bool:
        annotations = pod["metadata"].get("annotations") or {}
        if "kubernetes.io/config.mirror" not in annotations:
            return True
        static_name = pod["metadata"]["name"][: -len(f"-{self.name}")]
        return self.static_running.get(static_name, False)

    def runtime_loop(self) -> None:
        directory = Path(self.nodes[self.name]["manifests"])
        while True:
            try:
                self.static_running = self.runtime.sync(self.read_manifests(directory))
            except Exception:
                self.log.exception("static pod runtime")
            time.sleep(1.0)

    def register_when_possible(self) -> None:
        delay = 0.5
        while True:
            try:
                self.register(self.name)
                return
            except (ApiError, OSError, ValueError) as exc:
                self.log.info("registering node %s: %s (retrying)", self.name, exc)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def run(self) -> None:
        threading.Thread(target=self.runtime_loop, daemon=True, name="runtime").start()
        self.register_when_possible()
        informer = Informer(
            self.client, "pods", self.on_pod, fieldSelector=f"spec.nodeName={self.name}", cache=False
        ).start()
        threading.Thread(target=self.static_pod_loop, args=(self.name, informer), daemon=True).start()
        self.heartbeat_loop(self.name)


def main(version: str, argv: list[str]) -> int:
    flags = parse_flags(argv)
    log = component.setup("kubelet")
    settings = json.loads(SETTINGS.read_text()) if SETTINGS.exists() else {}
    config = yaml.safe_load(Path(flags.get("config", "/var/lib/kubelet/config.yaml")).read_text()) or {}
    name = (flags.get("hostname-override") or socket.gethostname()).lower()
    ip = flags.get("node-ip") or socket.gethostbyname(name)
    manifests = Path(config.get("staticPodPath") or "/etc/kubernetes/manifests")
    info = {**settings, "version": version}
    client = KubeClient.from_kubeconfig(flags.get("kubeconfig", "/etc/kubernetes/kubelet.conf"))
    log.info("Kubelet version v%s starting: node %s (%s), static pods from %s", version, name, ip, manifests)
    NodeKubelet(client, info, name, ip, manifests).run()
    return 0
