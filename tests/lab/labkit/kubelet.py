"""A simulated kubelet: registers its Node, heartbeats, "runs" the pods bound to it, publishes mirror pods.

One process per node (``--node NAME``), like the real kubelet. ``--fleet`` serves every node annotated
``lab.cluster-ops.io/fleet`` (the scale profile's thousands of nodes) from one process: their pods start and
terminate, but they send no heartbeats (the node lifecycle controller leaves them alone).

Durations of the real kubelet are multiplied by the lab's time factor: lease renewal every 10 s, node
status at least every 5 min or when it changed, a pod's termination grace period.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import os
import platform
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import yaml

from labkit import component
from labkit.kubeclient import ApiError, Informer, KubeClient, path

LEASE_DURATION = 40
LEASE_RENEW = 10.0
STATUS_REPORT = 300.0
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
MIRROR = "kubernetes.io/config.mirror"


def scaled(seconds: float, factor: float, floor: float = 0.0) -> float:
    return max(seconds * factor, floor)


class Timers:
    """Actions due at a time, run by a small pool; one pending action per key."""

    def __init__(self, workers: int):
        self.heap: list[tuple[float, int, str, Callable[[], None]]] = []
        self.keys: set[str] = set()
        self.cond = threading.Condition()
        self.pool = ThreadPoolExecutor(workers)
        self.seq = 0
        threading.Thread(target=self._run, daemon=True, name="timers").start()

    def at(self, due: float, key: str, action: Callable[[], None], attempt: int = 1) -> None:
        with self.cond:
            if key in self.keys and attempt == 1:
                return
            self.keys.add(key)
            self.seq += 1
            heapq.heappush(self.heap, (due, self.seq, key, lambda: self._call(key, action, attempt)))
            self.cond.notify()

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.heap or self.heap[0][0] > time.monotonic():
                    self.cond.wait(self.heap[0][0] - time.monotonic() if self.heap else None)
                _, _, _, call = heapq.heappop(self.heap)
            self.pool.submit(call)

    def _call(self, key: str, action: Callable[[], None], attempt: int) -> None:
        try:
            action()
        except Exception as exc:  # the API server may be restarting: retry a few times
            component.logging.getLogger("kubelet").warning("%s (attempt %d): %s", key, attempt, exc)
            if attempt < 10:
                self.at(time.monotonic() + 0.5 * attempt, key, action, attempt + 1)
                return
        with self.cond:
            self.keys.discard(key)


def node_object(name: str, ip: str, version: str, control_plane: bool) -> dict[str, Any]:
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    spec: dict[str, Any] = {}
    if control_plane:
        labels[CONTROL_PLANE_LABEL] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        spec["taints"] = [{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
    }


def node_status(
    name: str, ip: str, version: str, heartbeat: str, since: str, identity: dict[str, str] | None = None
) -> dict[str, Any]:
    """``identity`` overrides nodeInfo fields a real node reads from its system (machineID, bootID, osImage)."""

    def cond(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": heartbeat,
            "lastTransitionTime": since,
        }

    resources = {"cpu": "4", "memory": "8148440Ki", "pods": "110", "ephemeral-storage": "40901312Ki"}
    machine = hashlib.md5(name.encode()).hexdigest()
    return {
        "capacity": resources,
        "allocatable": {**resources, "memory": "8046040Ki", "ephemeral-storage": "37694649077"},
        "conditions": [
            cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": machine,
            "systemUUID": f"{machine[:8]}-{machine[8:12]}-{machine[12:16]}-{machine[16:20]}-{machine[20:32]}",
            "bootID": hashlib.md5(f"{name}{os.getpid()}".encode()).hexdigest(),
            "kernelVersion": platform.release(),
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "containerRuntimeVersion": "containerd://1.7.24",
            "kubeletVersion": f"v{version.lstrip('v')}",
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": "amd64",
            **(identity or {}),
        },
    }


def qos_class(pod: dict[str, Any]) -> str:
    containers = pod.get("spec", {}).get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        r.get("limits")
        and {k: v for k, v in r["limits"].items() if k in ("cpu", "memory")}
        == {k: v for k, v in (r.get("requests") or r["limits"]).items() if k in ("cpu", "memory")}
        and {"cpu", "memory"} <= set(r["limits"])
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def running_status(pod: dict[str, Any], host_ip: str, pod_ip: str, started: str) -> dict[str, Any]:
    """The status the real kubelet reports for a pod whose containers all started and passed readiness."""

    def cond(kind: str) -> dict[str, Any]:
        return {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": started}

    spec = pod.get("spec", {})
    statuses = []
    for container in spec.get("containers") or []:
        image = container.get("image", "")
        digest = hashlib.sha256(image.encode()).hexdigest()
        container_id = hashlib.sha256(f"{pod['metadata'].get('uid')}{container['name']}".encode()).hexdigest()
        statuses.append(
            {
                "name": container["name"],
                "state": {"running": {"startedAt": started}},
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest",
                "imageID": f"{image.split(':')[0]}@sha256:{digest}",
                "containerID": f"containerd://{container_id}",
                "started": True,
            }
        )
    status = {
        "phase": "Running",
        "conditions": [
            cond("PodReadyToStartContainers"),
            cond("Initialized"),
            cond("Ready"),
            cond("ContainersReady"),
            cond("PodScheduled"),
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": started,
        "containerStatuses": statuses,
        "qosClass": qos_class(pod),
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [
            {
                "name": c["name"],
                "state": {
                    "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started}
                },
                "lastState": {},
                "ready": True,
                "restartCount": 0,
                "image": c.get("image", ""),
                "imageID": "",
                "started": False,
            }
            for c in spec["initContainers"]
        ]
    return status


def completed_status(running: dict[str, Any], finished: str) -> dict[str, Any]:
    """The status the real kubelet reports once every container of a run-to-completion pod exited 0."""

    def cond(kind: str, status: str, reason: str | None = None) -> dict[str, Any]:
        found = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": finished}
        return {**found, "reason": reason} if reason else found

    containers = []
    for container in running.get("containerStatuses") or []:
        started = (container.get("state") or {}).get("running", {}).get("startedAt", finished)
        terminated = {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": finished,
                      "containerID": container.get("containerID", "")}  # fmt: skip
        containers.append({**container, "state": {"terminated": terminated}, "ready": False, "started": False})
    return {
        **running,
        "phase": "Succeeded",
        "conditions": [
            cond("PodReadyToStartContainers", "False"),
            cond("Initialized", "True", "PodCompleted"),
            cond("Ready", "False", "PodCompleted"),
            cond("ContainersReady", "False", "PodCompleted"),
            cond("PodScheduled", "True"),
        ],
        "containerStatuses": containers,
    }


def runs_to_completion(pod: dict[str, Any]) -> bool:
    """A Job's pod (controller ownerReference kind Job, restartPolicy Never or OnFailure)."""
    owner = component.controller_of(pod) or {}
    return owner.get("kind") == "Job" and (pod.get("spec") or {}).get("restartPolicy") in ("Never", "OnFailure")


def mirror_pod(manifest: dict[str, Any], node: dict[str, Any], digest: str) -> dict[str, Any]:
    """The mirror pod the kubelet publishes for a static pod manifest: ``<name>-<node>``, owned by the Node."""
    meta = manifest.get("metadata") or {}
    node_name = node["metadata"]["name"]
    annotations = {
        **(meta.get("annotations") or {}),
        "kubernetes.io/config.hash": digest,
        MIRROR: digest,
        "kubernetes.io/config.seen": component.now(),
        "kubernetes.io/config.source": "file",
    }
    spec = {**(manifest.get("spec") or {}), "nodeName": node_name}
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    spec["tolerations"] = spec.get("tolerations") or [{"operator": "Exists", "effect": "NoExecute"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{meta['name']}-{node_name}",
            "namespace": meta.get("namespace") or "default",
            "labels": meta.get("labels") or {},
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "name": node_name,
                    "uid": node["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": spec,
    }


def pod_ip_for(node_index: int, uid: str, used: set[str]) -> str:
    """A free address in the node's pod CIDR (10.244.<index>.0/24), like a CNI's host-local IPAM."""
    start = zlib.crc32(uid.encode()) % 253
    for step in range(253):
        ip = f"10.244.{node_index % 256}.{(start + step) % 253 + 2}"
        if ip not in used:
            return ip
    return f"10.244.{node_index % 256}.{start + 2}"


class Kubelet:
    def __init__(self, client: KubeClient, info: dict[str, Any], nodes: dict[str, dict[str, Any]], fleet: bool):
        """``nodes``: name -> {"ip", "index", "control_plane", "manifests"} for a node process; filled from the
        API for a fleet."""
        self.client = client
        self.info = info
        self.nodes = nodes
        self.fleet = fleet
        self.factor = float(info.get("time_factor", 0.05))
        self.ready_delay = float(info.get("pod_ready_delay", 1.0))
        self.version = info.get("version", "1.35.2")
        self.timers = Timers(workers=16 if fleet else 4)
        self.log = component.logging.getLogger("kubelet")
        self.node_objects: dict[str, dict[str, Any]] = {}
        self.mirrors: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in nodes}
        self.lock = threading.Lock()
        self.pod_ips: dict[str, dict[str, str]] = {}  # node -> pod uid -> pod IP

    # -- node registration and heartbeats ----------------------------------------------------------------

    def register(self, name: str) -> None:
        spec = self.nodes[name]
        ts = component.now()
        node = self.client.get_or_none(path("nodes", name=name))
        if node is None:
            try:
                node = self.client.create(
                    path("nodes"), node_object(name, spec["ip"], self.version, spec["control_plane"])
                )
            except ApiError as exc:
                if exc.status != 409:
                    raise
                node = self.client.get(path("nodes", name=name))
        self.node_objects[name] = node
        self.post_status(name, ts, force=True)
        self.log.info("registered node %s (%s)", name, spec["ip"])

    def post_status(self, name: str, ts: str | None = None, force: bool = False) -> None:
        """Send the node status when it changed (not Ready in the API) or every STATUS_REPORT scaled."""
        ts = ts or component.now()
        node = self.client.get(path("nodes", name=name))
        ready = component.condition(node, "Ready") or {}
        stale = time.time() - component.parse_time(ready.get("lastHeartbeatTime")) > scaled(
            STATUS_REPORT, self.factor, 1.0
        )
        if not (force or stale or ready.get("status") != "True"):
            return
        since = ready.get("lastTransitionTime") if ready.get("status") == "True" else ts
        status = node_status(name, self.nodes[name]["ip"], self.version, ts, since or ts, self.identity(name))
        self.client.patch(path("nodes", name=name, sub="status"), {"status": status}, kind="strategic")

    def identity(self, name: str) -> dict[str, str] | None:
        """nodeInfo fields read from the node's system (a node container's kubelet has one)."""
        return None

    def renew_lease(self, name: str) -> None:
        url = path("leases", "kube-node-lease", name)
        lease = self.client.get_or_none(url)
        spec = {
            "holderIdentity": name,
            "leaseDurationSeconds": LEASE_DURATION,
            "renewTime": component.micro_now(),
        }
        if lease is None:
            node = self.node_objects[name]
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {
                    "name": name,
                    "namespace": "kube-node-lease",
                    "ownerReferences": [
                        {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}
                    ],
                },
                "spec": spec,
            }
            self.client.create(path("leases", "kube-node-lease"), body)
        else:
            lease["spec"].update(spec)
            self.client.update(url, lease)

    def heartbeat_loop(self, name: str) -> None:
        interval = scaled(LEASE_RENEW, self.factor, 0.25)
        status_every = max(1, round(scaled(10.0, self.factor, 0.25) / interval))
        tick = 0
        while True:
            try:
                self.renew_lease(name)
                if tick % status_every == 0:
                    self.post_status(name)
            except (ApiError, OSError, ValueError) as exc:
                self.log.warning("heartbeat of %s: %s", name, exc)
            except Exception:
                self.log.exception("heartbeat of %s", name)
            tick += 1
            time.sleep(interval)

    # -- pods ----------------------------------------------------------------------------------------------

    def on_pod(self, kind: str, pod: dict[str, Any], _old: dict[str, Any] | None) -> None:
        node = pod.get("spec", {}).get("nodeName")
        if node in self.nodes and not pod.get("spec", {}).get("hostNetwork"):
            with self.lock:
                used = self.pod_ips.setdefault(node, {})
                if kind == "DELETED":
                    used.pop(pod["metadata"]["uid"], None)
                elif pod.get("status", {}).get("podIP"):
                    used[pod["metadata"]["uid"]] = pod["status"]["podIP"]
        if node not in self.nodes or kind == "DELETED":
            if kind == "DELETED" and node in self.nodes and MIRROR in (pod["metadata"].get("annotations") or {}):
                self.mirrors.setdefault(node, {}).pop(pod["metadata"]["name"], None)
            return
        meta = pod["metadata"]
        if MIRROR in (meta.get("annotations") or {}):
            self.mirrors.setdefault(node, {})[meta["name"]] = pod
        uid = meta["uid"]
        if meta.get("deletionTimestamp"):
            grace = meta.get("deletionGracePeriodSeconds")
            grace = 30 if grace is None else grace
            delay = grace * self.factor
            self.timers.at(time.monotonic() + delay, f"kill/{uid}", lambda: self.finish_deletion(pod))
        elif pod.get("status", {}).get("phase", "Pending") == "Pending":
            self.timers.at(time.monotonic() + self.ready_delay, f"start/{uid}", lambda: self.start_pod(pod))

    def start_pod(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        url = path("pods", meta["namespace"], meta["name"])
        current = self.client.get_or_none(url)
        if not current or current["metadata"]["uid"] != meta["uid"] or current["metadata"].get("deletionTimestamp"):
            return
        if current.get("status", {}).get("phase", "Pending") != "Pending":
            return
        if not self.containers_started(current):  # a static pod's process is not up (yet): look again soon
            self.timers.at(time.monotonic() + 0.5, f"start/{meta['uid']}", lambda: self.start_pod(pod), attempt=2)
            return
        node_name = current["spec"]["nodeName"]
        node = self.nodes[node_name]
        if current["spec"].get("hostNetwork"):
            pod_ip = node["ip"]
        else:
            with self.lock:
                used = self.pod_ips.setdefault(node_name, {})
                pod_ip = used[meta["uid"]] = pod_ip_for(node["index"], meta["uid"], set(used.values()))
        status = running_status(current, node["ip"], pod_ip, component.now())
        self.client.patch(path("pods", meta["namespace"], meta["name"], "status"), {"status": status})
        if runs_to_completion(current):
            due = time.monotonic() + self.ready_delay
            self.timers.at(due, f"complete/{meta['uid']}", lambda: self.complete_pod(current, status))

    def containers_started(self, pod: dict[str, Any]) -> bool:
        """Whether the pod's containers run; a node container's kubelet asks its runtime for static pods."""
        return True

    def complete_pod(self, pod: dict[str, Any], running: dict[str, Any]) -> None:
        """A Job's pod: its containers exit 0 after the ready delay (Running -> Succeeded)."""
        meta = pod["metadata"]
        current = self.client.get_or_none(path("pods", meta["namespace"], meta["name"]))
        if not current or current["metadata"]["uid"] != meta["uid"] or current["metadata"].get("deletionTimestamp"):
            return
        status = completed_status(running, component.now())
        self.client.patch(path("pods", meta["namespace"], meta["name"], "status"), {"status": status})

    def finish_deletion(self, pod: dict[str, Any]) -> None:
        """After the grace period the containers are gone: delete for good (grace 0, this uid only)."""
        meta = pod["metadata"]
        self.client.delete_ignoring_missing(
            path("pods", meta["namespace"], meta["name"]), grace_period=0, uid=meta["uid"]
        )

    # -- static pods -------------------------------------------------------------------------------------

    def read_manifests(self, directory: Path) -> dict[str, tuple[str, dict[str, Any]]]:
        manifests = {}
        for file in sorted(directory.glob("*.y*ml")) if directory.is_dir() else []:
            try:
                text = file.read_text()
                manifest = yaml.safe_load(text)
            except (OSError, yaml.YAMLError) as exc:
                self.log.warning("static pod %s unreadable: %s", file, exc)
                continue
            name = manifest.get("metadata", {}).get("name") if isinstance(manifest, dict) else None
            if name and manifest.get("kind") == "Pod":
                manifests[manifest["metadata"]["name"]] = (hashlib.md5(text.encode()).hexdigest(), manifest)
        return manifests

    def sync_static_pods(self, name: str) -> None:
        node = self.node_objects[name]
        wanted = {}
        for digest, manifest in self.read_manifests(Path(self.nodes[name]["manifests"])).values():
            mirror = mirror_pod(manifest, node, digest)
            wanted[mirror["metadata"]["name"]] = mirror
        for pod_name, pod in list(self.mirrors[name].items()):
            annotations = pod["metadata"].get("annotations") or {}
            target = wanted.get(pod_name)
            if target is None or annotations.get(MIRROR) != target["metadata"]["annotations"][MIRROR]:
                if not pod["metadata"].get("deletionTimestamp"):
                    self.log.info("mirror pod %s: manifest %s", pod_name, "changed" if target else "removed")
                    self.client.delete_ignoring_missing(
                        path("pods", pod["metadata"]["namespace"], pod_name), grace_period=0, uid=pod["metadata"]["uid"]
                    )
                    self.mirrors[name].pop(pod_name, None)
            elif target is not None:
                wanted.pop(pod_name)
        for pod_name, mirror in wanted.items():
            if pod_name in self.mirrors[name]:
                continue  # the old one is still terminating
            try:
                self.client.create(path("pods", mirror["metadata"]["namespace"]), mirror)
                self.log.info("mirror pod %s created", pod_name)
            except ApiError as exc:
                if exc.status != 409:
                    self.log.warning("mirror pod %s: %s", pod_name, exc)

    def static_pod_loop(self, name: str, informer: Informer) -> None:
        informer.synced.wait()
        while True:
            try:
                self.sync_static_pods(name)
            except (ApiError, OSError) as exc:
                self.log.warning("static pods of %s: %s", name, exc)
            except Exception:
                self.log.exception("static pods of %s", name)
            time.sleep(1.0)

    # -- main ----------------------------------------------------------------------------------------------

    def run_node(self, name: str) -> None:
        self.register(name)
        informer = Informer(
            self.client, "pods", self.on_pod, fieldSelector=f"spec.nodeName={name}", cache=False
        ).start()
        threading.Thread(target=self.static_pod_loop, args=(name, informer), daemon=True).start()
        self.heartbeat_loop(name)

    def run_fleet(self) -> None:
        def on_node(kind: str, node: dict[str, Any], _old: dict[str, Any] | None) -> None:
            meta = node["metadata"]
            if kind == "DELETED" or (meta.get("annotations") or {}).get(component.FLEET_ANNOTATION) != "true":
                self.nodes.pop(meta["name"], None)
                return
            addresses = node.get("status", {}).get("addresses") or [{}]
            ip = next((a["address"] for a in addresses if a.get("type") == "InternalIP"), "127.0.0.1")
            self.nodes[meta["name"]] = {"ip": ip, "index": zlib.crc32(meta["name"].encode()), "control_plane": False}

        nodes = Informer(self.client, "nodes", on_node, cache=False).start()
        nodes.synced.wait()
        pods = Informer(self.client, "pods", self.on_pod, cache=False).start()
        pods.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--node")
    group.add_argument("--fleet", action="store_true")
    parser.add_argument("--ip", default="127.0.0.1")
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--control-plane", action="store_true")
    parser.add_argument("--manifests", type=Path, help="static pod manifest directory")
    parser.add_argument("--version", help="kubelet version (default: the lab's)")
    args = parser.parse_args()
    log = component.setup(f"kubelet-{args.node or 'fleet'}")
    info = component.lab_info(args.state_dir)
    if args.version:
        info["version"] = args.version
    client = component.client_for(args.state_dir, f"kubelet-{args.node}" if args.node else "kubelet-fleet")
    if args.fleet:
        Kubelet(client, info, {}, fleet=True).run_fleet()
        return
    manifests = args.manifests or args.state_dir / "nodes" / args.node / "manifests"
    nodes = {
        args.node: {"ip": args.ip, "index": args.index, "control_plane": args.control_plane, "manifests": manifests}
    }
    log.info("starting, version %s, manifests %s", info["version"], manifests)
    Kubelet(client, info, nodes, fleet=False).run_node(args.node)


if __name__ == "__main__":
    main()
