"""The simulated kubelet's container runtime in a node container: each static pod a transient systemd service.

``kubepod-<pod>.service`` is started with ``systemd-run`` (Restart=always, like restartPolicy Always) and is not
part of kubelet.service, so stopping or restarting the kubelet leaves the control plane running, as containerd
keeps a real kubelet's containers. The unit carries the manifest's hash (``LAB_POD_HASH``): a changed manifest
stops the old process and starts the new one, a removed manifest stops it, a restarted kubelet adopts what runs.

An image is run from the lab's image store (``/usr/lib/cluster-ops-lab/images``, the host's labkit mounted
read-only): ``kube-apiserver``, ``kube-controller-manager`` and ``kube-scheduler`` are labkit's simulations
(``labkit.images.*``), ``etcd`` is the node's real etcd binary. The image reference reaches the process in
``LAB_IMAGE`` (the simulations report its tag as their version).
"""

from __future__ import annotations

import logging
import subprocess
import sys
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


def unit_name(pod: str) -> str:
    return f"{UNIT_PREFIX}{pod}.service"


def container_argv(container: dict[str, Any]) -> list[str] | None:
    """The process for a container: the image's entry point with the manifest's arguments (None: unknown image)."""
    entry = IMAGES.get(image_name(container.get("image", "")))
    if entry is None:
        return None
    command = list(container.get("command") or [])
    return [*entry, *command[1:], *(container.get("args") or [])]


class SystemdRuntime:
    def __init__(self) -> None:
        self.failed_images: set[str] = set()

    def units(self, pods: list[str]) -> dict[str, dict[str, str]]:
        """Pod name -> {"ActiveState", "SubState", "hash"} for the kubepod units that exist."""
        if not pods:
            return {}
        result = subprocess.run(
            [
                "systemctl",
                "show",
                "--property=Id,LoadState,ActiveState,SubState,Environment",
                *(unit_name(p) for p in pods),
            ],
            capture_output=True,
            text=True,
        )
        found: dict[str, dict[str, str]] = {}
        for block in result.stdout.strip().split("\n\n"):
            props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            unit = props.get("Id", "")
            if not unit.startswith(UNIT_PREFIX) or props.get("LoadState") == "not-found":
                continue
            env = dict(item.split("=", 1) for item in props.get("Environment", "").split() if "=" in item)
            found[unit[len(UNIT_PREFIX) : -len(".service")]] = {
                "ActiveState": props.get("ActiveState", ""),
                "SubState": props.get("SubState", ""),
                "hash": env.get("LAB_POD_HASH", ""),
            }
        return found

    def running_pods(self) -> list[str]:
        result = subprocess.run(
            ["systemctl", "list-units", "--all", "--plain", "--no-legend", f"{UNIT_PREFIX}*"],
            capture_output=True,
            text=True,
        )
        return [line.split()[0][len(UNIT_PREFIX) : -len(".service")] for line in result.stdout.splitlines() if line]

    def sync(self, wanted: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, bool]:
        """Make the units match ``wanted`` (pod name -> (hash, manifest)); returns pod name -> process running."""
        names = sorted(set(wanted) | set(self.running_pods()))
        units = self.units(names)
        running = {}
        for name in names:
            unit = units.get(name)
            if name not in wanted:
                if unit:
                    log.info("static pod %s: manifest removed, stopping %s", name, unit_name(name))
                    self.stop(name)
                continue
            digest, manifest = wanted[name]
            if unit and unit["hash"] != digest:
                log.info("static pod %s: manifest changed, restarting %s", name, unit_name(name))
                self.stop(name)
                unit = None
            if unit is None or unit["ActiveState"] in ("inactive", "failed"):
                self.start(name, digest, manifest)
                unit = self.units([name]).get(name)
            running[name] = bool(unit and unit["ActiveState"] == "active" and unit["SubState"] == "running")
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
        env = {"LAB_POD_HASH": digest, "LAB_IMAGE": image, "PYTHONPATH": IMAGE_STORE, "PYTHONUNBUFFERED": "1"}
        subprocess.run(["systemctl", "reset-failed", unit_name(name)], capture_output=True)
        command = [
            "systemd-run",
            f"--unit={unit_name(name)}",
            "--collect",
            f"--description=static pod {name}",
            "--property=Restart=always",
            "--property=RestartSec=1",
            "--property=StartLimitIntervalSec=0",
            *(f"--setenv={k}={v}" for k, v in env.items()),
            "--",
            *argv,
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            log.warning("static pod %s: systemd-run failed: %s", name, result.stderr.strip())
        else:
            log.info("static pod %s: started %s (%s)", name, unit_name(name), image)

    def stop(self, name: str) -> None:
        subprocess.run(["systemctl", "stop", unit_name(name)], capture_output=True)
        subprocess.run(["systemctl", "reset-failed", unit_name(name)], capture_output=True)


if __name__ == "__main__":  # for a look from inside a node: python3 -m labkit.static_pods
    print(SystemdRuntime().units(SystemdRuntime().running_pods()), file=sys.stdout)
