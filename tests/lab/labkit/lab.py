"""The lab as labctl drives it: ports, certificates, lab.json, and each component as its own process."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from labkit import component, pki
from labkit.etcd import etcd_argv
from labkit.kubeclient import ApiError, KubeClient, path
from labkit.net import free_port, port_free
from labkit.supervisor import Supervisor

LAB_ROOT = Path(__file__).resolve().parents[1]  # tests/lab: the import root of labkit
BASE_COMPONENTS = ["etcd", "apiserver", "controllers", "scheduler"]


class LabError(Exception):
    pass


def node_names(count: int) -> list[str]:
    return ["cp-1", *(f"worker-{i}" for i in range(1, count))]


def node_ip(index: int) -> str:
    return f"127.0.0.{10 + index}"


class Lab:
    def __init__(self, state_dir: Path):
        self.state_dir = state_dir.resolve()
        self.sup = Supervisor(self.state_dir)
        self.info_file = self.state_dir / "lab.json"
        self.pki_dir = self.state_dir / "pki"
        self.kubeconfig = self.state_dir / "admin.conf"

    # -- settings ------------------------------------------------------------------------------------------

    @property
    def info(self) -> dict[str, Any]:
        if not self.info_file.exists():
            raise LabError(f"no lab in {self.state_dir} (run: labctl up)")
        return json.loads(self.info_file.read_text())

    def save(self, info: dict[str, Any]) -> None:
        tmp = self.info_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2) + "\n")
        tmp.replace(self.info_file)

    def client(self, timeout: float = 10) -> KubeClient:
        return KubeClient.from_kubeconfig(str(self.kubeconfig), timeout=timeout)

    # -- components ------------------------------------------------------------------------------------------

    def argv(self, name: str, info: dict[str, Any]) -> list[str]:
        py = [sys.executable, "-m"]
        state = ["--state-dir", str(self.state_dir)]
        if name == "etcd":
            return etcd_argv(
                info["nodes"][0],
                Path(info["etcd_data_dir"]),
                info["ports"]["etcd_client"],
                info["ports"]["etcd_peer"],
                self.pki_dir,
            )
        if name == "apiserver":
            return [*py, "labkit.apiserver", "--config", str(self.state_dir / "apiserver.json")]
        if name in ("controllers", "scheduler"):
            return [*py, f"labkit.{name}", *state]
        if name == "kubelet-fleet":
            return [*py, "labkit.kubelet", *state, "--fleet"]
        if name.startswith("kubelet-"):
            node = name[len("kubelet-") :]
            if node not in info["nodes"]:
                raise LabError(f"unknown component {name!r}: the nodes are {', '.join(info['nodes'])}")
            index = info["nodes"].index(node)
            argv = [*py, "labkit.kubelet", *state, "--node", node, "--ip", node_ip(index), "--index", str(index)]
            argv += ["--manifests", str(self.state_dir / "nodes" / node / "manifests")]
            if info.get("kubelet_versions", {}).get(node):
                argv += ["--version", info["kubelet_versions"][node]]
            return argv + (["--control-plane"] if node.startswith("cp-") else [])
        raise LabError(f"unknown component {name!r}: use etcd, apiserver, controllers, scheduler, kubelet-<node>")

    def start(self, name: str, info: dict[str, Any] | None = None) -> int:
        info = info or self.info
        argv = self.argv(name, info)
        env = {"PYTHONPATH": str(LAB_ROOT), "PYTHONUNBUFFERED": "1"}
        pid = self.sup.start(name, argv, env=env, cwd=str(self.state_dir))
        info.setdefault("pids", {})[name] = pid
        self.save(info)
        return pid

    def stop(self, name: str) -> bool:
        stopped = self.sup.stop(name)
        info = self.info
        info.get("pids", {}).pop(name, None)
        self.save(info)
        return stopped

    def components(self, info: dict[str, Any]) -> list[str]:
        return [*BASE_COMPONENTS, *(f"kubelet-{n}" for n in info["nodes"])]

    # -- up / down ---------------------------------------------------------------------------------------------

    def up(self, nodes: int, version: str, pod_ready_delay: float, time_factor: float, timeout: float = 60) -> dict:
        if nodes < 1:
            raise LabError(f"--nodes must be at least 1, got {nodes}")
        if self.info_file.exists() and any(self.sup.pid(n) for n in self.sup.names()):
            raise LabError(f"a lab is already running in {self.state_dir} (labctl down first)")
        started = time.monotonic()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        names = node_names(nodes)
        paths = pki.create_pki(self.pki_dir, hosts=[node_ip(i) for i in range(nodes)])
        ports = {"etcd_client": free_port(), "etcd_peer": free_port(), "apiserver": free_port()}
        if self.info_file.exists():  # a lab brought up here before keeps its data and, when free, its ports
            old = self.info.get("ports", {})
            ports.update({k: v for k, v in old.items() if k in ports and port_free(v)})
        info: dict[str, Any] = {
            "mode": "host",
            "state_dir": str(self.state_dir),
            "version": version.lstrip("v"),
            "nodes": names,
            "node_ips": {n: node_ip(i) for i, n in enumerate(names)},
            "control_plane_nodes": [n for n in names if n.startswith("cp-")],
            "pod_ready_delay": pod_ready_delay,
            "time_factor": time_factor,
            "ports": ports,
            "apiserver_url": f"https://127.0.0.1:{ports['apiserver']}",
            "kubeconfig": str(self.kubeconfig),
            "etcd_endpoints": [f"https://127.0.0.1:{ports['etcd_client']}"],
            "etcd_cacert": str(paths["etcd_ca_crt"]),
            "etcd_cert": str(paths["etcd_healthcheck_client_crt"]),
            "etcd_key": str(paths["etcd_healthcheck_client_key"]),
            "etcd_data_dir": str(self.state_dir / "etcd"),
            "pki_dir": str(self.pki_dir),
            "pids": {},
        }
        self.save(info)
        pki.write_kubeconfig(self.kubeconfig, info["apiserver_url"], self.pki_dir)
        self.write_component_kubeconfigs(info)
        self.write_apiserver_config(info, paths)
        for node in names:
            (self.state_dir / "nodes" / node / "manifests").mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        self.start("etcd", info)
        self.start("apiserver", info)
        self.wait_apiserver(deadline)
        self.ensure_system_namespaces()
        for name in self.components(info)[2:]:
            self.start(name, info)
        self.wait_nodes_ready(names, deadline)
        dead = [n for n in self.components(info) if not self.sup.pid(n)]
        if dead:
            raise self.failure(f"components exited: {', '.join(dead)}", dead)
        info["up_seconds"] = round(time.monotonic() - started, 2)
        self.save(info)
        return info

    def write_component_kubeconfigs(self, info: dict[str, Any]) -> None:
        """Each component its own identity, as kubeadm writes controller-manager.conf, scheduler.conf and
        the kubelets' kubelet.conf (the components read ``<state dir>/<component>.conf``)."""
        identities = {
            "controller-manager": ("system:kube-controller-manager", None),
            "scheduler": ("system:kube-scheduler", None),
            **{f"kubelet-{n}": (f"system:node:{n}", "system:nodes") for n in info["nodes"]},
        }
        for name, (user, group) in identities.items():
            cert, key = pki.client_cert(self.pki_dir, name, user, group)
            pki.write_kubeconfig(self.state_dir / f"{name}.conf", info["apiserver_url"], self.pki_dir,
                                 user=user, cert=cert, key=key)  # fmt: skip

    def ensure_system_namespaces(self) -> None:
        """The namespaces a real API server creates at start (idempotent)."""
        client = self.client()
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            for attempt in range(20):
                try:
                    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                    client.create(path("namespaces"), body)
                    break
                except ApiError as exc:
                    if exc.status == 409:
                        break
                    if exc.status < 500 or attempt == 19:
                        raise LabError(f"creating namespace {name}: {exc}") from exc
                    time.sleep(0.25)  # the API server is still catching up with etcd

    def write_apiserver_config(self, info: dict[str, Any], paths: dict[str, Path]) -> None:
        config = {
            "bind_address": "127.0.0.1",
            "port": info["ports"]["apiserver"],
            "version": info["version"],
            "tls_cert": str(paths["apiserver_crt"]),
            "tls_key": str(paths["apiserver_key"]),
            "client_ca": str(paths["ca_crt"]),
            "etcd_endpoints": info["etcd_endpoints"],
            "etcd_cacert": str(paths["etcd_ca_crt"]),
            "etcd_cert": str(paths["apiserver_etcd_client_crt"]),
            "etcd_key": str(paths["apiserver_etcd_client_key"]),
            "time_factor": info["time_factor"],
            # kube-apiserver's flags as kubeadm sets them (keys: the flag names with underscores)
            "authorization_mode": "Node,RBAC",
            "service_account_key_file": str(paths["sa_pub"]),
            "service_account_signing_key_file": str(paths["sa_key"]),
            "service_account_issuer": "https://kubernetes.default.svc.cluster.local",
        }
        (self.state_dir / "apiserver.json").write_text(json.dumps(config, indent=2) + "\n")

    def failure(self, what: str, suspects: list[str]) -> LabError:
        dead = [n for n in suspects if not self.sup.pid(n)]
        shown = dead or suspects
        tails = "\n".join(
            f"--- {n} ({'exited' if n in dead else 'running'}), {self.sup.log_file(n)}:\n{self.sup.log_tail(n)}"
            for n in shown
        )
        return LabError(f"{what}\n{tails}")

    def wait_apiserver(self, deadline: float) -> None:
        client = self.client(timeout=2)
        while time.monotonic() < deadline:
            if not self.sup.pid("apiserver") or not self.sup.pid("etcd"):
                break
            try:
                client.get("/readyz")
                return
            except (OSError, ApiError, ValueError):
                time.sleep(0.1)
        raise self.failure("the API server did not become ready", ["etcd", "apiserver"])

    def wait_nodes_ready(self, names: list[str], deadline: float) -> None:
        client = self.client(timeout=5)
        missing = names
        while time.monotonic() < deadline:
            try:
                nodes = {n["metadata"]["name"]: n for n in client.get(path("nodes")).get("items", [])}
            except (OSError, ApiError):
                nodes = {}
            missing = [n for n in names if n not in nodes or not component.is_node_ready(nodes[n])]
            dead = [n for n in ["etcd", "apiserver", *(f"kubelet-{m}" for m in missing)] if not self.sup.pid(n)]
            if not missing or dead:
                break
            time.sleep(0.1)
        if missing:
            raise self.failure(
                f"nodes not Ready: {', '.join(missing)}",
                [f"kubelet-{n}" for n in missing] + ["apiserver", "controllers"],
            )

    def wait_registered(self, node: str, version: str, since: float, deadline: float) -> None:
        """Wait until a (re)started kubelet has posted its node status: Ready, a heartbeat after ``since`` and
        its own version (heartbeats have one-second resolution: the previous kubelet's can look fresh)."""
        client = self.client(timeout=5)
        while time.monotonic() < deadline and self.sup.pid(f"kubelet-{node}"):
            try:
                obj = client.get(path("nodes", name=node))
            except (OSError, ApiError):
                obj = {}
            ready = component.condition(obj, "Ready") or {}
            reported = ((obj.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")
            fresh = component.parse_time(ready.get("lastHeartbeatTime")) >= int(since)
            if ready.get("status") == "True" and fresh and reported == f"v{version.lstrip('v')}":
                return
            time.sleep(0.1)
        raise self.failure(f"kubelet-{node} did not register its node", [f"kubelet-{node}", "apiserver"])

    def down(self) -> list[str]:
        """Stop every component (kubelets first, etcd last) and anything else started for this state dir."""
        names = self.sup.names()
        order = sorted(names, key=lambda n: (n in ("etcd", "apiserver"), n == "etcd", n))
        stopped = [n for n in order if self.sup.stop(n)]
        for pid in stray_pids(self.state_dir):
            os.kill(pid, 9)
            stopped.append(f"stray pid {pid}")
        if self.info_file.exists():
            info = self.info
            info["pids"] = {}
            self.save(info)
        return stopped

    # -- status ------------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        info = self.info
        names = list(dict.fromkeys([*self.components(info), *self.sup.names()]))
        result: dict[str, Any] = {
            "state_dir": str(self.state_dir),
            "apiserver_url": info["apiserver_url"],
            "components": {n: {"pid": self.sup.pid(n), "running": bool(self.sup.pid(n))} for n in names},
            "nodes": {},
        }
        if self.sup.pid("apiserver"):
            try:
                for node in self.client(timeout=30).list_all(path("nodes"))[0]:
                    ready = (component.condition(node, "Ready") or {}).get("status", "Unknown")
                    annotations = node["metadata"].get("annotations") or {}
                    result["nodes"][node["metadata"]["name"]] = {
                        "ready": ready,
                        "unschedulable": bool(node.get("spec", {}).get("unschedulable")),
                        "version": node.get("status", {}).get("nodeInfo", {}).get("kubeletVersion"),
                        "fleet": annotations.get(component.FLEET_ANNOTATION) == "true",
                    }
            except (OSError, ApiError) as exc:
                result["error"] = str(exc)
        return result


def stray_pids(state_dir: Path) -> list[int]:
    """Lab components (labkit modules, etcd) whose command line names this state dir but whose pid file was
    lost."""
    needle = str(state_dir).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ours = b"labkit." in cmdline or os.path.basename(cmdline.split(b"\0")[0]) == b"etcd"
        if needle in cmdline and ours:
            found.append(int(entry.name))
    return found
