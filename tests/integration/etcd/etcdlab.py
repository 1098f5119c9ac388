"""Real etcd clusters for the tests and the benchmark: kubeadm-like PKI, members on loopback, keys in bulk.

Only 127.0.0.1; ports are picked free. Used by conftest.py and bench/bench_etcd_snapshot.py.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from labkit import pki
from labkit.net import free_ports

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


def make_pki(directory: Path) -> Path:
    """The lab's kubeadm-style PKI under ``directory``; returns its etcd part (ca, server, peer,
    healthcheck-client), which is what these clusters use."""
    return pki.create_pki(directory)["etcd_ca_crt"].parent


@dataclass
class Member:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    scheme: str = "https"

    @property
    def client_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.peer_port}"


@dataclass
class Cluster:
    """n etcd members on loopback, TLS like kubeadm (or plain http with ``pki=None``)."""

    base: Path
    size: int = 1
    pki: Path | None = None
    token: str = "etcd-cluster"
    extra_flags: list[str] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ports = free_ports(2 * self.size)
        scheme = "https" if self.pki else "http"
        self.members = [
            Member(f"m{i + 1}", ports[2 * i], ports[2 * i + 1], self.base / f"m{i + 1}.etcd", scheme)
            for i in range(self.size)
        ]

    @property
    def initial_cluster(self) -> str:
        return ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def endpoints(self) -> list[str]:
        return [m.client_url for m in self.members]

    def tls(self) -> dict[str, str]:
        if not self.pki:
            return {}
        return {
            "cacert": str(self.pki / "ca.crt"),
            "cert": str(self.pki / "healthcheck-client.crt"),
            "key": str(self.pki / "healthcheck-client.key"),
        }

    def command(self, member: Member, data_dir: Path | None = None, state: str = "new") -> list[str]:
        """The member's etcd command line, shaped like kubeadm's static pod manifest."""
        command = [
            ETCD,
            f"--name={member.name}",
            f"--data-dir={data_dir or member.data_dir}",
            f"--listen-client-urls={member.client_url}",
            f"--advertise-client-urls={member.client_url}",
            f"--listen-peer-urls={member.peer_url}",
            f"--initial-advertise-peer-urls={member.peer_url}",
            f"--initial-cluster={self.initial_cluster}",
            f"--initial-cluster-state={state}",
            f"--initial-cluster-token={self.token}",
            "--snapshot-count=10000",
            "--max-txn-ops=10000",
            "--log-level=warn",
            "--logger=zap",
            *self.extra_flags,
        ]
        if self.pki:
            command += [
                f"--cert-file={self.pki / 'server.crt'}",
                f"--key-file={self.pki / 'server.key'}",
                f"--trusted-ca-file={self.pki / 'ca.crt'}",
                "--client-cert-auth=true",
                f"--peer-cert-file={self.pki / 'peer.crt'}",
                f"--peer-key-file={self.pki / 'peer.key'}",
                f"--peer-trusted-ca-file={self.pki / 'ca.crt'}",
                "--peer-client-cert-auth=true",
            ]
        return command

    def start(self, timeout: float = 30) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        for member in self.members:
            log = open(self.base / f"{member.name}.log", "ab")  # noqa: SIM115 - lives as long as the process
            self.procs[member.name] = subprocess.Popen(
                self.command(member), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            log.close()
        self.wait_healthy(timeout)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def wipe(self) -> None:
        """Stop and delete every member's data."""
        self.stop()
        for member in self.members:
            shutil.rmtree(member.data_dir, ignore_errors=True)

    def etcdctl(self, *args: str, endpoints: list[str] | None = None, stdin: str | None = None, timeout=60):
        tls = [f"--{flag}={path}" for flag, path in self.tls().items()]
        command = [ETCDCTL, f"--endpoints={','.join(endpoints or self.endpoints)}", *tls, *args]
        return subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=dict(os.environ, ETCDCTL_API="3"),
        )

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            proc = self.etcdctl("endpoint", "health", "--command-timeout=2s", timeout=10)
            if proc.returncode == 0:
                return
            for name, member_proc in self.procs.items():
                if member_proc.poll() is not None:
                    log = (self.base / f"{name}.log").read_text()[-2000:]
                    raise RuntimeError(f"etcd {name} exited {member_proc.returncode}:\n{log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"etcd not healthy after {timeout}s: {proc.stderr[-500:]}")
            time.sleep(0.2)

    def put_many(self, items: dict[str, str], batch: int = 2500) -> None:
        """Write many keys fast: transactions of ``batch`` puts (the members allow 10,000 ops a txn)."""
        keys = list(items)
        for start in range(0, len(keys), batch):
            puts = "\n".join(f"put {key} {items[key]}" for key in keys[start : start + batch])
            proc = self.etcdctl("txn", stdin=f"\n{puts}\n\n\n")
            if proc.returncode != 0 or "SUCCESS" not in proc.stdout:
                raise RuntimeError(f"txn failed: {proc.stderr[-500:]}")

    def get_prefix(self, prefix: str) -> dict[str, str]:
        return self.get_prefix_from(None, prefix)

    def get_prefix_from(self, member: Member | None, prefix: str) -> dict[str, str]:
        """Every key under ``prefix`` and its value, read from ``member`` (serializable: its own copy)."""
        endpoints = [member.client_url] if member else None
        consistency = ["--consistency=s"] if member else []
        proc = self.etcdctl("get", prefix, "--prefix", "--write-out=json", *consistency, endpoints=endpoints)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        kvs = json.loads(proc.stdout).get("kvs", [])
        return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode() for kv in kvs}
