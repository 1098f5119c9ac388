"""A real etcd and the lab's API server in a temporary directory, for the API server's own tests.

Independent of labctl: no scheduler or kubelets, and of kube-controller-manager only the controllers that
finish deletions (garbage collector, namespace, pod GC), so every other object and status is made by the test.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from labkit import pki
from labkit.apiserver import schema
from labkit.etcd import EtcdClient, etcd_argv
from labkit.net import free_port

LAB_DIR = Path(__file__).resolve().parents[2] / "lab"
TOKEN = "lab-test-token"
CONTROLLERS = "garbage-collector-controller,namespace-controller,pod-garbage-collector-controller"


def _wait(what: str, check, proc: subprocess.Popen, log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready after {timeout}s: {log.read_text()[-2000:]}")


class ApiServer:
    """The running pair, with a small JSON client that uses the admin certificate."""

    def __init__(self, base: Path):
        self.base = base
        self.paths = pki.create_pki(base / "pki", hosts=[])
        self.etcd_port, self.peer_port, self.port = free_port(), free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.etcd_endpoint = f"https://127.0.0.1:{self.etcd_port}"
        self.kubeconfig = pki.write_kubeconfig(base / "admin.conf", self.url, base / "pki")
        self.token_kubeconfig = pki.write_kubeconfig(base / "token.conf", self.url, base / "pki", "tok", token=TOKEN)
        pki.write_token_file(base / "tokens.csv", [(TOKEN, "tok", "1", ["system:masters"])])
        self.config = {
            "port": self.port,
            "tls_cert": str(self.paths["apiserver_crt"]),
            "tls_key": str(self.paths["apiserver_key"]),
            "client_ca": str(self.paths["ca_crt"]),
            "token_file": str(base / "tokens.csv"),
            "etcd_endpoints": [self.etcd_endpoint],
            "etcd_cacert": str(self.paths["etcd_ca_crt"]),
            "etcd_cert": str(self.paths["apiserver_etcd_client_crt"]),
            "etcd_key": str(self.paths["apiserver_etcd_client_key"]),
            "version": "v1.35.2",
            "log_file": str(base / "apiserver.log"),
            "continue_ttl_seconds": 4,
            "watch_cache_size": 200,
            "bookmark_interval_seconds": 0.5,
            "authorization_mode": "Node,RBAC",
            "service_account_key_file": str(self.paths["sa_pub"]),
            "service_account_signing_key_file": str(self.paths["sa_key"]),
        }
        self.etcd = EtcdClient(
            [self.etcd_endpoint],
            self.paths["etcd_ca_crt"],
            self.paths["apiserver_etcd_client_crt"],
            self.paths["apiserver_etcd_client_key"],
        )
        self.ctx = ssl.create_default_context(cafile=str(self.paths["ca_crt"]))
        self.ctx.load_cert_chain(str(self.paths["admin_crt"]), str(self.paths["admin_key"]))
        self._local = threading.local()
        self.etcd_proc: subprocess.Popen | None = None
        self.proc: subprocess.Popen | None = None
        self.controllers: subprocess.Popen | None = None

    def etcdctl(self, *args: str) -> str:
        cmd = ["etcdctl", f"--endpoints={self.etcd_endpoint}", f"--cacert={self.paths['etcd_ca_crt']}"]
        cmd += [f"--cert={self.paths['apiserver_etcd_client_crt']}", f"--key={self.paths['apiserver_etcd_client_key']}"]
        env = dict(os.environ, ETCDCTL_API="3")
        return subprocess.run([*cmd, *args], check=True, capture_output=True, text=True, env=env).stdout

    def start_etcd(self, data_dir: Path | None = None) -> None:
        data_dir = data_dir or self.base / "etcd-data"
        argv = etcd_argv("lab-etcd", data_dir, self.etcd_port, self.peer_port, self.base / "pki")
        log = self.base / "etcd.log"
        self.etcd_proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
        _wait("etcd", lambda: self.etcd.status(), self.etcd_proc, log)

    def start(self, **overrides) -> float:
        """Start the API server; return how long it took to answer /readyz."""
        config = dict(self.config, **overrides)
        path = self.base / "apiserver.json"
        path.write_text(json.dumps(config))
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "labkit.apiserver", "--config", str(path)],
            cwd=LAB_DIR,
            stdout=subprocess.DEVNULL,
            stderr=(self.base / "apiserver.err").open("ab"),
        )
        _wait("apiserver", lambda: self.get("/readyz", raw=True)[0] == 200, self.proc, self.base / "apiserver.err")
        elapsed = time.monotonic() - started
        if self.controllers is None or self.controllers.poll() is not None:
            self.start_controllers()
        return elapsed

    def start_controllers(self) -> None:
        """The deletion controllers, as their own process with the admin credentials (like labctl's)."""
        (self.base / "lab.json").write_text(json.dumps({"time_factor": 0.05}))
        self.controllers = subprocess.Popen(
            [sys.executable, "-m", "labkit.controllers", "--state-dir", str(self.base), "--controllers", CONTROLLERS],
            cwd=LAB_DIR,
            stdout=subprocess.DEVNULL,
            stderr=(self.base / "controllers.log").open("ab"),
        )

    def stop_controllers(self) -> None:
        if self.controllers and self.controllers.poll() is None:
            self.controllers.terminate()
            self.controllers.wait(10)

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(10)
        return None

    def stop_etcd(self) -> None:
        if self.etcd_proc and self.etcd_proc.poll() is None:
            self.etcd_proc.terminate()
            self.etcd_proc.wait(10)

    # --- a tiny client --------------------------------------------------------------------------------------

    def anonymous_context(self) -> ssl.SSLContext:
        """TLS that trusts the server but presents no client certificate (for anonymous or token requests)."""
        return ssl.create_default_context(cafile=str(self.paths["ca_crt"]))

    def connect(self, ctx: ssl.SSLContext | None = None, timeout: float = 30) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx or self.ctx, timeout=timeout)

    def request(self, method: str, path: str, body=None, ctype: str = "application/json", headers=None, raw=False):
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        hdrs = {"Content-Type": ctype, "Accept": "application/json", **(headers or {})}
        for attempt in (1, 2):  # a kept-alive connection may have been closed by the server: retry once
            conn = getattr(self._local, "conn", None) or self.connect()
            self._local.conn = conn
            try:
                conn.request(method, path, data, hdrs)
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        if raw:
            return resp.status, payload
        return resp.status, json.loads(payload) if payload else None

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body, ctype: str = "application/merge-patch+json", **kw):
        return self.request("PATCH", path, body, ctype=ctype, **kw)

    def delete(self, path: str, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def ok(self, method: str, path: str, body=None, **kw) -> dict:
        if method == "PATCH":
            kw.setdefault("ctype", "application/merge-patch+json")
        code, obj = self.request(method, path, body, **kw)
        assert code < 300, f"{method} {path}: {code} {obj}"
        return obj

    # --- object helpers -------------------------------------------------------------------------------------

    def namespace(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        return name

    def node(self, name: str, ready: bool = True, **extra) -> dict:
        body = {
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {
                "conditions": [{"type": "Ready", "status": "True" if ready else "False", "reason": "KubeletReady"}],
                "nodeInfo": {"kubeletVersion": "v1.35.2"},
                "addresses": [{"type": "InternalIP", "address": "127.0.1.9"}],
            },
        }
        body.update(extra)
        return self.ok("POST", "/api/v1/nodes", body)

    def pod(self, ns: str, name: str, node: str | None = None, phase: str = "Running", ready: bool = True, **kw):
        spec = {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}
        if node:
            spec["nodeName"] = node
        spec.update(kw.pop("spec", {}))
        meta = {"name": name, "labels": kw.pop("labels", {"app": "web"})}
        meta.update(kw.pop("metadata", {}))
        status = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
        return self.ok("POST", f"/api/v1/namespaces/{ns}/pods", {"metadata": meta, "spec": spec, "status": status})

    def pdb(self, ns: str, name: str, allowed: int, labels=None, healthy=(3, 2)) -> dict:
        body = {"metadata": {"name": name}, "spec": {"minAvailable": healthy[1],
                "selector": {"matchLabels": labels or {"app": "web"}}}}  # fmt: skip
        pdb = self.ok("POST", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets", body)
        status = {"disruptionsAllowed": allowed, "currentHealthy": healthy[0], "desiredHealthy": healthy[1],
                  "expectedPods": healthy[0], "observedGeneration": pdb["metadata"]["generation"]}  # fmt: skip
        path = f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}/status"
        return self.ok("PATCH", path, {"status": status}, ctype="application/merge-patch+json")


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory):
    schema.load()  # (re)generate the schemas file here, so that the API server's start is not timed with it
    srv = ApiServer(tmp_path_factory.mktemp("apiserver"))
    srv.start_etcd()
    try:
        srv.startup_seconds = srv.start()
        yield srv
    finally:
        srv.stop_controllers()
        srv.stop()
        srv.stop_etcd()


@pytest.fixture
def ns(apiserver) -> str:
    return apiserver.namespace()
