"""The RBAC bootstrap policy kube-apiserver writes at start (``bootstrappolicy``): the default ClusterRoles,
ClusterRoleBindings, the kube-system Roles and the controller roles kube-controller-manager's controllers
use with ``--use-service-account-credentials``. The resources are those of a 1.33+ server, limited to
what matters for the groups the lab serves; labels and annotations as the real ones (auto-updated)."""

from __future__ import annotations

from typing import Any

READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete", "deletecollection"]
READ_WRITE = READ + WRITE
LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
ANNOTATIONS = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


def rule(verbs: list[str], groups: list[str], resources: list[str], names: list[str] | None = None) -> dict:
    out: dict[str, Any] = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        out["resourceNames"] = list(names)
    return out


def urls(verbs: list[str], paths: list[str]) -> dict:
    return {"verbs": list(verbs), "nonResourceURLs": list(paths)}


EVENTS = rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"])

NODE_RULES = [
    rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
    rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
    rule(READ, [""], ["services"]),
    rule(["create", "get", "list", "watch"], [""], ["nodes"]),
    rule(["update", "patch"], [""], ["nodes/status"]),
    rule(["update", "patch"], [""], ["nodes"]),
    rule(["create", "update", "patch"], [""], ["events"]),
    rule(READ, [""], ["pods"]),
    rule(["create", "delete"], [""], ["pods"]),
    rule(["update", "patch"], [""], ["pods/status"]),
    rule(["create"], [""], ["pods/eviction"]),
    rule(READ, [""], ["secrets", "configmaps"]),
    rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
    rule(["get"], [""], ["endpoints"]),
    rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
    rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
    rule(["get"], ["storage.k8s.io"], ["volumeattachments"]),
    rule(["get", "update", "patch"], [""], ["persistentvolumeclaims/status"]),
    rule(["create"], [""], ["serviceaccounts/token"]),
    rule(["get", "watch", "list"], ["storage.k8s.io"], ["csidrivers"]),
    rule(["get", "create", "update", "patch", "delete"], ["storage.k8s.io"], ["csinodes"]),
    rule(READ, ["node.k8s.io"], ["runtimeclasses"]),
]

CLUSTER_ROLES: dict[str, dict[str, Any]] = {
    "cluster-admin": {"rules": [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]},
    "system:discovery": {"rules": [urls(["get"], ["/livez", "/readyz", "/healthz", "/version", "/version/",
                                                  "/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"])]},
    "system:monitoring": {"rules": [urls(["get"], ["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz",
                                                   "/livez/*", "/readyz/*", "/healthz/*"])]},
    "system:basic-user": {"rules": [
        rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
        rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ]},
    "system:public-info-viewer": {"rules": [urls(["get"], ["/livez", "/readyz", "/healthz", "/version",
                                                           "/version/"])]},
    "admin": {"aggregation": "admin"},
    "edit": {"aggregation": "edit", "labels": {AGGREGATE + "admin": "true"}},
    "view": {"aggregation": "view", "labels": {AGGREGATE + "edit": "true"}},
    "system:aggregate-to-admin": {"labels": {AGGREGATE + "admin": "true"}, "rules": [
        rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
        rule(READ_WRITE, ["rbac.authorization.k8s.io"], ["roles", "rolebindings"]),
    ]},
    "system:aggregate-to-edit": {"labels": {AGGREGATE + "edit": "true"}, "rules": [
        rule(READ, [""], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
        rule(["impersonate"], [""], ["serviceaccounts"]),
        rule(WRITE, [""], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        rule(["create"], [""], ["pods/eviction"]),
        rule(WRITE, [""], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                           "services/proxy", "persistentvolumeclaims", "configmaps", "secrets"]),
        rule(["create"], [""], ["serviceaccounts/token"]),
        rule(WRITE, ["apps"], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments",
                               "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"]),
        rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
        rule(WRITE, ["batch"], ["jobs", "cronjobs"]),
        rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
        rule(WRITE, ["networking.k8s.io"], ["networkpolicies", "ingresses"]),
        rule(["create", "delete", "deletecollection", "patch", "update"], ["coordination.k8s.io"], ["leases"]),
    ]},
    "system:aggregate-to-view": {"labels": {AGGREGATE + "view": "true"}, "rules": [
        rule(READ, [""], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
                          "services", "services/status", "endpoints", "persistentvolumeclaims",
                          "persistentvolumeclaims/status", "configmaps"]),
        rule(READ, [""], ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
                          "namespaces/status", "replicationcontrollers/status", "pods/log"]),
        rule(READ, [""], ["namespaces"]),
        rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
        rule(READ, ["apps"], ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale",
                              "daemonsets", "daemonsets/status", "deployments", "deployments/status",
                              "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale"]),
        rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        rule(READ, ["batch"], ["jobs", "jobs/status", "cronjobs", "cronjobs/status"]),
        rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(READ, ["networking.k8s.io"], ["networkpolicies", "ingresses", "ingresses/status"]),
        rule(READ, ["coordination.k8s.io"], ["leases"]),
    ]},
    "system:heapster": {"rules": [rule(READ, [""], ["events", "pods", "nodes", "namespaces"])]},
    "system:node": {"rules": NODE_RULES},
    "system:node-proxier": {"rules": [
        rule(["list", "watch"], [""], ["services", "endpoints"]),
        rule(["get", "list", "watch"], [""], ["nodes"]),
        EVENTS,
        rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
    ]},
    "system:kube-controller-manager": {"rules": [
        EVENTS,
        rule(["create"], ["coordination.k8s.io"], ["leases"]),
        rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-controller-manager"]),
        rule(["create"], [""], ["secrets", "serviceaccounts"]),
        rule(["delete"], [""], ["secrets"]),
        rule(["get"], [""], ["namespaces", "secrets", "serviceaccounts", "configmaps"]),
        rule(["update"], [""], ["secrets", "serviceaccounts"]),
        rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        rule(["list", "watch"], ["*"], ["*"]),
        rule(["create"], [""], ["serviceaccounts/token"]),
    ]},
    "system:kube-scheduler": {"rules": [
        EVENTS,
        rule(["create"], ["coordination.k8s.io"], ["leases"]),
        rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
        rule(READ, [""], ["nodes"]),
        rule(["get", "list", "watch", "delete"], [""], ["pods"]),
        rule(["create"], [""], ["bindings", "pods/binding"]),
        rule(["patch", "update"], [""], ["pods/status"]),
        rule(READ, [""], ["replicationcontrollers", "services"]),
        rule(READ, ["apps", "extensions"], ["replicasets"]),
        rule(READ, ["apps"], ["statefulsets"]),
        rule(READ, ["policy"], ["poddisruptionbudgets"]),
        rule(READ, [""], ["persistentvolumeclaims", "persistentvolumes"]),
        rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
        rule(READ, ["storage.k8s.io"], ["csinodes"]),
        rule(READ, [""], ["namespaces"]),
        rule(READ, ["storage.k8s.io"], ["csidrivers", "csistoragecapacities"]),
    ]},
    "system:auth-delegator": {"rules": [
        rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
    ]},
    "system:service-account-issuer-discovery": {"rules": [urls(["get"], ["/.well-known/openid-configuration",
                                                                         "/.well-known/openid-configuration/",
                                                                         "/openid/v1/jwks", "/openid/v1/jwks/"])]},
}  # fmt: skip

CLUSTER_ROLE_BINDINGS: dict[str, tuple[str, list[tuple[str, str]]]] = {  # name -> (role, [(kind, name)])
    "cluster-admin": ("cluster-admin", [("Group", "system:masters")]),
    "system:monitoring": ("system:monitoring", [("Group", "system:monitoring")]),
    "system:discovery": ("system:discovery", [("Group", "system:authenticated")]),
    "system:basic-user": ("system:basic-user", [("Group", "system:authenticated")]),
    "system:public-info-viewer": ("system:public-info-viewer", [("Group", "system:authenticated"),
                                                                ("Group", "system:unauthenticated")]),
    "system:node-proxier": ("system:node-proxier", [("User", "system:kube-proxy")]),
    "system:kube-controller-manager": ("system:kube-controller-manager", [("User", "system:kube-controller-manager")]),
    "system:kube-scheduler": ("system:kube-scheduler", [("User", "system:kube-scheduler")]),
    "system:node": ("system:node", []),
    "system:service-account-issuer-discovery": ("system:service-account-issuer-discovery",
                                                [("Group", "system:serviceaccounts")]),
}  # fmt: skip

# kube-controller-manager's controllers, each with its service account in kube-system (system:controller:<name>)
CONTROLLER_ROLES: dict[str, list[dict]] = {
    "replicaset-controller": [
        rule(["get", "list", "watch", "update"], ["apps", "extensions"], ["replicasets"]),
        rule(["update"], ["apps", "extensions"], ["replicasets/status"]),
        rule(["update"], ["apps", "extensions"], ["replicasets/finalizers"]),
        rule(["list", "watch", "patch", "create", "delete"], [""], ["pods"]),
        EVENTS,
    ],
    "deployment-controller": [
        rule(["get", "list", "watch", "update"], ["apps", "extensions"], ["deployments"]),
        rule(["update"], ["apps", "extensions"], ["deployments/status"]),
        rule(["update"], ["apps", "extensions"], ["deployments/finalizers"]),
        rule(["get", "list", "watch", "create", "update", "patch", "delete"], ["apps", "extensions"], ["replicasets"]),
        rule(["get", "list", "watch", "update"], [""], ["pods"]),
        EVENTS,
    ],
    "daemon-set-controller": [
        rule(["get", "list", "watch"], ["apps", "extensions"], ["daemonsets"]),
        rule(["update"], ["apps", "extensions"], ["daemonsets/status"]),
        rule(["update"], ["apps", "extensions"], ["daemonsets/finalizers"]),
        rule(["list", "watch"], [""], ["nodes"]),
        rule(["list", "watch", "create", "delete", "patch"], [""], ["pods"]),
        rule(["create"], [""], ["pods/binding"]),
        rule(["get", "list", "watch", "create", "delete", "update", "patch"], ["apps"], ["controllerrevisions"]),
        EVENTS,
    ],
    "statefulset-controller": [
        rule(["list", "watch"], [""], ["pods"]),
        rule(["list", "watch"], ["apps"], ["statefulsets"]),
        rule(["get"], ["apps"], ["statefulsets"]),
        rule(["update"], ["apps"], ["statefulsets/status"]),
        rule(["update"], ["apps"], ["statefulsets/finalizers"]),
        rule(["get", "create", "delete", "update", "patch"], [""], ["pods"]),
        rule(["get", "create", "delete", "update", "patch", "list", "watch"], ["apps"], ["controllerrevisions"]),
        rule(["get", "create"], [""], ["persistentvolumeclaims"]),
        rule(["update", "delete"], [""], ["persistentvolumeclaims"]),
        EVENTS,
    ],
    "job-controller": [
        rule(["get", "list", "watch", "update", "patch"], ["batch"], ["jobs"]),
        rule(["update"], ["batch"], ["jobs/status"]),
        rule(["update", "patch"], ["batch"], ["jobs/finalizers"]),
        rule(["list", "watch", "create", "delete", "patch"], [""], ["pods"]),
        EVENTS,
    ],
    "ttl-after-finished-controller": [rule(["get", "list", "watch", "delete"], ["batch"], ["jobs"]), EVENTS],
    "disruption-controller": [
        rule(["get", "list", "watch"], ["apps", "extensions"], ["deployments"]),
        rule(["get", "list", "watch"], ["apps", "extensions"], ["replicasets"]),
        rule(["get", "list", "watch"], [""], ["replicationcontrollers"]),
        rule(["get", "list", "watch"], ["policy"], ["poddisruptionbudgets"]),
        rule(["get", "list", "watch"], ["apps"], ["statefulsets"]),
        rule(["update"], ["policy"], ["poddisruptionbudgets/status"]),
        rule(["get"], ["*"], ["*/scale"]),
        rule(["patch", "update"], [""], ["pods/status"]),
        EVENTS,
    ],
    "namespace-controller": [
        rule(["get", "list", "watch", "delete"], [""], ["namespaces"]),
        rule(["update"], [""], ["namespaces/finalize", "namespaces/status"]),
        rule(["get", "list", "delete", "deletecollection"], ["*"], ["*"]),
    ],
    "generic-garbage-collector": [rule(["get", "list", "watch", "patch", "update", "delete"], ["*"], ["*"]), EVENTS],
    "pod-garbage-collector": [
        rule(["list", "watch", "delete"], [""], ["pods"]),
        rule(["get", "list"], [""], ["nodes"]),
        rule(["patch"], [""], ["pods/status"]),
    ],
    "node-controller": [
        rule(["get", "list", "update", "delete", "patch"], [""], ["nodes"]),
        rule(["patch", "update"], [""], ["nodes/status"]),
        rule(["patch", "update"], [""], ["pods/status"]),
        rule(["list", "delete"], [""], ["pods"]),
        EVENTS,
    ],
    "service-account-controller": [rule(["create"], [""], ["serviceaccounts"]), EVENTS],
    "root-ca-cert-publisher": [rule(["create", "update"], [""], ["configmaps"]), EVENTS],
    "clusterrole-aggregation-controller": [
        rule(["escalate", "get", "list", "patch", "update", "watch"], ["rbac.authorization.k8s.io"], ["clusterroles"]),
    ],
}  # fmt: skip

# Roles in kube-system (namespace_policy.go), with their bindings
KUBE_SYSTEM_ROLES: dict[str, tuple[list[dict], list[tuple[str, str]]]] = {
    "extension-apiserver-authentication-reader": (
        [rule(["get", "list", "watch"], [""], ["configmaps"], ["extension-apiserver-authentication"])],
        [("User", "system:kube-controller-manager"), ("User", "system:kube-scheduler")],
    ),
    "system::leader-locking-kube-controller-manager": (
        [rule(["watch"], [""], ["configmaps"]),
         rule(["get", "update"], [""], ["configmaps"], ["kube-controller-manager"])],
        [("User", "system:kube-controller-manager")],
    ),
    "system::leader-locking-kube-scheduler": (
        [rule(["watch"], [""], ["configmaps"]), rule(["get", "update"], [""], ["configmaps"], ["kube-scheduler"])],
        [("User", "system:kube-scheduler")],
    ),
}  # fmt: skip


def _meta(name: str, namespace: str | None = None, labels: dict | None = None) -> dict:
    meta: dict[str, Any] = {"name": name, "labels": {**LABELS, **(labels or {})}, "annotations": dict(ANNOTATIONS)}
    if namespace:
        meta["namespace"] = namespace
    return meta


def subjects(entries: list[tuple[str, str]]) -> list[dict]:
    out = []
    for kind, name in entries:
        if kind == "ServiceAccount":
            namespace, sa = name.split("/", 1)
            out.append({"kind": kind, "name": sa, "namespace": namespace})
        else:
            out.append({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name})
    return out


def role_ref(kind: str, name: str) -> dict:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


def objects() -> list[tuple[str, dict]]:
    """(resource plural, object) of the whole bootstrap policy, in the order the server writes them."""
    out: list[tuple[str, dict]] = []
    api = "rbac.authorization.k8s.io/v1"
    for name, spec in CLUSTER_ROLES.items():
        role: dict[str, Any] = {
            "apiVersion": api,
            "kind": "ClusterRole",
            "metadata": _meta(name, labels=spec.get("labels")),
        }
        if "aggregation" in spec:
            selector = {"matchLabels": {AGGREGATE + spec["aggregation"]: "true"}}
            role["aggregationRule"] = {"clusterRoleSelectors": [selector]}
            role["rules"] = []
        else:
            role["rules"] = spec["rules"]
        out.append(("clusterroles", role))
    for name, rules in CONTROLLER_ROLES.items():
        out.append(("clusterroles", {"apiVersion": api, "kind": "ClusterRole",
                                     "metadata": _meta(f"system:controller:{name}"), "rules": rules}))  # fmt: skip
    for name, (role_name, entries) in CLUSTER_ROLE_BINDINGS.items():
        out.append(("clusterrolebindings", {"apiVersion": api, "kind": "ClusterRoleBinding", "metadata": _meta(name),
                                            "roleRef": role_ref("ClusterRole", role_name),
                                            "subjects": subjects(entries)}))  # fmt: skip
    for name in CONTROLLER_ROLES:
        full = f"system:controller:{name}"
        account = subjects([("ServiceAccount", f"kube-system/{name}")])
        binding = {"apiVersion": api, "kind": "ClusterRoleBinding", "metadata": _meta(full),
                   "roleRef": role_ref("ClusterRole", full), "subjects": account}  # fmt: skip
        out.append(("clusterrolebindings", binding))
    for name, (rules, entries) in KUBE_SYSTEM_ROLES.items():
        out.append(("roles", {"apiVersion": api, "kind": "Role", "metadata": _meta(name, "kube-system"),
                              "rules": rules}))  # fmt: skip
        out.append(("rolebindings", {"apiVersion": api, "kind": "RoleBinding",
                                     "metadata": _meta(name if name.startswith("system::") else f"system::{name}",
                                                       "kube-system"),
                                     "roleRef": role_ref("Role", name), "subjects": subjects(entries)}))  # fmt: skip
    return out
