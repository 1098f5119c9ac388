"""``labctl up --mode nodes``: kubeadm nodes as systemd-nspawn containers, with the lab's package repository and,
with several control planes, an haproxy load balancer in front of the API servers (see docs/lab.md).

Components under the supervisor, on the host: ``repo`` (the package repository), ``loadbalancer`` (haproxy, only
with several control planes) and ``node-<name>`` (one systemd-nspawn each, booted again after a reboot).
``kubelet-<name>`` is the node's kubelet.service, stopped and started over SSH.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from labkit import component, pki
from labkit.bootstrap import cluster_configuration
from labkit.etcd import EtcdClient, EtcdError
from labkit.kubeclient import ApiError, KubeClient, path
from labkit.lab import LAB_ROOT, Lab, LabError
from labkit.nodes import addresses, catalog, haproxy, inventory, kubeadm_init, node_setup, overlay, repo, rootfs, ssh
from labkit.nodes.node_setup import Node
from labkit.nodes.processes import node_memory_mb, processes_inside, stray_processes
from labkit.nodes.signing import Signer

KUBECTL = LAB_ROOT.parents[1] / ".venv" / "bin" / "kubectl"
NODE_STOP_TIMEOUT = 60.0


def node_names(control_planes: int, workers: int) -> list[str]:
    return [*(f"cp-{i}" for i in range(1, control_planes + 1)), *(f"worker-{i}" for i in range(1, workers + 1))]


class NodesLab(Lab):
    """The nodes-mode lab in a state dir (lab.json ``mode: nodes``)."""

    def __init__(self, state_dir: Path, log: Callable[[str], None] = print):
        super().__init__(state_dir)
        self.log = log
        self.inventory = self.state_dir / "hosts.yml"
        self.ssh_key = self.state_dir / "id_ed25519"
        self.signer = Signer(self.state_dir / "gnupg")

    # -- nodes -----------------------------------------------------------------------------------------------

    def nodes(self, info: dict[str, Any]) -> list[Node]:
        return [
            Node(
                name,
                info["node_ips"][name],
                info["node_versions"][name],
                name.startswith("cp-"),
                f"lab{info['block']}-{name}",
                info["node_uuids"][name],
            )
            for name in info["nodes"]
        ]

    def node(self, info: dict[str, Any], name: str) -> Node:
        for node in self.nodes(info):
            if node.name == name:
                return node
        raise LabError(f"unknown node {name!r}: the nodes are {', '.join(info['nodes'])}")

    def node_dir(self, name: str) -> Path:
        return self.state_dir / "nodes" / name

    def node_root(self, name: str) -> Path:
        return self.node_dir(name) / "root"

    # -- components ------------------------------------------------------------------------------------------

    def components(self, info: dict[str, Any]) -> list[str]:
        names = ["repo", *(["loadbalancer"] if info.get("load_balancer") else [])]
        return names + [f"node-{n}" for n in info["nodes"]]

    def argv(self, name: str, info: dict[str, Any]) -> list[str]:
        if name == "repo":
            return [
                *self.python(),
                "labkit.nodes.repo_server",
                "--root",
                str(self.state_dir / "repo"),
                "--address",
                addresses.repo_address(info["block"]),
            ]
        if name == "loadbalancer" and info.get("load_balancer"):
            return haproxy.argv(self.state_dir / "haproxy.cfg")
        if name.startswith("node-"):
            node = self.node(info, name[len("node-") :])
            binds = [
                f"{KUBECTL.resolve()}:/usr/lib/cluster-ops-lab/kubectl",
                f"{LAB_ROOT}:/usr/lib/cluster-ops-lab/images",
            ]
            return [
                *self.python(),
                "labkit.nodes.boot",
                "--root",
                str(self.node_root(node.name)),
                "--machine",
                node.machine,
                "--hostname",
                node.name,
                "--uuid",
                node.uuid,
                *(f"--bind-ro={b}" for b in binds),
            ]
        known = ", ".join([*self.components(info), *(f"kubelet-{n}" for n in info["nodes"])])
        raise LabError(f"unknown component {name!r}: use {known}")

    def python(self) -> list[str]:
        return [sys.executable, "-m"]

    def start(self, name: str, info: dict[str, Any] | None = None) -> int:
        info = info or self.info
        if name.startswith("node-"):
            overlay.mount(Path(info["image"]) / "root", self.node_dir(name[len("node-") :]))
        return super().start(name, info)

    def stop(self, name: str) -> bool:
        return self.stop_many([name])[0]

    def stop_many(self, names: list[str]) -> list[bool]:
        """Stop components at once (a node's clean poweroff takes a few seconds)."""
        with ThreadPoolExecutor(max(1, len(names))) as pool:
            timeouts = [NODE_STOP_TIMEOUT if n.startswith("node-") else 10.0 for n in names]
            results = list(pool.map(lambda nt: self.sup.stop(nt[0], timeout=nt[1]), zip(names, timeouts)))
        if self.info_file.exists():
            info = self.info
            for name in names:
                info.get("pids", {}).pop(name, None)
            self.save(info)
        return results

    def kubelet(self, node: str, action: str) -> str:
        info = self.info
        target = self.node(info, node)
        result = ssh.run(self.ssh_key, target.ip, f"systemctl {action} kubelet")
        if result.returncode != 0:
            raise LabError(f"systemctl {action} kubelet on {node} failed: {result.stderr.strip() or result.stdout}")
        return action

    # -- up --------------------------------------------------------------------------------------------------

    def validate(self, control_planes: int, workers: int, version: str, node_versions: dict[str, str]) -> dict:
        if not 1 <= control_planes <= addresses.MAX_CONTROL_PLANES:
            raise LabError(f"--control-planes must be 1 to {addresses.MAX_CONTROL_PLANES}, got {control_planes}")
        if not 0 <= workers <= addresses.MAX_WORKERS:
            raise LabError(f"--workers must be 0 to {addresses.MAX_WORKERS}, got {workers}")
        try:
            cluster_version = catalog.check_version(version)
            names = node_names(control_planes, workers)
            versions = {n: cluster_version for n in names}
            for name, wanted in node_versions.items():
                if name not in versions:
                    raise ValueError(f"--node-version {name}={wanted}: no node {name!r} (nodes: {', '.join(names)})")
                versions[name] = catalog.check_version(wanted, f"--node-version {name}")
        except ValueError as exc:
            raise LabError(str(exc)) from None
        return versions

    def up_nodes(
        self,
        control_planes: int,
        workers: int,
        version: str,
        node_versions: dict[str, str],
        legacy: bool,
        pod_ready_delay: float,
        time_factor: float,
        timeout: float = 300,
    ) -> dict:
        versions = self.validate(control_planes, workers, version, node_versions)
        if self.info_file.exists() and any(self.sup.pid(n) for n in self.sup.names()):
            raise LabError(f"a lab is already running in {self.state_dir} (labctl down first)")
        started = time.monotonic()
        deadline = started + timeout
        self.state_dir.mkdir(parents=True, exist_ok=True)
        block = addresses.take_block(self.state_dir)
        names = list(versions)
        control_plane_nodes = [n for n in names if n.startswith("cp-")]
        lb = addresses.load_balancer_address(block) if control_planes > 1 else None
        ips = {n: addresses.node_address(block, n) for n in names}
        endpoint = f"https://{lb or ips['cp-1']}:6443"
        old = self.info if self.info_file.exists() else {}
        info: dict[str, Any] = {
            "mode": "nodes",
            "state_dir": str(self.state_dir),
            "block": block,
            "version": catalog.check_version(version),
            "nodes": names,
            "control_plane_nodes": control_plane_nodes,
            "workers": [n for n in names if n.startswith("worker-")],
            "node_ips": ips,
            "node_versions": versions,
            "node_uuids": {n: (old.get("node_uuids") or {}).get(n) or uuid.uuid4().hex for n in names},
            "legacy_repo": legacy,
            "load_balancer": lb,
            "apiserver_url": endpoint,
            "repo_url": f"http://{addresses.repo_address(block)}",
            "pkgs_repo_base_url": f"http://{addresses.repo_address(block)}/core:/stable:",
            "kubeconfig": str(self.kubeconfig),
            "inventory": str(self.inventory),
            "ssh_key": str(self.ssh_key),
            "pod_ready_delay": pod_ready_delay,
            "time_factor": time_factor,
            "etcd_endpoints": [f"https://{ips[n]}:2379" for n in control_plane_nodes],
            "etcd_cacert": str(self.pki_dir / "etcd" / "ca.crt"),
            "etcd_cert": str(self.pki_dir / "etcd" / "healthcheck-client.crt"),
            "etcd_key": str(self.pki_dir / "etcd" / "healthcheck-client.key"),
            "pids": {},
        }
        self.save(info)
        image = rootfs.ensure(self.log)
        info["image"] = str(image)
        self.save(info)
        self.prepare_host(info, image)
        nodes = self.nodes(info)
        self.wait(f"the package repository at {info['repo_url']}", lambda: self.repo_answers(info), deadline, ["repo"])
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda node: self.prepare_node(info, node, nodes, image), nodes))
        cluster_config = cluster_configuration(info["version"], f"{lb}:6443" if lb else None)
        first = nodes[0]
        kubeadm_init.write_manifests(self.node_root(first.name), first, cluster_config, None, False)
        shutil.copy2(self.node_root(first.name) / "etc/kubernetes/admin.conf", self.kubeconfig)
        if lb:
            servers = {n.name: n.ip for n in nodes if n.control_plane}
            (self.state_dir / "haproxy.cfg").write_text(haproxy.config(lb, servers))
            self.start("loadbalancer", info)
        for node in nodes:
            self.start(f"node-{node.name}", info)
        self.wait_api(f"https://{first.ip}:6443", deadline, [f"node-{first.name}"])
        if lb:
            self.wait_api(endpoint, deadline, ["loadbalancer", f"node-{first.name}"])
        # As kubeadm init: super-admin.conf (system:masters) binds kubeadm:cluster-admins, which admin.conf is in.
        super_admin = KubeClient.from_kubeconfig(str(self.node_root(first.name) / "etc/kubernetes/super-admin.conf"))
        kubeadm_init.bind_cluster_admins(super_admin)
        for node in nodes[1:]:
            if node.control_plane:
                self.join_control_plane(info, node, nodes, cluster_config, deadline)
        client = self.client(timeout=10)
        self.wait("every node Ready", lambda: self.nodes_ready(client, names), deadline, [f"node-{n}" for n in names])
        for name in control_plane_nodes:
            kubeadm_init.mark_control_plane(client, name)
        kubeadm_init.upload_cluster_objects(client, cluster_config, info["version"])
        self.wait(
            "kube-system Ready (control plane mirror pods, CoreDNS, kube-proxy)",
            lambda: self.kube_system_ready(client, info),
            deadline,
            [f"node-{n}" for n in names],
        )
        self.wait(
            "sshd on every node", lambda: all(self.ssh_ok(n) for n in nodes), deadline, [f"node-{n}" for n in names]
        )
        inventory.write(info, self.inventory)
        info["up_seconds"] = round(time.monotonic() - started, 1)
        self.save(info)
        return info

    def prepare_host(self, info: dict[str, Any], image: Path) -> None:
        """SSH key, signing keys, the cluster's CAs, the repository tree, and the repository server."""
        if not self.ssh_key.exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cluster-ops-lab", "-f", str(self.ssh_key)],
                check=True,
            )
        self.signer.ensure_keys()
        pki.create_pki(self.pki_dir)
        offered = sorted((image / "offered").glob("*.deb"))
        repo.build_tree(self.state_dir / "repo", self.signer, offered, self.log)
        self.start("repo", info)

    def prepare_node(self, info: dict[str, Any], node: Node, nodes: list[Node], image: Path) -> None:
        node_dir = self.node_dir(node.name)
        if overlay.mounted(node_dir / "root"):
            raise LabError(f"{node_dir / 'root'} is still mounted (labctl down first)")
        for part in ("upper", "work"):  # a fresh node: nothing of a previous lab in this state dir
            shutil.rmtree(node_dir / part, ignore_errors=True)
        root = overlay.mount(image / "root", node_dir)
        settings = {"time_factor": info["time_factor"], "pod_ready_delay": info["pod_ready_delay"]}
        node_setup.write_system(
            root,
            node,
            nodes,
            addresses.repo_address(info["block"]),
            self.ssh_key.with_suffix(".pub").read_text(),
            self.signer.public_key("os", False),
            settings,
        )
        self.sup.log_dir.mkdir(parents=True, exist_ok=True)
        node_setup.install_packages(
            root, node, info["pkgs_repo_base_url"], info["legacy_repo"], self.sup.log_file(f"setup-{node.name}")
        )
        kubeadm_init.write_node_files(
            self.pki_dir,
            self.state_dir / "pki-nodes" / node.name,
            root,
            node,
            info["apiserver_url"],
            node.name == "cp-1",
            info.get("load_balancer"),
        )

    def join_control_plane(
        self, info: dict[str, Any], node: Node, nodes: list[Node], cluster_config: dict[str, Any], deadline: float
    ) -> None:
        """kubeadm join --control-plane: add the etcd member, then the node's manifests."""
        members = [n for n in nodes if n.control_plane and nodes.index(n) < nodes.index(node)]
        etcd = EtcdClient(
            [f"https://{m.ip}:2379" for m in members], info["etcd_cacert"], info["etcd_cert"], info["etcd_key"]
        )
        while True:  # like kubeadm, retry while etcd refuses (it wants 5 s of full connectivity after a join)
            try:
                etcd.call("/v3/cluster/member/add", {"peerURLs": [f"https://{node.ip}:2380"]})
                break
            except (EtcdError, OSError) as exc:
                if time.monotonic() > deadline:
                    raise self.failure(
                        f"adding the etcd member of {node.name}: {exc}", [f"node-{members[0].name}"]
                    ) from None
                time.sleep(1.0)
        initial = ",".join(f"{m.name}=https://{m.ip}:2380" for m in [*members, node])
        kubeadm_init.write_manifests(self.node_root(node.name), node, cluster_config, initial, True)
        self.wait_api(f"https://{node.ip}:6443", deadline, [f"node-{node.name}"])

    # -- waits -----------------------------------------------------------------------------------------------

    def wait(self, what: str, check: Callable[[], bool], deadline: float, suspects: list[str]) -> None:
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (OSError, ApiError, ValueError):
                pass
            dead = [s for s in suspects if not self.sup.pid(s)]
            if dead:
                raise self.failure(f"waiting for {what}: {', '.join(dead)} exited", dead)
            time.sleep(0.25)
        raise self.failure(f"timed out waiting for {what}", suspects)

    def wait_api(self, url: str, deadline: float, suspects: list[str]) -> None:
        def ready() -> bool:
            client = KubeClient.from_kubeconfig(str(self.kubeconfig), timeout=3)
            client.host, port = url.split("://", 1)[1].rsplit(":", 1)  # this API server, not the load balancer
            client.port = int(port)
            client.get("/readyz")
            return True

        self.wait(f"the API server at {url}", ready, deadline, suspects)

    def wait_node_back(self, info: dict[str, Any], name: str, since: float, deadline: float) -> None:
        """After a node or its kubelet started: the node Ready again with a heartbeat newer than ``since``."""

        def back() -> bool:
            node = self.client(timeout=5).get(path("nodes", name=name))
            ready = component.condition(node, "Ready") or {}
            return ready.get("status") == "True" and component.parse_time(ready.get("lastHeartbeatTime")) >= int(since)

        self.wait(f"node {name} Ready again", back, deadline, [f"node-{name}"])

    def repo_answers(self, info: dict[str, Any]) -> bool:
        minor = catalog.minor_of(info["version"])
        with urllib.request.urlopen(f"{info['pkgs_repo_base_url']}/v{minor}/deb/Release.key", timeout=2) as answer:
            return bool(answer.status == 200)

    def nodes_ready(self, client: KubeClient, names: list[str]) -> bool:
        found = {n["metadata"]["name"]: n for n in client.get(path("nodes")).get("items", [])}
        return all(name in found and component.is_node_ready(found[name]) for name in names)

    def kube_system_ready(self, client: KubeClient, info: dict[str, Any]) -> bool:
        pods = client.get(path("pods", "kube-system"))["items"]
        ready = {p["metadata"]["name"] for p in pods if component.is_pod_ready(p)}
        mirrors = [
            f"{c}-{n}"
            for n in info["control_plane_nodes"]
            for c in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
        ]
        coredns = client.get(path("deployments", "kube-system", "coredns")).get("status", {})
        proxy = client.get(path("daemonsets", "kube-system", "kube-proxy")).get("status", {})
        return (
            all(m in ready for m in mirrors)
            and coredns.get("availableReplicas", 0) >= 2
            and proxy.get("numberReady", 0) == len(info["nodes"])
        )

    def ssh_ok(self, node: Node) -> bool:
        return ssh.run(self.ssh_key, node.ip, "true", timeout=10).returncode == 0

    def failure(self, what: str, suspects: list[str]) -> LabError:
        """The failure with the log tail of what failed (a node's: its boot log and its journal's kubelet lines)."""
        error = super().failure(what, suspects)
        extra = []
        for name in suspects:
            if name.startswith("node-"):
                node = name[len("node-") :]
                root = self.node_root(node)
                result = subprocess.run(
                    [
                        "journalctl",
                        "--directory",
                        str(root / "var/log/journal"),
                        "-n",
                        "15",
                        "--no-pager",
                        "-u",
                        "kubelet",
                        "-u",
                        "kubepod-*",
                    ],
                    capture_output=True,
                    text=True,
                )
                if result.stdout.strip():
                    extra.append(f"--- {node}: journal (kubelet, static pods):\n{result.stdout.strip()}")
        return LabError("\n".join([str(error), *extra]))

    # -- down ------------------------------------------------------------------------------------------------

    def down(self) -> list[str]:
        info = self.info if self.info_file.exists() else {}
        names = self.sup.names()
        nodes = [n for n in names if n.startswith("node-")]
        stopped = [n for n, done in zip(nodes, self.stop_many(nodes)) if done]
        others = [n for n in names if n not in nodes]
        stopped += [n for n, done in zip(others, self.stop_many(others)) if done]
        node_dirs = sorted((self.state_dir / "nodes").glob("*")) if (self.state_dir / "nodes").is_dir() else []
        inside = [pid for pids in processes_inside(node_dirs).values() for pid in pids]
        for pid in inside + stray_processes(self.state_dir):
            try:
                os.kill(pid, signal.SIGKILL)
                stopped.append(f"stray pid {pid}")
            except ProcessLookupError:
                pass
        for node_dir in node_dirs:
            if overlay.unmount(node_dir):
                stopped.append(f"mount {node_dir.name}")
        self.signer.stop_agent()
        if info.get("block") is not None:
            addresses.release_block(self.state_dir, info["block"])
        if info:
            info["pids"] = {}
            self.save(info)
        return stopped

    # -- status ----------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        info = self.info
        names = list(dict.fromkeys([*self.components(info), *self.sup.names()]))
        result: dict[str, Any] = {
            "mode": "nodes",
            "state_dir": str(self.state_dir),
            "apiserver_url": info["apiserver_url"],
            "inventory": str(self.inventory),
            "kubeconfig": str(self.kubeconfig),
            "components": {n: {"pid": self.sup.pid(n), "running": bool(self.sup.pid(n))} for n in names},
            "nodes": {},
        }
        memory = node_memory_mb([self.node_dir(n) for n in info["nodes"]])
        try:
            for node in self.client(timeout=10).get(path("nodes")).get("items", []):
                ready = (component.condition(node, "Ready") or {}).get("status", "Unknown")
                name = node["metadata"]["name"]
                result["nodes"][name] = {
                    "ready": ready,
                    "unschedulable": bool(node.get("spec", {}).get("unschedulable")),
                    "version": node.get("status", {}).get("nodeInfo", {}).get("kubeletVersion"),
                    "address": info["node_ips"].get(name),
                    "memory_mb": memory.get(name),
                    "fleet": False,
                }
        except (OSError, ApiError) as exc:
            result["error"] = str(exc)
        return result
