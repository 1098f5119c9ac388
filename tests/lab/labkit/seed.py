"""Workload profiles: ``base`` (kube-system as kubeadm leaves it), ``apps`` (workloads behind PDBs),
``scale`` (thousands of nodes and tens of thousands of pods for benchmarks)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from labkit import component
from labkit.kubeclient import ApiError, KubeClient, path

COREDNS = {"1.31": "v1.11.3", "1.32": "v1.11.3", "1.33": "v1.12.0", "1.34": "v1.12.1", "1.35": "v1.12.1"}
ETCD = {"1.31": "3.5.15-0", "1.32": "3.5.16-0", "1.33": "3.5.21-0", "1.34": "3.6.4-0", "1.35": "3.6.5-0"}
PAUSE = "registry.k8s.io/pause:3.10"
FLEET_NAMESPACE = "scale"


def minor(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])


def create(client: KubeClient, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Create, or leave an existing object alone (seeding twice changes nothing)."""
    namespace = obj["metadata"].get("namespace")
    try:
        return client.create(path(resource, namespace), obj)
    except ApiError as exc:
        if exc.status != 409:
            raise
        return client.get(path(resource, namespace, obj["metadata"]["name"]))


def ensure_namespace(client: KubeClient, name: str) -> None:
    create(client, "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


# -- base: what kubeadm init + join leave in kube-system -------------------------------------------------------


def static_pod(name: str, image: str, command: list[str], ip: str, port: int, extra_meta: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "kube-system",
            "labels": {"component": name, "tier": "control-plane"},
            "annotations": extra_meta or {},
        },
        "spec": {
            "containers": [
                {
                    "name": name,
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": command,
                    "livenessProbe": {
                        "httpGet": {
                            "host": ip,
                            "path": "/livez" if port == 6443 else "/healthz",
                            "port": port,
                            "scheme": "HTTPS",
                        }
                    },
                    "resources": {"requests": {"cpu": "100m"}},
                }
            ],
            "hostNetwork": True,
            "priority": 2000001000,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        },
    }


def control_plane_manifests(version: str, ip: str, node: str, info: dict[str, Any]) -> dict[str, dict]:
    tag = f"v{version.lstrip('v')}"
    pki = "/etc/kubernetes/pki"
    etcd_url = "https://127.0.0.1:2379"
    return {
        "kube-apiserver": static_pod(
            "kube-apiserver",
            f"registry.k8s.io/kube-apiserver:{tag}",
            [
                "kube-apiserver",
                f"--advertise-address={ip}",
                "--allow-privileged=true",
                "--authorization-mode=Node,RBAC",
                f"--client-ca-file={pki}/ca.crt",
                "--enable-admission-plugins=NodeRestriction",
                f"--etcd-cafile={pki}/etcd/ca.crt",
                f"--etcd-certfile={pki}/apiserver-etcd-client.crt",
                f"--etcd-keyfile={pki}/apiserver-etcd-client.key",
                f"--etcd-servers={etcd_url}",
                "--secure-port=6443",
                "--service-cluster-ip-range=10.96.0.0/12",
                f"--tls-cert-file={pki}/apiserver.crt",
                f"--tls-private-key-file={pki}/apiserver.key",
            ],
            ip,
            6443,
            {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:6443"},
        ),
        "kube-controller-manager": static_pod(
            "kube-controller-manager",
            f"registry.k8s.io/kube-controller-manager:{tag}",
            [
                "kube-controller-manager",
                "--allocate-node-cidrs=true",
                "--bind-address=127.0.0.1",
                "--cluster-cidr=10.244.0.0/16",
                "--kubeconfig=/etc/kubernetes/controller-manager.conf",
                "--leader-elect=true",
                "--use-service-account-credentials=true",
            ],
            "127.0.0.1",
            10257,
        ),
        "kube-scheduler": static_pod(
            "kube-scheduler",
            f"registry.k8s.io/kube-scheduler:{tag}",
            [
                "kube-scheduler",
                "--bind-address=127.0.0.1",
                "--kubeconfig=/etc/kubernetes/scheduler.conf",
                "--leader-elect=true",
            ],
            "127.0.0.1",
            10259,
        ),
        "etcd": static_pod(
            "etcd",
            f"registry.k8s.io/etcd:{ETCD.get(minor(version), '3.6.5-0')}",
            [
                "etcd",
                f"--advertise-client-urls=https://{ip}:2379",
                f"--cert-file={pki}/etcd/server.crt",
                "--client-cert-auth=true",
                "--data-dir=/var/lib/etcd",
                f"--initial-advertise-peer-urls=https://{ip}:2380",
                f"--initial-cluster={node}=https://{ip}:2380",
                f"--key-file={pki}/etcd/server.key",
                f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
                f"--name={node}",
                f"--trusted-ca-file={pki}/etcd/ca.crt",
            ],
            "127.0.0.1",
            2381,
            {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"},
        ),
    }


def write_manifests(state_dir: Path, info: dict[str, Any]) -> None:
    for node in info.get("control_plane_nodes") or info["nodes"][:1]:
        directory = state_dir / "nodes" / node / "manifests"
        directory.mkdir(parents=True, exist_ok=True)
        for name, manifest in control_plane_manifests(info["version"], info["node_ips"][node], node, info).items():
            target = directory / f"{name}.yaml"
            if not target.exists():
                target.write_text(yaml.safe_dump(manifest, sort_keys=False))


def cluster_configuration(info: dict[str, Any]) -> str:
    endpoint = info["apiserver_url"].split("://", 1)[1]
    return yaml.safe_dump(
        {
            "apiServer": {},
            "apiVersion": "kubeadm.k8s.io/v1beta4",
            "caCertificateValidityPeriod": "87600h0m0s",
            "certificateValidityPeriod": "8760h0m0s",
            "certificatesDir": "/etc/kubernetes/pki",
            "clusterName": "kubernetes",
            "controlPlaneEndpoint": endpoint,
            "controllerManager": {},
            "dns": {},
            "encryptionAlgorithm": "RSA-2048",
            "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
            "imageRepository": "registry.k8s.io",
            "kind": "ClusterConfiguration",
            "kubernetesVersion": f"v{info['version']}",
            "networking": {"dnsDomain": "cluster.local", "podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
            "proxy": {},
            "scheduler": {},
        },
        sort_keys=False,
    )


def kubelet_configuration() -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
            },
            "authorization": {"mode": "Webhook"},
            "cgroupDriver": "systemd",
            "clusterDNS": ["10.96.0.10"],
            "clusterDomain": "cluster.local",
            "containerRuntimeEndpoint": "unix:///var/run/containerd/containerd.sock",
            "rotateCertificates": True,
            "staticPodPath": "/etc/kubernetes/manifests",
        },
        sort_keys=False,
    )


def config_map(namespace: str, name: str, data: dict[str, str], labels: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "data": data,
    }


def coredns(version: str) -> list[tuple[str, dict]]:
    labels = {"k8s-app": "kube-dns"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": "coredns",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [
                        {"key": "CriticalAddonsOnly", "operator": "Exists"},
                        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                    ],
                    "containers": [
                        {
                            "name": "coredns",
                            "image": f"registry.k8s.io/coredns/coredns:{COREDNS.get(minor(version), 'v1.12.1')}",
                            "args": ["-conf", "/etc/coredns/Corefile"],
                            "ports": [
                                {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
                            ],
                            "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
                            "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True}],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "config-volume",
                            "configMap": {"name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]},
                        }
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kube-dns",
            "namespace": "kube-system",
            "labels": {**labels, "kubernetes.io/name": "CoreDNS"},
        },
        "spec": {
            "clusterIP": "10.96.0.10",
            "selector": labels,
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
            ],
        },
    }
    corefile = (
        ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n"
        "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n"
        "       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n"
        "    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n"
        "    reload\n    loadbalance\n}\n"
    )
    return [
        ("configmaps", config_map("kube-system", "coredns", {"Corefile": corefile})),
        ("deployments", deployment),
        ("services", service),
    ]


def kube_proxy(version: str) -> list[tuple[str, dict]]:
    labels = {"k8s-app": "kube-proxy"}
    daemonset = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": "kube-proxy",
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [
                        {
                            "name": "kube-proxy",
                            "image": f"registry.k8s.io/kube-proxy:v{version.lstrip('v')}",
                            "command": [
                                "/usr/local/bin/kube-proxy",
                                "--config=/var/lib/kube-proxy/config.conf",
                                "--hostname-override=$(NODE_NAME)",
                            ],
                            "env": [
                                {
                                    "name": "NODE_NAME",
                                    "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
                                }
                            ],
                            "securityContext": {"privileged": True},
                            "volumeMounts": [{"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"}],
                        }
                    ],
                    "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}}],
                },
            },
        },
    }
    config = yaml.safe_dump(
        {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clusterCIDR": "10.244.0.0/16",
            "mode": "iptables",
        },
        sort_keys=False,
    )
    return [
        ("configmaps", config_map("kube-system", "kube-proxy", {"config.conf": config}, {"app": "kube-proxy"})),
        ("daemonsets", daemonset),
    ]


def base(client: KubeClient, info: dict[str, Any], state_dir: Path) -> list[str]:
    for namespace in ("kube-system", "kube-public", "kube-node-lease", "default"):
        ensure_namespace(client, namespace)
    write_manifests(state_dir, info)
    objects = [
        (
            "configmaps",
            config_map("kube-system", "kubeadm-config", {"ClusterConfiguration": cluster_configuration(info)}),
        ),
        ("configmaps", config_map("kube-system", "kubelet-config", {"kubelet": kubelet_configuration()})),
        *coredns(info["version"]),
        *kube_proxy(info["version"]),
    ]
    for resource, obj in objects:
        create(client, resource, obj)
    return ["kube-system"]


# -- apps: workloads behind PodDisruptionBudgets ----------------------------------------------------------------


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


# -- scale: thousands of nodes served by one fleet kubelet ----------------------------------------------------------


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


def pods_not_ready(client: KubeClient, namespaces: list[str]) -> list[str]:
    """Names of pods in these namespaces that are not Running and Ready (paginated read)."""
    waiting = []
    for namespace in namespaces:
        for page in client.list_pages(path("pods", namespace), limit=2000):
            for pod in page.get("items") or []:
                if not component.is_pod_ready(pod):
                    waiting.append(f"{namespace}/{pod['metadata']['name']}")
    return waiting


def run(lab, profile: str, timeout: float, nodes: int = 5000, pods: int = 50000) -> str:
    """Seed one profile and wait until its pods are Running and Ready."""
    info = lab.info
    client = lab.client(timeout=60)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"  {profile}: {message}", flush=True)

    if profile == "base":
        namespaces = base(client, info, lab.state_dir)
    elif profile == "apps":
        namespaces = apps(client)
    else:
        namespaces = scale(lab, client, info, nodes, pods, log)
    deadline = started + timeout
    while profile == "scale" and time.monotonic() < started + timeout:  # cheap polls first
        pending = client.get(path("pods"), fieldSelector="status.phase=Pending", limit=1)["items"]
        if not pending:
            break
        time.sleep(2.0)
    while True:
        waiting = pods_not_ready(client, namespaces)
        expected = {"base": lambda: expected_base(client, info)}.get(profile, lambda: [])()
        if not waiting and not expected:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{profile}: not ready after {timeout:.0f}s: {(expected + waiting)[:10]}"
                f"{' ...' if len(waiting) > 10 else ''}"
            )
        time.sleep(0.2 if profile != "scale" else 3.0)
    count = sum(len(client.list_all(path("pods", ns), limit=5000)[0]) for ns in namespaces)
    return f"{count} pods Ready in {', '.join(namespaces)}"


def expected_base(client: KubeClient, info: dict[str, Any]) -> list[str]:
    """What ``base`` still lacks: the mirror pods and the DaemonSet/Deployment pods."""
    pods = {p["metadata"]["name"] for p in client.list_all(path("pods", "kube-system"))[0]}
    missing = [
        f"{c}-{n}"
        for n in info.get("control_plane_nodes", info["nodes"][:1])
        for c in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
        if f"{c}-{n}" not in pods
    ]
    coredns = client.get(path("deployments", "kube-system", "coredns"))
    if coredns.get("status", {}).get("availableReplicas", 0) < 2:
        missing.append("deployment/coredns")
    proxy = client.get(path("daemonsets", "kube-system", "kube-proxy"))
    if proxy.get("status", {}).get("numberReady", 0) < len(info["nodes"]) or not proxy.get("status", {}).get(
        "desiredNumberScheduled"
    ):
        missing.append("daemonset/kube-proxy")
    return missing
