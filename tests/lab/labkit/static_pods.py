"""The simulated kubelet's container runtime in a node container: each static pod a transient systemd service.

``kubepod-<pod>-<random>.service`` (a new one per start, like a container ID) is started with ``systemd-run``
(Restart=always, like restartPolicy Always) and is not part of kubelet.service, so stopping or restarting the
kubelet leaves the control plane running, as containerd keeps a real kubelet's containers. The unit carries the
pod's name and manifest hash (``LAB_POD_NAME``, ``LAB_POD_HASH``): a changed manifest stops the old process and
starts the new one, a removed manifest stops it, a restarted kubelet adopts what runs.

An image is run from the lab's image store (``/usr/lib/cluster-ops-lab/images``, the host's labkit mounted
read-only): ``kube-apiserver``, ``kube-controller-manager`` and ``kube-scheduler`` are labkit's simulations
(``labkit.images.*``), ``etcd`` is the node's real etcd binary. The image reference reaches the process in
``LAB_IMAGE`` (the simulations report its tag as their version).
"""

from __future__ import annotations

import logging
import secrets
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

IMAGE_STORE = "/usr/lib/cluster-ops-lab/images"
PYTHON = "/usr/bin/python3"
IMAGES = {
    "kube-apiserver": [PYTHON, "-m", "labkit.images.kube_apiserver"],
    "kube-controller-manager": [PYTHON, "-m", "labkit.images.kube_controller_manager"],
    "kube-scheduler": [PYTHON, "-m", "labkit.images.kube_scheduler"],
    "etcd": ["/usr/bin/etcd"],
}
UNIT_PREFIX = "kubepod-"
log = logging.getLogger("kubelet")


def image_name(image: str) -> str:
    """``registry.k8s.io/kube-apiserver:v1.35.2`` -> ``kube-apiserver``."""
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]


def new_unit_name(pod: str) -> str:
    """A fresh unit per start, like a container ID: a stopped unit may linger until systemd collects it."""
    return f"{UNIT_PREFIX}{pod}-{secrets.token_hex(3)}.service"


def container_argv(container: dict[str, Any]) -> list[str] | None:
    """The process for a container: the image's entry point with the manifest's arguments (None: unknown image)."""
    entry = IMAGES.get(image_name(container.get("image", "")))
    if entry is None:
        return None
    command = list(container.get("command") or [])
    return [*entry, *command[1:], *(container.get("args") or [])]


@dataclass
class Unit:
    name: str
    pod: str
    hash: str
    active: str
    sub: str

    @property
    def running(self) -> bool:
        return self.active == "active" and self.sub == "running"

    @property
    def alive(self) -> bool:
        return self.active not in ("inactive", "failed")


class SystemdRuntime:
    def __init__(self) -> None:
        self.failed_images: set[str] = set()

    def units(self) -> list[Unit]:
        """Every kubepod unit systemd knows, with the pod and manifest hash it was started for."""
        listed = subprocess.run(
            ["systemctl", "list-units", "--all", "--plain", "--no-legend", f"{UNIT_PREFIX}*"],
            capture_output=True, text=True,
        )  # fmt: skip
        names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
        if not names:
            return []
        shown = subprocess.run(
            ["systemctl", "show", "--property=Id,LoadState,ActiveState,SubState,Environment", *names],
            capture_output=True, text=True,
        )  # fmt: skip
        units = []
        for block in shown.stdout.strip().split("\n\n"):
            props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            env = dict(item.split("=", 1) for item in props.get("Environment", "").split() if "=" in item)
            if props.get("LoadState") == "not-found" or "LAB_POD_NAME" not in env:
                continue
            units.append(Unit(props.get("Id", ""), env["LAB_POD_NAME"], env.get("LAB_POD_HASH", ""),
                              props.get("ActiveState", ""), props.get("SubState", "")))  # fmt: skip
        return units

    def sync(self, wanted: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, bool]:
        """Make the units match ``wanted`` (pod name -> (hash, manifest)); returns pod name -> process running."""
        units = self.units()
        for unit in units:
            if unit.alive and (unit.pod not in wanted or unit.hash != wanted[unit.pod][0]):
                reason = "changed" if unit.pod in wanted else "removed"
                log.info("static pod %s: manifest %s, stopping %s", unit.pod, reason, unit.name)
                self.stop(unit.name)
        running = {}
        for pod, (digest, manifest) in wanted.items():
            current = [u for u in units if u.pod == pod and u.hash == digest and u.alive]
            if not current:
                self.start(pod, digest, manifest)
                current = [u for u in self.units() if u.pod == pod and u.hash == digest and u.alive]
            running[pod] = any(u.running for u in current)
        return running

    def start(self, name: str, digest: str, manifest: dict[str, Any]) -> None:
        containers = (manifest.get("spec") or {}).get("containers") or [{}]
        container = containers[0]
        argv = container_argv(container)
        image = container.get("image", "")
        if argv is None:
            if image not in self.failed_images:
                log.warning("static pod %s: image %s is not in the lab's image store", name, image)
                self.failed_images.add(image)
            return
        env = {"LAB_POD_NAME": name, "LAB_POD_HASH": digest, "LAB_IMAGE": image, "PYTHONPATH": IMAGE_STORE,
               "PYTHONUNBUFFERED": "1"}  # fmt: skip
        unit = new_unit_name(name)
        command = ["systemd-run", f"--unit={unit}", "--collect", f"--description=static pod {name}",
                   "--property=Restart=always", "--property=RestartSec=1", "--property=StartLimitIntervalSec=0",
                   *(f"--setenv={k}={v}" for k, v in env.items()), "--", *argv]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            log.warning("static pod %s: systemd-run failed: %s", name, result.stderr.strip())
        else:
            log.info("static pod %s: started %s (%s)", name, unit, image)

    def stop(self, unit: str) -> None:
        subprocess.run(["systemctl", "stop", unit], capture_output=True)
        subprocess.run(["systemctl", "reset-failed", unit], capture_output=True)


if __name__ == "__main__":  # for a look from inside a node: python3 -m labkit.static_pods
    for found in SystemdRuntime().units():
        print(found, file=sys.stdout)
