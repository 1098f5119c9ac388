"""The control plane's static pod manifests as kubeadm writes them into /etc/kubernetes/manifests.

Same fields, volumes, probes and (alphabetical) key order as kubeadm's, with two lab differences: the nodes share
the host's network, so every component binds and probes its node's own address instead of 127.0.0.1; and the etcd
binary is Debian's etcd 3.4 whatever the image tag says, so etcd keeps the flags 3.4 knows
(``--experimental-initial-corrupt-check``, ``--experimental-watch-progress-notify-interval``).
"""

from __future__ import annotations

from typing import Any

import yaml

from labkit.kubeadm.constants import API_PORT, ETCD_DATA_DIR, IMAGE_REPOSITORY, PKI_DIR
from labkit.kubeadm_defaults import ETCD, minor

PKI = str(PKI_DIR)


def extra_args(component: dict[str, Any] | None) -> dict[str, str]:
    """v1beta4 ``extraArgs``: a list of ``{name, value}`` (a map in older versions)."""
    args = (component or {}).get("extraArgs") or []
    if isinstance(args, dict):
        return {str(k): str(v) for k, v in args.items()}
    return {str(a["name"]): str(a.get("value", "")) for a in args}


def command(binary: str, flags: dict[str, str], extra: dict[str, str]) -> list[str]:
    """kubeadm's argument builder: defaults overridden by extraArgs, sorted by flag name."""
    merged = {**flags, **extra}
    return [binary, *(f"--{name}={value}" for name, value in sorted(merged.items()))]


def host_path(name: str, path: str, kind: str) -> dict[str, Any]:
    return {"hostPath": {"path": path, "type": kind}, "name": name}


def probe(host: str, port: int, path: str, scheme: str, failures: int, initial: int = 10) -> dict[str, Any]:
    return {
        "failureThreshold": failures,
        "httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
        "initialDelaySeconds": initial,
        "periodSeconds": 10,
        "timeoutSeconds": 15,
    }


def pod(
    name: str,
    image: str,
    argv: list[str],
    probes: dict[str, Any],
    mounts: list[tuple[str, str, bool]],
    volumes: list[dict[str, Any]],
    annotations: dict[str, str] | None = None,
    cpu: str = "250m",
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "command": argv,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        **probes,
        "name": name,
        "resources": {"requests": {"cpu": cpu}},
        "volumeMounts": [
            {"mountPath": path, "name": vol, **({"readOnly": True} if ro else {})} for vol, path, ro in mounts
        ],
    }
    metadata: dict[str, Any] = {"creationTimestamp": None, "labels": {"component": name, "tier": "control-plane"}}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**metadata, "name": name, "namespace": "kube-system"},
        "spec": {
            "containers": [container],
            "hostNetwork": True,
            "priority": 2000001000,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": volumes,
        },
        "status": {},
    }


CA_MOUNTS = [
    ("ca-certs", "/etc/ssl/certs", True),
    ("etc-ca-certificates", "/etc/ca-certificates", True),
    ("k8s-certs", PKI, True),
    ("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates", True),
    ("usr-share-ca-certificates", "/usr/share/ca-certificates", True),
]
CA_VOLUMES = [
    host_path("ca-certs", "/etc/ssl/certs", "DirectoryOrCreate"),
    host_path("etc-ca-certificates", "/etc/ca-certificates", "DirectoryOrCreate"),
    host_path("k8s-certs", PKI, "DirectoryOrCreate"),
    host_path("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates", "DirectoryOrCreate"),
    host_path("usr-share-ca-certificates", "/usr/share/ca-certificates", "DirectoryOrCreate"),
]


def kube_apiserver(version: str, ip: str, config: dict[str, Any]) -> dict[str, Any]:
    networking = config.get("networking") or {}
    flags = {
        "advertise-address": ip,
        "allow-privileged": "true",
        "authorization-mode": "Node,RBAC",
        "bind-address": ip,
        "client-ca-file": f"{PKI}/ca.crt",
        "enable-admission-plugins": "NodeRestriction",
        "enable-bootstrap-token-auth": "true",
        "etcd-cafile": f"{PKI}/etcd/ca.crt",
        "etcd-certfile": f"{PKI}/apiserver-etcd-client.crt",
        "etcd-keyfile": f"{PKI}/apiserver-etcd-client.key",
        "etcd-servers": f"https://{ip}:2379",
        "kubelet-client-certificate": f"{PKI}/apiserver-kubelet-client.crt",
        "kubelet-client-key": f"{PKI}/apiserver-kubelet-client.key",
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
        "proxy-client-cert-file": f"{PKI}/front-proxy-client.crt",
        "proxy-client-key-file": f"{PKI}/front-proxy-client.key",
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "secure-port": str(API_PORT),
        "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
        "service-account-key-file": f"{PKI}/sa.pub",
        "service-account-signing-key-file": f"{PKI}/sa.key",
        "service-cluster-ip-range": networking.get("serviceSubnet", "10.96.0.0/12"),
        "tls-cert-file": f"{PKI}/apiserver.crt",
        "tls-private-key-file": f"{PKI}/apiserver.key",
    }
    probes = {
        "livenessProbe": probe(ip, API_PORT, "/livez", "HTTPS", 8),
        "readinessProbe": {**probe(ip, API_PORT, "/readyz", "HTTPS", 3), "initialDelaySeconds": 0, "periodSeconds": 1},
        "startupProbe": probe(ip, API_PORT, "/livez", "HTTPS", 24),
    }
    return pod(
        "kube-apiserver",
        f"{image_repository(config)}/kube-apiserver:v{version}",
        command("kube-apiserver", flags, extra_args(config.get("apiServer"))),
        probes,
        CA_MOUNTS,
        CA_VOLUMES,
        annotations={"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{ip}:{API_PORT}"},
    )


def kube_controller_manager(version: str, ip: str, config: dict[str, Any]) -> dict[str, Any]:
    networking = config.get("networking") or {}
    flags = {
        "allocate-node-cidrs": "true",
        "authentication-kubeconfig": "/etc/kubernetes/controller-manager.conf",
        "authorization-kubeconfig": "/etc/kubernetes/controller-manager.conf",
        "bind-address": ip,
        "client-ca-file": f"{PKI}/ca.crt",
        "cluster-cidr": networking.get("podSubnet", "10.244.0.0/16"),
        "cluster-name": config.get("clusterName", "kubernetes"),
        "cluster-signing-cert-file": f"{PKI}/ca.crt",
        "cluster-signing-key-file": f"{PKI}/ca.key",
        "controllers": "*,bootstrapsigner,tokencleaner",
        "kubeconfig": "/etc/kubernetes/controller-manager.conf",
        "leader-elect": "true",
        "requestheader-client-ca-file": f"{PKI}/front-proxy-ca.crt",
        "root-ca-file": f"{PKI}/ca.crt",
        "service-account-private-key-file": f"{PKI}/sa.key",
        "service-cluster-ip-range": networking.get("serviceSubnet", "10.96.0.0/12"),
        "use-service-account-credentials": "true",
    }
    mounts = [
        *CA_MOUNTS[:2],
        ("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", False),
        *CA_MOUNTS[2:3],
        ("kubeconfig", "/etc/kubernetes/controller-manager.conf", True),
        *CA_MOUNTS[3:],
    ]
    volumes = [
        *CA_VOLUMES[:2],
        host_path("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", "DirectoryOrCreate"),
        *CA_VOLUMES[2:3],
        host_path("kubeconfig", "/etc/kubernetes/controller-manager.conf", "FileOrCreate"),
        *CA_VOLUMES[3:],
    ]
    probes = {
        "livenessProbe": probe(ip, 10257, "/healthz", "HTTPS", 8),
        "startupProbe": probe(ip, 10257, "/healthz", "HTTPS", 24),
    }
    return pod(
        "kube-controller-manager",
        f"{image_repository(config)}/kube-controller-manager:v{version}",
        command("kube-controller-manager", flags, extra_args(config.get("controllerManager"))),
        probes,
        mounts,
        volumes,
        cpu="200m",
    )


def kube_scheduler(version: str, ip: str, config: dict[str, Any]) -> dict[str, Any]:
    flags = {
        "authentication-kubeconfig": "/etc/kubernetes/scheduler.conf",
        "authorization-kubeconfig": "/etc/kubernetes/scheduler.conf",
        "bind-address": ip,
        "kubeconfig": "/etc/kubernetes/scheduler.conf",
        "leader-elect": "true",
    }
    probes = {
        "livenessProbe": probe(ip, 10259, "/livez", "HTTPS", 8),
        "readinessProbe": {**probe(ip, 10259, "/readyz", "HTTPS", 3), "initialDelaySeconds": 0, "periodSeconds": 1},
        "startupProbe": probe(ip, 10259, "/livez", "HTTPS", 24),
    }
    return pod(
        "kube-scheduler",
        f"{image_repository(config)}/kube-scheduler:v{version}",
        command("kube-scheduler", flags, extra_args(config.get("scheduler"))),
        probes,
        [("kubeconfig", "/etc/kubernetes/scheduler.conf", True)],
        [host_path("kubeconfig", "/etc/kubernetes/scheduler.conf", "FileOrCreate")],
        cpu="100m",
    )


def etcd(
    version: str, node: str, ip: str, config: dict[str, Any], initial_cluster: str | None = None, joining: bool = False
) -> dict[str, Any]:
    """``initial_cluster`` is what ``kubeadm join`` writes (the members so far, this one last); ``kubeadm upgrade``
    writes only the node itself, as here by default."""
    local = (config.get("etcd") or {}).get("local") or {}
    data_dir = local.get("dataDir", str(ETCD_DATA_DIR))
    flags = {
        "advertise-client-urls": f"https://{ip}:2379",
        "cert-file": f"{PKI}/etcd/server.crt",
        "client-cert-auth": "true",
        "data-dir": data_dir,
        "experimental-initial-corrupt-check": "true",
        "experimental-watch-progress-notify-interval": "5s",
        "initial-advertise-peer-urls": f"https://{ip}:2380",
        "initial-cluster": initial_cluster or f"{node}=https://{ip}:2380",
        "key-file": f"{PKI}/etcd/server.key",
        "listen-client-urls": f"https://{ip}:2379",
        "listen-metrics-urls": f"http://{ip}:2381",
        "listen-peer-urls": f"https://{ip}:2380",
        "name": node,
        "peer-cert-file": f"{PKI}/etcd/peer.crt",
        "peer-client-cert-auth": "true",
        "peer-key-file": f"{PKI}/etcd/peer.key",
        "peer-trusted-ca-file": f"{PKI}/etcd/ca.crt",
        "snapshot-count": "10000",
        "trusted-ca-file": f"{PKI}/etcd/ca.crt",
    }
    if joining:
        flags["initial-cluster-state"] = "existing"
    tag = local.get("imageTag") or ETCD.get(minor(version), "3.6.6-0")
    probes = {
        "livenessProbe": probe(ip, 2381, "/livez", "HTTP", 8),
        "readinessProbe": {**probe(ip, 2381, "/readyz", "HTTP", 3), "initialDelaySeconds": 0, "periodSeconds": 1},
        "startupProbe": probe(ip, 2381, "/readyz", "HTTP", 24),
    }
    return pod(
        "etcd",
        f"{local.get('imageRepository') or image_repository(config)}/etcd:{tag}",
        command("etcd", flags, extra_args(local)),
        probes,
        [("etcd-data", data_dir, False), ("etcd-certs", f"{PKI}/etcd", False)],
        [
            host_path("etcd-certs", f"{PKI}/etcd", "DirectoryOrCreate"),
            host_path("etcd-data", data_dir, "DirectoryOrCreate"),
        ],
        annotations={"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"},
        cpu="100m",
    )


def image_repository(config: dict[str, Any]) -> str:
    return str(config.get("imageRepository") or IMAGE_REPOSITORY)


def render(manifest: dict[str, Any]) -> str:
    """YAML with sorted keys, as kubeadm's serializer writes it."""
    return yaml.safe_dump(manifest, sort_keys=True, default_flow_style=False)


def for_node(
    version: str, node: str, ip: str, config: dict[str, Any], initial_cluster: str | None = None, joining: bool = False
) -> dict[str, str]:
    """File name (``etcd.yaml``, ...) -> content, for one control-plane node."""
    version = version.lstrip("v")
    return {
        "etcd.yaml": render(etcd(version, node, ip, config, initial_cluster, joining)),
        "kube-apiserver.yaml": render(kube_apiserver(version, ip, config)),
        "kube-controller-manager.yaml": render(kube_controller_manager(version, ip, config)),
        "kube-scheduler.yaml": render(kube_scheduler(version, ip, config)),
    }
