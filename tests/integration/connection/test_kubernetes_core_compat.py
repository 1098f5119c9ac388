"""A play's ``module_defaults`` written for kubernetes.core carry over to this collection unchanged.

The same connection dict goes to ``group/kubernetes.core.k8s`` and ``group/cluster_ops.kubeadm.k8s``; both
collections must reach the lab with it and see the same nodes. Each way of connecting kubernetes.core offers
is tried: a kubeconfig file and context, the kubeconfig as a dict, client certificates with host and CA,
only ``K8S_AUTH_*`` environment variables (AWX's credentials), and an HTTP proxy.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from ansible_run import REPO, VENV_BIN, ansible_env

PLAYBOOK = Path(__file__).with_name("same_defaults.yml")


def run_play(tmp_path: Path, auth: dict, env: dict[str, str] | None = None, only: str | None = None) -> dict:
    out = tmp_path / "answers.json"
    extra = json.dumps({"k8s_auth": auth, "out": str(out), **({"only": only} if only else {})})
    done = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", extra],
        env=ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default", **(env or {})}),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def kubeconfig(lab) -> dict:
    return yaml.safe_load(Path(lab.kubeconfig).read_text())


@pytest.fixture(scope="module")
def credentials(lab, kubeconfig, tmp_path_factory) -> dict[str, str]:
    """The admin kubeconfig's server, CA and client certificate as files, for the options that take paths."""
    import base64

    base = tmp_path_factory.mktemp("credentials")
    cluster = kubeconfig["clusters"][0]["cluster"]
    user = kubeconfig["users"][0]["user"]
    files = {
        "ca_cert": cluster["certificate-authority-data"],
        "client_cert": user["client-certificate-data"],
        "client_key": user["client-key-data"],
    }
    paths = {}
    for option, data in files.items():
        path = base / f"{option}.pem"
        path.write_bytes(base64.b64decode(data))
        path.chmod(0o600)
        paths[option] = str(path)
    return {"host": cluster["server"], **paths}


def expect_same_nodes(answers: dict, lab) -> None:
    assert answers["core"] == answers["ours"] == sorted(lab.info["nodes"]), answers


def test_kubeconfig_path_and_context(lab, kubeconfig, tmp_path):
    context = kubeconfig["contexts"][0]["name"]
    expect_same_nodes(run_play(tmp_path, {"kubeconfig": lab.kubeconfig, "context": context}), lab)


def test_kubeconfig_as_a_dict(lab, kubeconfig, tmp_path):
    expect_same_nodes(run_play(tmp_path, {"kubeconfig": kubeconfig}), lab)


def test_host_client_certificate_and_ca(lab, credentials, tmp_path):
    auth = {**credentials, "validate_certs": True}
    expect_same_nodes(run_play(tmp_path, auth, env={"KUBECONFIG": "/nonexistent", "HOME": str(tmp_path)}), lab)


def test_environment_variables_only(lab, credentials, tmp_path):
    env = {
        "K8S_AUTH_HOST": credentials["host"],
        "K8S_AUTH_SSL_CA_CERT": credentials["ca_cert"],
        "K8S_AUTH_CERT_FILE": credentials["client_cert"],
        "K8S_AUTH_KEY_FILE": credentials["client_key"],
        "K8S_AUTH_VERIFY_SSL": "true",
        "KUBECONFIG": "/nonexistent",
        "HOME": str(tmp_path),
    }
    expect_same_nodes(run_play(tmp_path, {}, env=env), lab)


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on loopback that counts the tunnels it opened."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.tunnels: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = client.recv(4096)
                if not chunk:
                    return
                request += chunk
            method, target = request.split(b" ", 2)[:2]
            if method != b"CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                return
            host, port = target.decode().rsplit(":", 1)
            self.tunnels.append(target.decode())
            with socket.create_connection((host, int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self._pipe(client, upstream)

    @staticmethod
    def _pipe(one: socket.socket, two: socket.socket) -> None:
        while True:
            ready, _, _ = select.select([one, two], [], [], 30)
            if not ready:
                return
            for source in ready:
                data = source.recv(65536)
                if not data:
                    return
                (two if source is one else one).sendall(data)

    def close(self) -> None:
        self.server.close()


@pytest.mark.parametrize("side", ["core", "ours"])
def test_proxy(lab, tmp_path, side):
    proxy = ConnectProxy()
    try:
        auth = {"kubeconfig": lab.kubeconfig, "proxy": f"http://127.0.0.1:{proxy.port}"}
        answers = run_play(tmp_path, auth, only=side)
    finally:
        proxy.close()
    assert answers[side] == sorted(lab.info["nodes"]), answers
    server = lab.info["apiserver_url"].split("://", 1)[1]
    assert server in proxy.tunnels, proxy.tunnels  # this collection's requests went through the proxy


def test_an_untrusted_certificate_fails_at_once_naming_the_problem(lab, credentials, tmp_path):
    from ansible_run import run_module

    other_ca = tmp_path / "other-ca.crt"
    other_ca.write_bytes((Path(lab.state_dir) / "pki" / "etcd" / "ca.crt").read_bytes())  # a CA, but not the API's
    args = {"host": credentials["host"], "client_cert": credentials["client_cert"], "ca_cert": str(other_ca)}
    args.update(client_key=credentials["client_key"], node="cp-1", timeout=120)
    started = time.monotonic()
    result = run_module("node_wait", args)
    took = time.monotonic() - started
    assert result["failed"] is True and "certificate was not accepted" in result["msg"], result
    assert took < 60, took  # not the whole 120 s timeout of retries
