"""The node image: a Debian 12 root filesystem made by debootstrap, built once and cached outside the repository.

The cache directory is keyed by the recipe (suite, packages, the configuration script), so a changed recipe builds
a new image next to the old one. Builds take a lock, so two labs coming up at once build it once.

``python -m labkit.nodes.rootfs`` builds (or finds) it and prints its path.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CACHE_DIR = Path(os.environ.get("LAB_CACHE_DIR", "/var/cache/cluster-ops-lab"))
MIRROR = os.environ.get("LAB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
PACKAGES = [
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "python3-apt",  # Ansible's apt module needs it, and a node has no Debian mirror to install it from
    "python3-yaml",
    "python3-cryptography",
    "python3-cffi-backend",  # debootstrap does not resolve the virtual package python3-cryptography needs
    "gnupg",
    "ca-certificates",
    "iproute2",
    "procps",
    "curl",
    "etcd-server",  # the binary of the etcd static pod
]
# Packages the lab's OS repository offers to the nodes without their being installed (a node has no Debian mirror).
OFFERED = ["etcd-client"]

# Runs inside the new root (chroot) once debootstrap is done.
CONFIGURE = r"""
set -eu
# The lab boots these with systemd-nspawn on the host's network: nothing may manage that network.
systemctl mask systemd-networkd.service systemd-networkd.socket systemd-resolved.service \
  systemd-networkd-wait-online.service >/dev/null 2>&1
# sshd reads /etc/ssh/sshd_config.d (its ListenAddress) only as ssh.service, not socket-activated.
systemctl mask ssh.socket >/dev/null 2>&1
systemctl enable ssh.service >/dev/null 2>&1
# etcd runs as a static pod of the kubelet, never as Debian's service.
systemctl disable etcd.service >/dev/null 2>&1 || true
systemctl mask etcd.service >/dev/null 2>&1
# Nothing runs apt or other maintenance behind the tests' back; no console login on the nspawn console.
systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer \
  console-getty.service getty@tty1.service systemd-timesyncd.service >/dev/null 2>&1
rm -f /etc/ssh/ssh_host_*  # each node gets its own host key
rm -f /etc/apt/sources.list
rm -rf /etc/apt/sources.list.d/* /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
echo lab > /etc/hostname
"""


def recipe() -> dict[str, object]:
    return {"suite": SUITE, "packages": PACKAGES, "offered": OFFERED, "configure": CONFIGURE, "format": 1}


def recipe_key() -> str:
    return hashlib.sha256(json.dumps(recipe(), sort_keys=True).encode()).hexdigest()[:12]


def image_dir() -> Path:
    return CACHE_DIR / f"rootfs-{SUITE}-{recipe_key()}"


def ensure(log=print) -> Path:
    """The cached image (``<dir>/root`` is the tree, ``<dir>/offered`` the .debs offered to the nodes)."""
    target = image_dir()
    if (target / "complete").exists():
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / "rootfs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "complete").exists():
            return target
        log(f"building the node image {target.name} with debootstrap from {MIRROR} (about a minute) ...")
        started = time.monotonic()
        build(target)
        log(f"node image built in {time.monotonic() - started:.0f}s: {target}")
    return target


def build(target: Path) -> None:
    work = target.with_name(target.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    root = work / "root"
    root.mkdir(parents=True)
    run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(root), MIRROR], work)
    offered = work / "offered"
    offered.mkdir()
    (root / "etc/apt/sources.list").write_text(f"deb {MIRROR} {SUITE} main\n")
    run(["chroot", str(root), "apt-get", "update", "-qq"], work)
    run(["chroot", str(root), "sh", "-c", f"cd /tmp && apt-get download -qq {' '.join(OFFERED)}"], work)
    for deb in (root / "tmp").glob("*.deb"):
        shutil.move(str(deb), offered / deb.name)
    run(["chroot", str(root), "sh", "-c", CONFIGURE], work)
    (work / "recipe.json").write_text(json.dumps(recipe(), indent=2) + "\n")
    (work / "complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)


def run(argv: list[str], work: Path) -> None:
    with open(work / "build.log", "ab") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        result = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "LC_ALL": "C"})
    if result.returncode != 0:
        tail = "\n".join((work / "build.log").read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"building the node image failed: {' '.join(argv[:3])} exited {result.returncode}\n{tail}")


if __name__ == "__main__":
    print(ensure(log=lambda line: print(line, file=sys.stderr)))
