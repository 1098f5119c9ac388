"""Run the collection's playbooks against a nodes lab the way users do, and read what they did."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "integration" / "nodes"), str(REPO / "tests" / "lab")]

from ansible_run import ansible_env  # noqa: E402
from nodes_helpers import NodesLab  # noqa: E402

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


@dataclass
class Run:
    returncode: int
    output: str

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP per host: ok, changed, unreachable, failed."""
        return {
            host: {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable), "failed": int(failed)}
            for host, ok, changed, unreachable, failed in RECAP.findall(self.output)
        }

    @property
    def changed(self) -> int:
        return sum(host["changed"] for host in self.recap.values())

    def failures(self) -> list[str]:
        """The ``msg`` of every failed task (the lines ``fatal: [...]: FAILED! => {...}``)."""
        found = []
        for line in self.output.splitlines():
            if "FAILED! =>" in line:
                try:
                    found.append(json.loads(line.split("FAILED! =>", 1)[1]).get("msg", ""))
                except ValueError:
                    found.append(line)
        return found


def playbook(
    lab: NodesLab,
    name: str,
    extra: dict[str, Any] | None = None,
    check: bool = False,
    timeout: float = 1500,
    env: dict[str, str] | None = None,
) -> Run:
    """``ansible-playbook -i <lab>/hosts.yml playbooks/<name>.yml -e <extra>`` with the collection built from here;
    ``env`` adds to the environment (a callback to enable, say)."""
    command = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(lab.inventory)]
    command += [str(REPO / "playbooks" / f"{name}.yml"), "-e", json.dumps(extra or {})]
    if check:
        command.append("--check")
    environment = ansible_env(
        {"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    )
    environment.pop("KUBECONFIG", None)  # the playbooks find their way to the API themselves
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )
    return Run(done.returncode, done.stdout + done.stderr)


def versions(lab: NodesLab) -> dict[str, Any]:
    """What the cluster runs: kubelets, control-plane images, kubeadm-config's version, the addons' images."""
    nodes = lab.get("nodes")["items"]
    pods = lab.get("pods", "-n", "kube-system")["items"]
    config = lab.get("configmap", "-n", "kube-system", "kubeadm-config")["data"]["ClusterConfiguration"]
    return {
        "kubelet": {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes},
        "static_pods": sorted(
            p["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
            for p in pods
            if (p["metadata"].get("labels") or {}).get("component") in ("kube-apiserver", "kube-controller-manager")
        ),
        "kubeadm_config": re.search(r"kubernetesVersion: (\S+)", config).group(1),  # type: ignore[union-attr]
        "kube_proxy": lab.get("daemonset", "-n", "kube-system", "kube-proxy")["spec"]["template"]["spec"]["containers"][
            0
        ]["image"],
        "unschedulable": {n["metadata"]["name"]: bool(n["spec"].get("unschedulable")) for n in nodes},
    }
