"""A nodes-mode lab as the tests drive it: labctl, SSH to a node, the host's kubectl, apt on a node."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
LABCTL = REPO / "tests" / "lab" / "labctl"
KUBECTL = REPO / ".venv" / "bin" / "kubectl"


@dataclass
class NodesLab:
    state_dir: Path
    info: dict[str, Any] = field(default_factory=dict)
    up_output: str = ""

    @property
    def kubeconfig(self) -> str:
        return str(self.state_dir / "admin.conf")

    def labctl(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """``labctl ARGS --state-dir <this lab>``; raise with its output when it fails and ``check``."""
        result = subprocess.run([str(LABCTL), *args, "--state-dir", str(self.state_dir)], capture_output=True,
                                text=True, timeout=timeout)  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(
                f"labctl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def reload(self) -> dict[str, Any]:
        self.info = json.loads((self.state_dir / "lab.json").read_text())
        return self.info

    @property
    def inventory(self) -> Path:
        return self.state_dir / "hosts.yml"

    def address(self, node: str) -> str:
        return str(self.info["node_ips"][node])

    def ssh(self, node: str, command: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        """``command`` in a root shell on the node, over SSH with the lab's key (as Ansible reaches it)."""
        argv = ["ssh", "-i", str(self.state_dir / "id_ed25519"), "-o", "StrictHostKeyChecking=no", "-o",
                "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o",
                "BatchMode=yes", f"root@{self.address(node)}", command]  # fmt: skip
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise AssertionError(f"on {node}: {command}\nexit {result.returncode}\n{result.stdout}{result.stderr}")
        return result

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(KUBECTL), "--kubeconfig", self.kubeconfig, *args], capture_output=True,
                                text=True, timeout=120)  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result

    def get(self, *args: str) -> dict[str, Any]:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def repo_base(self) -> str:
        return str(self.info["pkgs_repo_base_url"])

    def configure_minor(self, node: str, minor: str) -> None:
        """Point the node at the v<minor> repository the way kubeadm's upgrade guide does (key, sources list)."""
        url = f"{self.repo_base()}/v{minor}/deb/"
        keyring = "/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
        sources = f"deb [signed-by={keyring}] {url} /"
        key = f"curl -fsSL {url}Release.key | gpg --dearmor --yes -o {keyring}"
        self.ssh(node, f"{key} && echo '{sources}' > /etc/apt/sources.list.d/kubernetes.list")

    def use_minor(self, node: str, minor: str) -> None:
        """configure_minor, then ``apt-get update``."""
        self.configure_minor(node, minor)
        self.ssh(node, "apt-get update -q")

    def install(self, node: str, *packages: str) -> subprocess.CompletedProcess:
        """``apt-get install`` pinned packages (``kubeadm=1.36.1-1.1``), released from and put back on hold."""
        names = " ".join(p.split("=")[0] for p in packages)
        return self.ssh(node, f"apt-mark unhold {names} >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install "
                              f"-y -q {' '.join(packages)} && apt-mark hold {names} >/dev/null")  # fmt: skip

    def node_object(self, name: str) -> dict[str, Any]:
        return self.get("node", name)

    def kubelet_version(self, name: str) -> str:
        return str(self.node_object(name)["status"]["nodeInfo"]["kubeletVersion"])

    def health_flags(self) -> str:
        """kubeadm's CreateJob check needs batch/v1 Jobs in the API server; where it has none, that one check is
        ignored (the others still run)."""
        served = self.kubectl("get", "--raw", "/apis/batch/v1", check=False).returncode == 0
        return "" if served else "--ignore-preflight-errors=CreateJob"

    def wait(self, what: str, check: Any, timeout: float = 60, interval: float = 0.5) -> Any:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = check()
            except AssertionError as exc:
                last = exc
            if last and not isinstance(last, AssertionError):
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")

    def node_ready(self, name: str) -> bool:
        conditions = self.node_object(name)["status"].get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
