"""Workload profiles: ``apps`` (workloads behind PodDisruptionBudgets) and ``scale`` (thousands of nodes and
tens of thousands of pods for benchmarks)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from labkit import component
from labkit.kubeadm_defaults import PAUSE
from labkit.kubeclient import KubeClient, path
from labkit.objects import create, ensure_namespace

FLEET_NAMESPACE = "scale"


def container(name: str, image: str = "registry.k8s.io/nginx-slim:0.27") -> dict:
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 80}],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
    }


def deployment(namespace: str, name: str, replicas: int, volumes: list | None = None) -> dict:
    labels = {"app": name}
    spec: dict[str, Any] = {"containers": [container(name)], "terminationGracePeriodSeconds": 30}
    if volumes:
        spec["volumes"] = volumes
        spec["containers"][0]["volumeMounts"] = [{"name": v["name"], "mountPath": f"/{v['name']}"} for v in volumes]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def pdb(namespace: str, name: str, app: str, **budget: Any) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"matchLabels": {"app": app}}, **budget},
    }


def apps_objects(namespace: str = "apps") -> list[tuple[str, dict]]:
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": namespace, "labels": {"app": "db"}},
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "containers": [container("db", "registry.k8s.io/etcd:3.5.21-0")],
                    "terminationGracePeriodSeconds": 30,
                },
            },
        },
    }
    headless = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 2379}]},
    }
    unmanaged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "standalone", "namespace": namespace, "labels": {"app": "standalone"}},
        "spec": {"containers": [container("standalone")]},
    }
    return [
        ("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        ("deployments", deployment(namespace, "web", 3)),
        ("poddisruptionbudgets", pdb(namespace, "web", "web", minAvailable=2)),
        ("deployments", deployment(namespace, "api", 4)),
        ("poddisruptionbudgets", pdb(namespace, "api", "api", maxUnavailable="25%")),
        ("deployments", deployment(namespace, "cache", 2)),
        ("poddisruptionbudgets", pdb(namespace, "cache", "cache", minAvailable="50%")),
        ("deployments", deployment(namespace, "queue", 2)),
        ("poddisruptionbudgets", pdb(namespace, "queue", "queue", maxUnavailable=1)),
        ("services", headless),
        ("statefulsets", statefulset),
        ("poddisruptionbudgets", pdb(namespace, "db", "db", maxUnavailable=1)),
        ("deployments", deployment(namespace, "scratch", 2, volumes=[{"name": "cache", "emptyDir": {}}])),
        ("pods", unmanaged),
    ]


def apps(client: KubeClient) -> list[str]:
    for resource, obj in apps_objects():
        create(client, resource, obj)
    return ["apps"]


# -- scale: thousands of nodes and tens of thousands of pods ----------------------------------------------------


def fleet_ip(index: int) -> str:
    return f"127.1.{index // 250}.{index % 250 + 1}"


def fleet_node(index: int, version: str) -> tuple[dict, dict]:
    name = f"scale-{index:05d}"
    ip = fleet_ip(index)
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
            },
            "annotations": {component.FLEET_ANNOTATION: "true"},
        },
    }
    from labkit.kubelet import node_status

    ts = component.now()
    return node, node_status(name, ip, version, ts, ts)


def scale_pod(namespace: str, name: str, node: str, owner: dict, kind: str, labels: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [component.controller_ref("apps/v1", kind, owner)],
        },
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": PAUSE}],
            "terminationGracePeriodSeconds": 30,
        },
    }


def scale(lab, client: KubeClient, info: dict[str, Any], nodes: int, pods: int, log) -> list[str]:
    """Nodes annotated as fleet (served by the one ``kubelet-fleet`` process), the kube-proxy pod of each
    (when the base profile is there) and ReplicaSets of 100 pods for the rest, bound round-robin.

    The controllers are stopped while the objects go in and started again afterwards: they then find the
    sets complete at their first sync instead of racing the seed to create pods.
    """
    if not lab.sup.pid("kubelet-fleet"):
        lab.start("kubelet-fleet")
    ensure_namespace(client, FLEET_NAMESPACE)
    names = [f"scale-{i:05d}" for i in range(1, nodes + 1)]
    pool = ThreadPoolExecutor(32)
    started = time.monotonic()
    controllers_running = bool(lab.sup.pid("controllers"))
    lab.stop("controllers")
    try:
        daemon_pods = []
        proxy = client.get_or_none(path("daemonsets", "kube-system", "kube-proxy"))
        if proxy:
            from labkit.controllers.daemonset import daemon_pod
            from labkit.controllers.deployment import template_hash

            revision = template_hash(proxy["spec"]["template"])
            for name in names:
                pod = daemon_pod(proxy, name, revision)
                pod["metadata"]["name"] = f"kube-proxy-{name[-5:]}"
                pod["spec"]["nodeName"] = name
                daemon_pods.append(pod)

        def create_node(index: int) -> None:
            node, status = fleet_node(index, info["version"])
            create(client, "nodes", {**node, "status": status})  # the lab's API server keeps status on create

        list(pool.map(create_node, range(1, nodes + 1)))
        log(f"{nodes} nodes in {time.monotonic() - started:.1f}s")
        per_rs = 100
        sets = max(0, pods - len(daemon_pods)) // per_rs

        def replicaset(i: int) -> dict:
            labels = {"app": f"load-{i:04d}"}
            return create(
                client,
                "replicasets",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {"name": f"load-{i:04d}", "namespace": FLEET_NAMESPACE, "labels": labels},
                    "spec": {
                        "replicas": per_rs,
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {
                                "containers": [{"name": "app", "image": PAUSE}],
                                "terminationGracePeriodSeconds": 30,
                            },
                        },
                    },
                },
            )

        jobs = list(daemon_pods)
        for i, rs in enumerate(pool.map(replicaset, range(sets))):
            labels = rs["spec"]["selector"]["matchLabels"]
            for j in range(per_rs):
                node = names[(i * per_rs + j) % len(names)]
                jobs.append(scale_pod(FLEET_NAMESPACE, f"load-{i:04d}-{j:03d}", node, rs, "ReplicaSet", labels))
        # pods go in Running and Ready at once (one write each, the API server keeps status on create);
        # the fleet kubelet only has to handle what happens to them afterwards
        from labkit.kubelet import running_status

        now = component.now()
        for number, pod in enumerate(jobs):
            node_ip = fleet_ip(int(pod["spec"]["nodeName"].rsplit("-", 1)[1]))
            pod_ip = f"10.{number // 65536 % 256 + 100}.{number // 256 % 256}.{number % 256}"
            pod["status"] = running_status(pod, node_ip, node_ip if pod["spec"].get("hostNetwork") else pod_ip, now)
        for done, _ in enumerate(pool.map(lambda pod: create(client, "pods", pod), jobs), 1):
            if done % 10000 == 0:
                log(f"{done} pods created ({time.monotonic() - started:.1f}s)")
        log(f"{len(jobs)} pods in {time.monotonic() - started:.1f}s")
    finally:
        if controllers_running:
            lab.start("controllers")
    return [FLEET_NAMESPACE]
