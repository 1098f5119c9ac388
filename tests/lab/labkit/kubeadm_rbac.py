"""The RBAC objects and ServiceAccounts ``kubeadm init`` writes (phases upload-config, kubelet-start,
bootstrap-token, addon), so that kubeadm's identities work under RBAC as on a real cluster: the
``kubeadm:cluster-admins`` group of admin.conf (since 1.29), nodes reading kubeadm-config and
kubelet-config with their kubelet.conf, kube-proxy and CoreDNS with their ServiceAccounts."""

from __future__ import annotations

from typing import Any

RBAC = "rbac.authorization.k8s.io/v1"
BOOTSTRAPPERS = "system:bootstrappers:kubeadm:default-node-token"


def _subjects(*entries: tuple[str, str]) -> list[dict[str, str]]:
    out = []
    for kind, name in entries:
        if kind == "ServiceAccount":
            out.append({"kind": kind, "name": name, "namespace": "kube-system"})
        else:
            out.append({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name})
    return out


def _binding(kind: str, name: str, role_kind: str, role: str, subjects: list, namespace: str | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta, "subjects": subjects,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role}}  # fmt: skip


def _role(kind: str, name: str, rules: list, namespace: str | None = None) -> dict:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": RBAC, "kind": kind, "metadata": meta, "rules": rules}


def _get_config_map(name: str) -> list[dict]:
    return [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": [name], "verbs": ["get"]}]


def objects() -> list[tuple[str, dict]]:
    """(resource plural, object), in the order kubeadm writes them."""
    sa = {"apiVersion": "v1", "kind": "ServiceAccount"}
    return [
        ("clusterrolebindings", _binding("ClusterRoleBinding", "kubeadm:cluster-admins", "ClusterRole",
                                         "cluster-admin", _subjects(("Group", "kubeadm:cluster-admins")))),
        ("roles", _role("Role", "kubeadm:nodes-kubeadm-config", _get_config_map("kubeadm-config"), "kube-system")),
        ("rolebindings", _binding("RoleBinding", "kubeadm:nodes-kubeadm-config", "Role",
                                  "kubeadm:nodes-kubeadm-config",
                                  _subjects(("Group", BOOTSTRAPPERS), ("Group", "system:nodes")), "kube-system")),
        ("roles", _role("Role", "kubeadm:kubelet-config", _get_config_map("kubelet-config"), "kube-system")),
        ("rolebindings", _binding("RoleBinding", "kubeadm:kubelet-config", "Role", "kubeadm:kubelet-config",
                                  _subjects(("Group", "system:nodes"), ("Group", BOOTSTRAPPERS)), "kube-system")),
        ("clusterroles", _role("ClusterRole", "kubeadm:get-nodes",
                               [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}])),
        ("clusterrolebindings", _binding("ClusterRoleBinding", "kubeadm:get-nodes", "ClusterRole", "kubeadm:get-nodes",
                                         _subjects(("Group", BOOTSTRAPPERS)))),
        ("clusterrolebindings", _binding("ClusterRoleBinding", "kubeadm:kubelet-bootstrap", "ClusterRole",
                                         "system:node-bootstrapper", _subjects(("Group", BOOTSTRAPPERS)))),
        ("serviceaccounts", {**sa, "metadata": {"name": "kube-proxy", "namespace": "kube-system"}}),
        ("clusterrolebindings", _binding("ClusterRoleBinding", "kubeadm:node-proxier", "ClusterRole",
                                         "system:node-proxier", _subjects(("ServiceAccount", "kube-proxy")))),
        ("roles", _role("Role", "kube-proxy", _get_config_map("kube-proxy"), "kube-system")),
        ("rolebindings", _binding("RoleBinding", "kube-proxy", "Role", "kube-proxy",
                                  _subjects(("Group", BOOTSTRAPPERS)), "kube-system")),
        ("serviceaccounts", {**sa, "metadata": {"name": "coredns", "namespace": "kube-system"}}),
        ("clusterroles", _role("ClusterRole", "system:coredns", [
            {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
             "verbs": ["list", "watch"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
        ])),
        ("clusterrolebindings", _binding("ClusterRoleBinding", "system:coredns", "ClusterRole", "system:coredns",
                                         _subjects(("ServiceAccount", "coredns")))),
    ]  # fmt: skip
