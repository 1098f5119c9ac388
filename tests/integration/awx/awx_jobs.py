"""Jobs run the way AWX runs them: ansible-runner with a private data directory per job, the collection installed
from its tarball (the execution environment), the playbooks from the project (this repository), the credentials
as environment variables (the bearer token credential's K8S_AUTH_*), the machine credential's SSH key, the awx_*
meta variables, nothing on standard input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner
import yaml

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
sys.path[:0] = [str(REPO / "tests" / "integration" / "nodes")]

from nodes_helpers import NodesLab  # noqa: E402

RBAC = REPO / "awx" / "rbac" / "cluster-ops-kubeadm.yml"
NAMESPACE = "cluster-ops"
# The lab's etcd members listen on their node's address only (a real kubeadm etcd also listens on 127.0.0.1).
LAB_INVENTORY = """plugin: cluster_ops.kubeadm.nodes
compose:
  etcd_backup_endpoints: "['https://' ~ ansible_host ~ ':2379']"
"""


@dataclass
class Job:
    status: str
    rc: int
    events: list[dict[str, Any]]
    artifacts: Path  # <private data dir>/artifacts/<ident>

    @property
    def stats(self) -> dict[str, Any]:
        """The playbook_on_stats event as it was handed to the event handler (AWX's callback receiver)."""
        found = [event for event in self.events if event.get("event") == "playbook_on_stats"]
        assert len(found) == 1, [event.get("event") for event in self.events][-5:]
        return found[0]["event_data"]

    def stats_file(self) -> dict[str, Any]:
        """The same event as ansible-runner wrote it in the artifacts directory."""
        for path in (self.artifacts / "job_events").glob("*.json"):
            event = json.loads(path.read_text())
            if event.get("event") == "playbook_on_stats":
                return event["event_data"]
        raise AssertionError(f"no playbook_on_stats event in {self.artifacts / 'job_events'}")

    def failures(self) -> list[str]:
        """The message of every failed task that was not ignored."""
        return [
            str(event["event_data"]["res"].get("msg"))
            for event in self.events
            if event.get("event") == "runner_on_failed" and not event["event_data"].get("ignore_errors")
        ]

    @property
    def stdout(self) -> str:
        return (self.artifacts / "stdout").read_text()


@dataclass
class Awx:
    """A stand-in for AWX in front of one lab: the execution environment's collections and the credentials."""

    lab: NodesLab
    workdir: Path
    collections: Path = field(init=False)
    jobs: int = 0

    def __post_init__(self) -> None:
        dist = self.workdir / "dist"
        subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(REPO)],
                       check=True, capture_output=True, cwd=self.workdir)  # fmt: skip
        self.collections = self.workdir / "collections"
        tarball = next(dist.glob("cluster_ops-kubeadm-*.tar.gz"))
        subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "-p", str(self.collections),
                        str(tarball)], check=True, capture_output=True, cwd=self.workdir)  # fmt: skip

    def apply_rbac(self, without: tuple[str, str] | None = None, suffix: str = "") -> str:
        """Apply the documented ServiceAccount and roles (renamed with ``suffix``; ``without`` drops one verb on one
        resource from the ClusterRole); a token for the account from the TokenRequest API."""
        account = f"cluster-ops-kubeadm{suffix}"
        objects = []
        for document in yaml.safe_load_all(RBAC.read_text()):
            if document["kind"] != "Namespace":
                document["metadata"]["name"] = document["metadata"]["name"].replace("kubeadm", "kubeadm" + suffix)
            for subject in document.get("subjects", []):
                subject["name"] = account
            if "roleRef" in document:
                document["roleRef"]["name"] += suffix
            if document["kind"] == "ClusterRole" and without:
                for rule in document["rules"]:
                    if without[0] in rule.get("resources", []):
                        rule["verbs"] = [verb for verb in rule["verbs"] if verb != without[1]]
            objects.append(document)
        kubectl = [str(REPO / ".venv" / "bin" / "kubectl"), "--kubeconfig", self.lab.kubeconfig]
        manifests = yaml.safe_dump_all(objects)
        done = subprocess.run([*kubectl, "apply", "-f", "-"], input=manifests, text=True, capture_output=True)
        assert done.returncode == 0, done.stderr
        return self.lab.kubectl("create", "token", account, "-n", NAMESPACE, "--duration=2h").stdout.strip()

    def credential_env(self, token: str, private_data_dir: Path) -> dict[str, str]:
        """What AWX's OpenShift or Kubernetes API Bearer Token credential injects (its CA as a file of the job)."""
        ca = private_data_dir / "env" / "k8s_ca.crt"
        shutil.copy(self.lab.state_dir / "pki" / "ca.crt", ca)
        return {
            "K8S_AUTH_HOST": str(self.lab.info["apiserver_url"]),
            "K8S_AUTH_API_KEY": token,
            "K8S_AUTH_VERIFY_SSL": "True",
            "K8S_AUTH_SSL_CA_CERT": str(ca),
        }

    def inventory(self, directory: Path) -> None:
        """The inventory a job gets: the nodes from the inventory plugin, the lab's connection and group variables."""
        lab_vars = yaml.safe_load(self.lab.inventory.read_text())["all"]["vars"]
        variables = {
            k: v for k, v in lab_vars.items() if not k.startswith("lab_") and k != "ansible_ssh_private_key_file"
        }
        # the machine credential's key is in ssh-agent: no IdentitiesOnly
        variables["ansible_ssh_common_args"] = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
        (directory / "group_vars").mkdir(parents=True)
        (directory / "lab.nodes.yml").write_text(LAB_INVENTORY)
        (directory / "group_vars" / "all.yml").write_text(yaml.safe_dump(variables))

    def job(
        self, playbook: str, extravars: dict[str, Any], token: str, cmdline: str | None = None, name: str = "job"
    ) -> Job:
        """Launch ``playbooks/<playbook>.yml`` as a job template would."""
        self.jobs += 1
        job_id = 4200 + self.jobs
        private_data_dir = self.workdir / f"job-{job_id}-{name}"
        (private_data_dir / "env").mkdir(parents=True)
        self.inventory(private_data_dir / "inventory")
        meta = {
            "awx_job_id": job_id, "tower_job_id": job_id, "awx_job_launch_type": "workflow",
            "awx_job_template_id": 7, "tower_job_template_id": 7,
            "awx_job_template_name": f"cluster_ops.kubeadm {playbook}",
            "tower_job_template_name": f"cluster_ops.kubeadm {playbook}",
            "awx_user_id": 3, "tower_user_id": 3, "awx_user_name": "platform-ops", "tower_user_name": "platform-ops",
            "awx_inventory_id": 2, "awx_inventory_name": "Kubernetes nodes", "awx_project_revision": "0" * 40,
            "awx_execution_node": "awx-task-0", "awx_host": "https://awx.example.com",
        }  # fmt: skip
        (private_data_dir / "env" / "extravars").write_text(json.dumps({**meta, **extravars}))
        env = {
            **self.credential_env(token, private_data_dir),
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections),  # the execution environment's
            "PYTHONPATH": "",  # not the development tree
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "ANSIBLE_PIPELINING": "True",
        }
        (private_data_dir / "env" / "envvars").write_text(json.dumps(env))
        (private_data_dir / "env" / "ssh_key").write_text((self.lab.state_dir / "id_ed25519").read_text())
        (private_data_dir / "env" / "settings").write_text(json.dumps({"idle_timeout": 600, "job_timeout": 1800}))
        if cmdline:
            (private_data_dir / "env" / "cmdline").write_text(cmdline)
        events: list[dict[str, Any]] = []

        def keep(event: dict[str, Any]) -> bool:  # AWX's callback receiver: every event, in order
            events.append(event)
            return True

        ident = f"{job_id}"
        runner = ansible_runner.run(
            private_data_dir=str(private_data_dir),
            project_dir=str(REPO),
            playbook=f"playbooks/{playbook}.yml",
            ident=ident,
            quiet=True,
            event_handler=keep,
        )
        return Job(str(runner.status), int(runner.rc), events, private_data_dir / "artifacts" / ident)
