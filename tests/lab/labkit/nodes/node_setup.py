"""A node's own system before its first boot: name, addresses, sshd, apt sources, and the Kubernetes packages
installed as kubeadm's install guide does it (key, sources list, ``apt-get install``, ``apt-mark hold``).

The packages are installed by running apt inside the node's root with ``systemd-nspawn`` (not booted), from the
lab's repository over HTTP like any later upgrade. Nodes have no Debian mirror: their ``sources.list`` names only
the lab's OS updates repository, and DNS points nowhere (``/etc/hosts`` knows every name the lab uses).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labkit.nodes.catalog import OS_PACKAGE, OS_PACKAGE_INSTALLED, deb_version, minor_of
from labkit.nodes.repo_server import LEGACY_HOSTS

OS_KEYRING = "/usr/share/keyrings/cluster-ops-lab-os-archive-keyring.gpg"
PKGS_KEYRING = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
LEGACY_KEYRING = "/etc/apt/keyrings/kubernetes-archive-keyring.gpg"


@dataclass
class Node:
    name: str
    ip: str
    version: str
    control_plane: bool
    machine: str  # nspawn's machine name, unique on the host
    uuid: str


def write(root: Path, relative: str, content: str | bytes, mode: int = 0o644) -> Path:
    target = root / relative.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    target.write_bytes(content)
    target.chmod(mode)
    return target


def hosts_file(nodes: list[Node], repo_ip: str) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    lines += [f"{node.ip}\t{node.name}" for node in nodes]
    lines.append(f"{repo_ip}\t{' '.join(LEGACY_HOSTS)}")
    return "\n".join(lines) + "\n"


def write_system(
    root: Path,
    node: Node,
    nodes: list[Node],
    repo_ip: str,
    ssh_public_key: str,
    os_key: bytes,
    settings: dict[str, object],
) -> None:
    write(root, "/etc/hostname", f"{node.name}\n")
    write(root, "/etc/hosts", hosts_file(nodes, repo_ip))
    write(
        root,
        "/etc/resolv.conf",
        f"# no DNS in the lab's nodes: /etc/hosts has every name\nnameserver {repo_ip}\noptions timeout:1 attempts:1\n",
    )
    sshd = (
        f"ListenAddress {node.ip}\nHostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nUseDNS no\n"
    )
    write(root, "/etc/ssh/sshd_config.d/cluster-ops-lab.conf", sshd)
    host_key = root / "etc/ssh/ssh_host_ed25519_key"
    if not host_key.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{node.name}", "-f", str(host_key)], check=True
        )
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    ssh_dir.chmod(0o700)
    write(root, "/root/.ssh/authorized_keys", ssh_public_key, 0o600)
    write(root, OS_KEYRING, os_key)
    write(root, "/etc/apt/sources.list", f"deb [signed-by={OS_KEYRING}] http://{repo_ip}/debian bookworm main\n")
    write(root, "/etc/cluster-ops-lab/settings.json", json.dumps(settings, indent=2) + "\n")


def install_script(node: Node, pkgs_base_url: str, legacy: bool) -> str:
    """The install guide's steps for the node's minor (or the legacy repository's), then hold the packages."""
    version = deb_version(node.version, legacy)
    if legacy:
        repo = (
            f"curl -fsSLo {LEGACY_KEYRING} http://packages.cloud.google.com/apt/doc/apt-key.gpg\n"
            f'echo "deb [signed-by={LEGACY_KEYRING}] http://apt.kubernetes.io/ kubernetes-xenial main" '
            "> /etc/apt/sources.list.d/kubernetes.list\n"
        )
    else:
        minor_url = f"{pkgs_base_url}/v{minor_of(node.version)}/deb/"
        repo = (
            f"curl -fsSL {minor_url}Release.key | gpg --dearmor -o {PKGS_KEYRING}\n"
            f"echo 'deb [signed-by={PKGS_KEYRING}] {minor_url} /' > /etc/apt/sources.list.d/kubernetes.list\n"
        )
    return (
        "set -eu\nexport DEBIAN_FRONTEND=noninteractive\nmkdir -p -m 755 /etc/apt/keyrings\n"
        + repo
        + "apt-get update -q\n"
        + f"apt-get install -y -q kubelet={version} kubeadm={version} kubectl={version} "
        + f"{OS_PACKAGE}={OS_PACKAGE_INSTALLED}\n"
        + "apt-mark hold kubelet kubeadm kubectl\napt-get clean\n"
    )


def install_packages(root: Path, node: Node, pkgs_base_url: str, legacy: bool, log_file: Path) -> None:
    """Run the install script in the node's root (nspawn, not booted, on the host's network)."""
    argv = [
        "systemd-nspawn",
        "--quiet",
        f"--directory={root}",
        "--register=no",
        "--keep-unit",
        f"--machine={node.machine}-setup",
        "--resolv-conf=off",
        "--timezone=off",
        "--pipe",
        "/bin/sh",
        "-c",
        install_script(node, pkgs_base_url, legacy),
    ]
    with open(log_file, "ab") as log:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-12:])
        raise RuntimeError(f"installing the packages on {node.name} failed (exit {result.returncode}):\n{tail}")
    shutil.rmtree(root / "var/lib/apt/lists/partial", ignore_errors=True)
