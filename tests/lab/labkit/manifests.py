"""Static pod manifests as kubeadm writes them into /etc/kubernetes/manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from labkit.kubeadm_defaults import ETCD, minor


def static_pod(
    name: str,
    image: str,
    command: list[str],
    probe: tuple[str, int] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A control-plane static pod in kubeadm's shape; ``probe`` is the (host, port) of its liveness check."""
    container: dict[str, Any] = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "command": command}
    if probe:
        host, port = probe
        path = "/livez" if port == 6443 else "/healthz"
        container["livenessProbe"] = {"httpGet": {"host": host, "path": path, "port": port, "scheme": "HTTPS"}}
    container["resources"] = {"requests": {"cpu": "100m"}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "kube-system",
            "labels": {"component": name, "tier": "control-plane"},
            "annotations": annotations or {},
        },
        "spec": {
            "containers": [container],
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
            probe=(ip, 6443),
            annotations={"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:6443"},
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
            probe=("127.0.0.1", 10257),
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
            probe=("127.0.0.1", 10259),
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
            probe=("127.0.0.1", 2381),
            annotations={"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"},
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
