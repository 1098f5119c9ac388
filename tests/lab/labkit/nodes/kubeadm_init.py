"""What ``kubeadm init`` (first control plane) and ``kubeadm join`` (the others) leave on the nodes and in the
cluster, done by the lab from the host: the node's /etc/kubernetes (pki with kubeadm's file names, kubeconfigs,
static pod manifests), /var/lib/kubelet (config.yaml, kubeadm-flags.env), then the control-plane label and taint
and the kube-system objects (kubeadm-config, kubelet-config, CoreDNS, kube-proxy).

Certificates: one cluster CA, etcd CA, front-proxy CA and service-account key pair (``<state dir>/pki``), copied to
every control plane as ``kubeadm join --control-plane`` does; each control plane gets its own serving and client
certificates. Workers get the CA and their kubelet.conf. admin.conf is the ``kubernetes-admin`` user of group
``kubeadm:cluster-admins`` (kubeadm >= 1.29), super-admin.conf (first control plane only) ``system:masters``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from labkit import kubeadm_rbac, pki
from labkit.bootstrap import coredns, kube_proxy
from labkit.kubeadm import config as kubeadm_config
from labkit.kubeadm import manifests
from labkit.kubeadm.constants import CONTROL_PLANE_LABEL
from labkit.kubeclient import ApiError, KubeClient, path
from labkit.nodes.node_setup import Node, write
from labkit.objects import config_map, create

SHARED = [
    "ca.crt",
    "ca.key",
    "sa.key",
    "sa.pub",
    "front-proxy-ca.crt",
    "front-proxy-ca.key",
    "etcd/ca.crt",
    "etcd/ca.key",
]
PER_NODE = [
    "apiserver",
    "apiserver-kubelet-client",
    "apiserver-etcd-client",
    "front-proxy-client",
    "etcd/server",
    "etcd/peer",
    "etcd/healthcheck-client",
]


def control_plane_pki(shared: Path, scratch: Path, root: Path, node: Node, extra_sans: list[str]) -> None:
    """/etc/kubernetes/pki of a control plane: the shared CAs and keys, and its own leaf certificates (new ones:
    the node's address may have changed since a previous lab in this state dir)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for name in SHARED:
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shared / name, scratch / name)
    pki.create_pki(scratch, hosts=[node.ip, node.name, "10.96.0.1", *extra_sans])
    target = root / "etc/kubernetes/pki"
    for name in SHARED + [f"{leaf}.{ext}" for leaf in PER_NODE for ext in ("crt", "key")]:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(scratch / name, target / name)


def kubeconfig(
    shared: Path, root: Path, relative: str, server: str, identity: str, user: str, group: str | None
) -> None:
    cert, key = pki.client_cert(shared, identity, user, group)
    target = root / relative.lstrip("/")
    pki.write_kubeconfig(target, server, shared, user=user, cert=cert, key=key)


def write_node_files(
    shared: Path, scratch: Path, root: Path, node: Node, endpoint: str, first: bool, load_balancer: str | None
) -> None:
    """Everything kubeadm writes on the node except the static pod manifests."""
    write(root, "/etc/kubernetes/pki/ca.crt", (shared / "ca.crt").read_bytes())
    kubeconfig(
        shared,
        root,
        "/etc/kubernetes/kubelet.conf",
        endpoint,
        f"kubelet-{node.name}",
        f"system:node:{node.name}",
        "system:nodes",
    )
    write(root, "/var/lib/kubelet/config.yaml", kubeadm_config.kubelet_config_yaml())
    write(root, "/var/lib/kubelet/kubeadm-flags.env", kubeadm_config.kubeadm_flags_env(node.ip))
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
    if not node.control_plane:
        return
    control_plane_pki(shared, scratch, root, node, [load_balancer] if load_balancer else [])
    local = f"https://{node.ip}:6443"
    kubeconfig(
        shared,
        root,
        "/etc/kubernetes/admin.conf",
        endpoint,
        "kubeadm-admin",
        "kubernetes-admin",
        "kubeadm:cluster-admins",
    )
    if first:
        kubeconfig(
            shared,
            root,
            "/etc/kubernetes/super-admin.conf",
            endpoint,
            "kubeadm-super-admin",
            "kubernetes-super-admin",
            "system:masters",
        )
    kubeconfig(
        shared,
        root,
        "/etc/kubernetes/controller-manager.conf",
        local,
        "kubeadm-controller-manager",
        "system:kube-controller-manager",
        None,
    )
    kubeconfig(
        shared, root, "/etc/kubernetes/scheduler.conf", local, "kubeadm-scheduler", "system:kube-scheduler", None
    )


def write_manifests(
    root: Path, node: Node, cluster_config: dict[str, Any], initial_cluster: str | None, joining: bool
) -> None:
    directory = root / "etc/kubernetes/manifests"
    for name, text in manifests.for_node(
        node.version, node.name, node.ip, cluster_config, initial_cluster, joining
    ).items():
        write(directory, name, text, 0o600)


def mark_control_plane(client: KubeClient, name: str) -> None:
    """kubeadm's mark-control-plane phase: the role label, the load-balancer exclusion label and the taint."""
    labels = {CONTROL_PLANE_LABEL: "", "node.kubernetes.io/exclude-from-external-load-balancers": ""}
    node = client.get(path("nodes", name=name))
    taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") != CONTROL_PLANE_LABEL]
    taints.append({"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"})
    client.patch(path("nodes", name=name), {"metadata": {"labels": labels}, "spec": {"taints": taints}})


def upload_cluster_objects(client: KubeClient, cluster_config: dict[str, Any], version: str) -> None:
    """kubeadm init's upload-config, kubelet-config and addon phases (idempotent)."""
    objects = [
        (
            "configmaps",
            config_map("kube-system", "kubeadm-config", {"ClusterConfiguration": kubeadm_config.dump(cluster_config)}),
        ),
        ("configmaps", config_map("kube-system", "kubelet-config", {"kubelet": kubeadm_config.kubelet_config_yaml()})),
        *coredns(version),
        *kube_proxy(version),
    ]
    for resource, obj in [*kubeadm_rbac.objects(), *objects]:
        create(client, resource, obj)


def bind_cluster_admins(client: KubeClient) -> None:
    """kubeadm init's binding of its admin.conf group ``kubeadm:cluster-admins`` to cluster-admin (with
    super-admin.conf, since admin.conf can do nothing before it exists); idempotent."""
    admins = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "kubeadm:cluster-admins"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kubeadm:cluster-admins"}],
    }
    try:  # only where the API server serves RBAC
        client.create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", admins)
    except ApiError as exc:
        if exc.status not in (404, 409):
            raise
