"""What ``kubeadm init`` and ``kubeadm join`` leave in a cluster: the control-plane static pod manifests,
the kubeadm-config and kubelet-config ConfigMaps, and the CoreDNS and kube-proxy addons (profile ``base``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from labkit import kubeadm_rbac
from labkit.kubeadm_defaults import COREDNS, minor
from labkit.kubeclient import KubeClient
from labkit.manifests import write_manifests
from labkit.objects import config_map, create, ensure_namespace


def cluster_configuration(version: str, control_plane_endpoint: str | None) -> dict[str, Any]:
    """What ``kubeadm init`` uploads (v1beta4), ``controlPlaneEndpoint`` only when one was given."""
    config: dict[str, Any] = {
        "apiServer": {},
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "caCertificateValidityPeriod": "87600h0m0s",
        "certificateValidityPeriod": "8760h0m0s",
        "certificatesDir": "/etc/kubernetes/pki",
        "clusterName": "kubernetes",
        "controllerManager": {},
        "dns": {},
        "encryptionAlgorithm": "RSA-2048",
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "imageRepository": "registry.k8s.io",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": f"v{version.lstrip('v')}",
        "networking": {"dnsDomain": "cluster.local", "podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12"},
        "proxy": {},
        "scheduler": {},
    }
    if control_plane_endpoint:
        config["controlPlaneEndpoint"] = control_plane_endpoint
    return config


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
    endpoint = info["apiserver_url"].split("://", 1)[1]
    cluster_config = yaml.safe_dump(cluster_configuration(info["version"], endpoint), sort_keys=False)
    objects = [
        ("configmaps", config_map("kube-system", "kubeadm-config", {"ClusterConfiguration": cluster_config})),
        ("configmaps", config_map("kube-system", "kubelet-config", {"kubelet": kubelet_configuration()})),
        *coredns(info["version"]),
        *kube_proxy(info["version"]),
    ]
    for resource, obj in [*kubeadm_rbac.objects(), *objects]:
        create(client, resource, obj)
    return ["kube-system"]
