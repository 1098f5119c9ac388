"""The API resources the lab serves, with their discovery data and etcd prefixes (those of kube-apiserver)."""

from __future__ import annotations

from dataclasses import dataclass, field

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]


@dataclass(frozen=True)
class Sub:
    name: str
    kind: str
    verbs: list[str]
    group: str | None = None  # set when the subresource answers with a kind of another group (pods/eviction)
    version: str | None = None


@dataclass(frozen=True)
class Resource:
    plural: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    prefix: str  # etcd key prefix below /registry/
    short_names: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    subresources: list[Sub] = field(default_factory=list)
    generation: bool = False  # metadata.generation tracks spec changes
    verbs: list[str] = field(default_factory=lambda: list(VERBS))
    virtual: bool = False  # not stored: a create answers at once (access reviews, token reviews)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """How errors name the resource: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status(self) -> bool:
        return any(s.name == "status" for s in self.subresources)

    def sub(self, name: str) -> Sub | None:
        return next((s for s in self.subresources if s.name == name), None)


def _status(kind: str) -> Sub:
    return Sub("status", kind, STATUS_VERBS)


def _scale() -> Sub:
    return Sub("scale", "Scale", STATUS_VERBS, "autoscaling", "v1")


RBAC = "rbac.authorization.k8s.io"
AUTHZ = "authorization.k8s.io"
RESOURCES = [
    Resource("namespaces", "namespace", "Namespace", "", "v1", False, "namespaces", ["ns"],
             subresources=[_status("Namespace"), Sub("finalize", "Namespace", ["update"])],
             verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
    Resource("nodes", "node", "Node", "", "v1", False, "minions", ["no"], subresources=[_status("Node")]),
    Resource("pods", "pod", "Pod", "", "v1", True, "pods", ["po"], ["all"], generation=True, subresources=[
        Sub("binding", "Binding", ["create"]),
        Sub("eviction", "Eviction", ["create"], "policy", "v1"),
        _status("Pod"),
    ]),
    Resource("configmaps", "configmap", "ConfigMap", "", "v1", True, "configmaps", ["cm"]),
    Resource("secrets", "secret", "Secret", "", "v1", True, "secrets"),
    Resource("services", "service", "Service", "", "v1", True, "services/specs", ["svc"], ["all"],
             subresources=[_status("Service")]),
    Resource("serviceaccounts", "serviceaccount", "ServiceAccount", "", "v1", True, "serviceaccounts", ["sa"],
             subresources=[Sub("token", "TokenRequest", ["create"], "authentication.k8s.io", "v1")]),
    Resource("events", "event", "Event", "", "v1", True, "events", ["ev"]),
    Resource("endpoints", "endpoints", "Endpoints", "", "v1", True, "services/endpoints", ["ep"]),
    Resource("componentstatuses", "componentstatus", "ComponentStatus", "", "v1", False, "-", ["cs"],
             verbs=["get", "list"], virtual=True),
    Resource("deployments", "deployment", "Deployment", "apps", "v1", True, "deployments", ["deploy"], ["all"],
             generation=True, subresources=[_scale(), _status("Deployment")]),
    Resource("replicasets", "replicaset", "ReplicaSet", "apps", "v1", True, "replicasets", ["rs"], ["all"],
             generation=True, subresources=[_scale(), _status("ReplicaSet")]),
    Resource("daemonsets", "daemonset", "DaemonSet", "apps", "v1", True, "daemonsets", ["ds"], ["all"],
             generation=True, subresources=[_status("DaemonSet")]),
    Resource("statefulsets", "statefulset", "StatefulSet", "apps", "v1", True, "statefulsets", ["sts"], ["all"],
             generation=True, subresources=[_scale(), _status("StatefulSet")]),
    Resource("controllerrevisions", "controllerrevision", "ControllerRevision", "apps", "v1", True,
             "controllerrevisions"),
    Resource("jobs", "job", "Job", "batch", "v1", True, "jobs", categories=["all"], generation=True,
             subresources=[_status("Job")]),
    Resource("poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", "policy", "v1", True,
             "poddisruptionbudgets", ["pdb"], generation=True, subresources=[_status("PodDisruptionBudget")]),
    Resource("leases", "lease", "Lease", "coordination.k8s.io", "v1", True, "leases"),
    Resource("endpointslices", "endpointslice", "EndpointSlice", "discovery.k8s.io", "v1", True, "endpointslices"),
    Resource("clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", RBAC, "v1", False,
             "clusterrolebindings"),
    Resource("clusterroles", "clusterrole", "ClusterRole", RBAC, "v1", False, "clusterroles"),
    Resource("rolebindings", "rolebinding", "RoleBinding", RBAC, "v1", True, "rolebindings"),
    Resource("roles", "role", "Role", RBAC, "v1", True, "roles"),
    Resource("selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", "authentication.k8s.io", "v1", False,
             "-", verbs=["create"], virtual=True),
    Resource("tokenreviews", "tokenreview", "TokenReview", "authentication.k8s.io", "v1", False, "-",
             verbs=["create"], virtual=True),
    Resource("localsubjectaccessreviews", "localsubjectaccessreview", "LocalSubjectAccessReview", AUTHZ, "v1", True,
             "-", verbs=["create"], virtual=True),
    Resource("selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", AUTHZ, "v1", False,
             "-", verbs=["create"], virtual=True),
    Resource("selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview", AUTHZ, "v1", False,
             "-", verbs=["create"], virtual=True),
    Resource("subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", AUTHZ, "v1", False, "-",
             verbs=["create"], virtual=True),
]  # fmt: skip

# Kinds that requests carry besides the resources' own (their schemas are generated too)
SCHEMA_EXTRA_KINDS: list[tuple[str, str]] = [("v1", "DeleteOptions")]

BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
STORED = [r for r in RESOURCES if not r.virtual]
BY_NAME = {r.plural: r for r in RESOURCES}


def group_versions() -> dict[str, list[str]]:
    """Group name -> versions, in discovery order (core group "" first)."""
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return out
