# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every API version Kubernetes stopped serving since 1.16, as data: one row per group/version/kind.

Source: the Deprecated API Migration Guide, https://kubernetes.io/docs/reference/using-api/deprecation-guide/
(kubernetes/website, content/en/docs/reference/using-api/deprecation-guide.md), section "Removed APIs by
release". Each row names its section (the anchor of the guide's heading, e.g. ``#ingress-v122``). ``migration``
is the guide's "Notable changes" in one line: what must change besides ``apiVersion`` (None where the guide says
"No notable changes" or lists none). ``replacement`` is the API version the guide says to migrate to (None: the
guide names no replacement), ``replacement_since`` the release the guide says it is available from.

How to update it: docs/api_removals.md, "Updating the table".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

GUIDE_URL = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"


@dataclass(frozen=True)
class Removal:
    """One API version of one kind that a release stopped serving."""

    api_version: str  # group/version as written in manifests: "extensions/v1beta1"
    kind: str
    resource: str  # the plural the API server's metrics and URLs use
    removed_in: str  # the minor that stopped serving it: "1.22"
    replacement: Optional[str]
    replacement_since: Optional[str]
    migration: Optional[str]
    section: str  # the guide's anchor
    namespaced: bool = True
    persisted: bool = True  # False: a review kind that is only created, never stored (nothing to list)

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def guide(self) -> str:
        return f"{GUIDE_URL}#{self.section}"


# -- the migration notes, as the guide words them (shortened to one line each) ------------------------------

_SELECTOR = "spec.selector is required and immutable after creation (use the existing template labels as the selector)"
_DAEMONSET = (
    "spec.templateGeneration is removed; "
    + _SELECTOR
    + "; spec.updateStrategy.type defaults to RollingUpdate (extensions/v1beta1: OnDelete)"
)
_DEPLOYMENT = (
    "spec.rollbackTo is removed; "
    + _SELECTOR
    + "; spec.progressDeadlineSeconds defaults to 600 (extensions/v1beta1: no deadline); "
    "spec.revisionHistoryLimit defaults to 10 (apps/v1beta1: 2, extensions/v1beta1: retain all); "
    "maxSurge and maxUnavailable default to 25% (extensions/v1beta1: 1)"
)
_STATEFULSET = _SELECTOR + "; spec.updateStrategy.type defaults to RollingUpdate (apps/v1beta1: OnDelete)"
_PSP_116 = "policy/v1beta1 is itself removed in v1.25, where PodSecurityPolicy has no replacement"
_WEBHOOKS = (
    "webhooks[*].failurePolicy defaults to Fail (was Ignore), matchPolicy to Equivalent (was Exact), "
    "timeoutSeconds to 10s (was 30s); webhooks[*].sideEffects is required (None or NoneOnDryRun) and "
    "webhooks[*].admissionReviewVersions is required; webhooks[*].name must be unique in the list"
)
_CRD = (
    "spec.scope must be set (no default Namespaced); spec.version, spec.validation, spec.subresources and "
    "spec.additionalPrinterColumns move into spec.versions[*] (version, schema, subresources, "
    "additionalPrinterColumns); spec.conversion.webhookClientConfig moves to spec.conversion.webhook.clientConfig "
    "and spec.conversion.conversionReviewVersions to spec.conversion.webhook.conversionReviewVersions; "
    "spec.versions[*].schema.openAPIV3Schema is required and must be a structural schema; "
    "spec.preserveUnknownFields: true is not allowed (use x-kubernetes-preserve-unknown-fields: true in the "
    "schema); additionalPrinterColumns[*].JSONPath is renamed to jsonPath"
)
_SAR = "spec.group is renamed to spec.groups"
_CSR = (
    "spec.signerName is required (kubernetes.io/legacy-unknown cannot be requested); spec.usages is required, "
    "without duplicates, known usages only; for approvers and signers: status.conditions without duplicate types, "
    "status.conditions[*].status required, status.certificate PEM with CERTIFICATE blocks only"
)
_INGRESS = (
    "spec.backend is renamed to spec.defaultBackend; backend serviceName becomes service.name, a numeric "
    "servicePort service.port.number, a string servicePort service.port.name; every path needs a pathType "
    "(Prefix, Exact or ImplementationSpecific; ImplementationSpecific matches v1beta1's behaviour)"
)
_ENDPOINTSLICE = (
    'endpoints[*].topology["kubernetes.io/hostname"] becomes endpoints[*].nodeName and '
    'topology["topology.kubernetes.io/zone"] endpoints[*].zone; topology becomes deprecatedTopology, '
    "which is not writable"
)
_EVENT = (
    "type is Normal or Warning only; involvedObject is renamed to regarding; action, reason, reportingController "
    "and reportingInstance are required on create; firstTimestamp, lastTimestamp, count, source.component and "
    "source.host are replaced by eventTime, series.lastObservedTime, series.count, reportingController and "
    "reportingInstance (the old fields are renamed deprecated* and not allowed in new Events)"
)
_HPA = "targetAverageUtilization is replaced by target.averageUtilization with target.type: Utilization"
_PDB = (
    "an empty spec.selector ({}) selects every pod of the namespace in policy/v1 (none in policy/v1beta1); "
    "an unset spec.selector selects none in both"
)
_PSP_125 = (
    "no replacement: migrate to Pod Security Admission or a third-party admission webhook "
    "(https://kubernetes.io/docs/tasks/configure-pod-container/migrate-from-psp/)"
)
_PLC_129 = (
    "spec.limited.assuredConcurrencyShares is renamed to spec.limited.nominalConcurrencyShares, which defaults to "
    "30 only when unset (an explicit 0 stays 0)"
)
_FLOWCONTROL_V1_FROM_129 = (
    "flowcontrol.apiserver.k8s.io/v1 is served from v1.29: a manifest that must still apply to v1.28 uses "
    "flowcontrol.apiserver.k8s.io/v1beta3 (served since v1.26, removed in v1.32)"
)
_PLC_132 = "spec.limited.nominalConcurrencyShares defaults to 30 only when unset: an explicit 0 is no longer 30"


def _rows(
    api_versions: tuple[str, ...],
    kind: str,
    resource: str,
    removed_in: str,
    replacement: Optional[str],
    since: Optional[str],
    migration: Optional[str],
    section: str,
    namespaced: bool = True,
    persisted: bool = True,
) -> list[Removal]:
    return [
        Removal(v, kind, resource, removed_in, replacement, since, migration, section, namespaced, persisted)
        for v in api_versions
    ]


REMOVALS: tuple[Removal, ...] = tuple(
    # v1.16 (guide section "v1.16")
    _rows(("extensions/v1beta1",), "NetworkPolicy", "networkpolicies", "1.16", "networking.k8s.io/v1", "1.8", None,
          "networkpolicy-v116")
    + _rows(("extensions/v1beta1", "apps/v1beta2"), "DaemonSet", "daemonsets", "1.16", "apps/v1", "1.9", _DAEMONSET,
            "daemonset-v116")
    + _rows(("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"), "Deployment", "deployments", "1.16", "apps/v1",
            "1.9", _DEPLOYMENT, "deployment-v116")
    + _rows(("apps/v1beta1", "apps/v1beta2"), "StatefulSet", "statefulsets", "1.16", "apps/v1", "1.9", _STATEFULSET,
            "statefulset-v116")
    + _rows(("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2"), "ReplicaSet", "replicasets", "1.16", "apps/v1",
            "1.9", _SELECTOR, "replicaset-v116")
    + _rows(("extensions/v1beta1",), "PodSecurityPolicy", "podsecuritypolicies", "1.16", "policy/v1beta1", "1.10",
            _PSP_116, "psp-v116", namespaced=False)
    # v1.22 (guide section "v1.22")
    + _rows(("admissionregistration.k8s.io/v1beta1",), "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations", "1.22", "admissionregistration.k8s.io/v1", "1.16", _WEBHOOKS,
            "webhook-resources-v122", namespaced=False)
    + _rows(("admissionregistration.k8s.io/v1beta1",), "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations", "1.22", "admissionregistration.k8s.io/v1", "1.16", _WEBHOOKS,
            "webhook-resources-v122", namespaced=False)
    + _rows(("apiextensions.k8s.io/v1beta1",), "CustomResourceDefinition", "customresourcedefinitions", "1.22",
            "apiextensions.k8s.io/v1", "1.16", _CRD, "customresourcedefinition-v122", namespaced=False)
    + _rows(("apiregistration.k8s.io/v1beta1",), "APIService", "apiservices", "1.22", "apiregistration.k8s.io/v1",
            "1.10", None, "apiservice-v122", namespaced=False)
    + _rows(("authentication.k8s.io/v1beta1",), "TokenReview", "tokenreviews", "1.22", "authentication.k8s.io/v1",
            "1.6", None, "tokenreview-v122", namespaced=False, persisted=False)
    + _rows(("authorization.k8s.io/v1beta1",), "LocalSubjectAccessReview", "localsubjectaccessreviews", "1.22",
            "authorization.k8s.io/v1", "1.6", _SAR, "subjectaccessreview-resources-v122", persisted=False)
    + _rows(("authorization.k8s.io/v1beta1",), "SelfSubjectAccessReview", "selfsubjectaccessreviews", "1.22",
            "authorization.k8s.io/v1", "1.6", _SAR, "subjectaccessreview-resources-v122", namespaced=False,
            persisted=False)
    + _rows(("authorization.k8s.io/v1beta1",), "SubjectAccessReview", "subjectaccessreviews", "1.22",
            "authorization.k8s.io/v1", "1.6", _SAR, "subjectaccessreview-resources-v122", namespaced=False,
            persisted=False)
    + _rows(("authorization.k8s.io/v1beta1",), "SelfSubjectRulesReview", "selfsubjectrulesreviews", "1.22",
            "authorization.k8s.io/v1", "1.6", _SAR, "subjectaccessreview-resources-v122", namespaced=False,
            persisted=False)
    + _rows(("certificates.k8s.io/v1beta1",), "CertificateSigningRequest", "certificatesigningrequests", "1.22",
            "certificates.k8s.io/v1", "1.19", _CSR, "certificatesigningrequest-v122", namespaced=False)
    + _rows(("coordination.k8s.io/v1beta1",), "Lease", "leases", "1.22", "coordination.k8s.io/v1", "1.14", None,
            "lease-v122")
    + _rows(("extensions/v1beta1", "networking.k8s.io/v1beta1"), "Ingress", "ingresses", "1.22",
            "networking.k8s.io/v1", "1.19", _INGRESS, "ingress-v122")
    + _rows(("networking.k8s.io/v1beta1",), "IngressClass", "ingressclasses", "1.22", "networking.k8s.io/v1", "1.19",
            None, "ingressclass-v122", namespaced=False)
    + _rows(("rbac.authorization.k8s.io/v1beta1",), "ClusterRole", "clusterroles", "1.22",
            "rbac.authorization.k8s.io/v1", "1.8", None, "rbac-resources-v122", namespaced=False)
    + _rows(("rbac.authorization.k8s.io/v1beta1",), "ClusterRoleBinding", "clusterrolebindings", "1.22",
            "rbac.authorization.k8s.io/v1", "1.8", None, "rbac-resources-v122", namespaced=False)
    + _rows(("rbac.authorization.k8s.io/v1beta1",), "Role", "roles", "1.22", "rbac.authorization.k8s.io/v1", "1.8",
            None, "rbac-resources-v122")
    + _rows(("rbac.authorization.k8s.io/v1beta1",), "RoleBinding", "rolebindings", "1.22",
            "rbac.authorization.k8s.io/v1", "1.8", None, "rbac-resources-v122")
    + _rows(("scheduling.k8s.io/v1beta1",), "PriorityClass", "priorityclasses", "1.22", "scheduling.k8s.io/v1",
            "1.14", None, "priorityclass-v122", namespaced=False)
    + _rows(("storage.k8s.io/v1beta1",), "CSIDriver", "csidrivers", "1.22", "storage.k8s.io/v1", "1.19", None,
            "storage-resources-v122", namespaced=False)
    + _rows(("storage.k8s.io/v1beta1",), "CSINode", "csinodes", "1.22", "storage.k8s.io/v1", "1.17", None,
            "storage-resources-v122", namespaced=False)
    + _rows(("storage.k8s.io/v1beta1",), "StorageClass", "storageclasses", "1.22", "storage.k8s.io/v1", "1.6", None,
            "storage-resources-v122", namespaced=False)
    + _rows(("storage.k8s.io/v1beta1",), "VolumeAttachment", "volumeattachments", "1.22", "storage.k8s.io/v1",
            "1.13", None, "storage-resources-v122", namespaced=False)
    # v1.25 (guide section "v1.25")
    + _rows(("batch/v1beta1",), "CronJob", "cronjobs", "1.25", "batch/v1", "1.21", None, "cronjob-v125")
    + _rows(("discovery.k8s.io/v1beta1",), "EndpointSlice", "endpointslices", "1.25", "discovery.k8s.io/v1", "1.21",
            _ENDPOINTSLICE, "endpointslice-v125")
    + _rows(("events.k8s.io/v1beta1",), "Event", "events", "1.25", "events.k8s.io/v1", "1.19", _EVENT, "event-v125")
    + _rows(("autoscaling/v2beta1",), "HorizontalPodAutoscaler", "horizontalpodautoscalers", "1.25",
            "autoscaling/v2", "1.23", _HPA, "horizontalpodautoscaler-v125")
    + _rows(("policy/v1beta1",), "PodDisruptionBudget", "poddisruptionbudgets", "1.25", "policy/v1", "1.21", _PDB,
            "poddisruptionbudget-v125")
    + _rows(("policy/v1beta1",), "PodSecurityPolicy", "podsecuritypolicies", "1.25", None, None, _PSP_125,
            "psp-v125", namespaced=False)
    + _rows(("node.k8s.io/v1beta1",), "RuntimeClass", "runtimeclasses", "1.25", "node.k8s.io/v1", "1.20", None,
            "runtimeclass-v125", namespaced=False)
    # v1.26 (guide section "v1.26"); v1beta2 is available since v1.23 (an earlier revision of the guide says so)
    + _rows(("flowcontrol.apiserver.k8s.io/v1beta1",), "FlowSchema", "flowschemas", "1.26",
            "flowcontrol.apiserver.k8s.io/v1beta2", "1.23", None, "flowcontrol-resources-v126", namespaced=False)
    + _rows(("flowcontrol.apiserver.k8s.io/v1beta1",), "PriorityLevelConfiguration", "prioritylevelconfigurations",
            "1.26", "flowcontrol.apiserver.k8s.io/v1beta2", "1.23", None, "flowcontrol-resources-v126",
            namespaced=False)
    + _rows(("autoscaling/v2beta2",), "HorizontalPodAutoscaler", "horizontalpodautoscalers", "1.26",
            "autoscaling/v2", "1.23", _HPA, "horizontalpodautoscaler-v126")
    # v1.27 (guide section "v1.27")
    + _rows(("storage.k8s.io/v1beta1",), "CSIStorageCapacity", "csistoragecapacities", "1.27", "storage.k8s.io/v1",
            "1.24", None, "csistoragecapacity-v127")
    # v1.29 (guide section "v1.29")
    + _rows(("flowcontrol.apiserver.k8s.io/v1beta2",), "FlowSchema", "flowschemas", "1.29",
            "flowcontrol.apiserver.k8s.io/v1", "1.29", _FLOWCONTROL_V1_FROM_129, "flowcontrol-resources-v129",
            namespaced=False)
    + _rows(("flowcontrol.apiserver.k8s.io/v1beta2",), "PriorityLevelConfiguration", "prioritylevelconfigurations",
            "1.29", "flowcontrol.apiserver.k8s.io/v1", "1.29", _PLC_129 + "; " + _FLOWCONTROL_V1_FROM_129,
            "flowcontrol-resources-v129", namespaced=False)
    # v1.32 (guide section "v1.32"): the newest release the guide lists
    + _rows(("flowcontrol.apiserver.k8s.io/v1beta3",), "FlowSchema", "flowschemas", "1.32",
            "flowcontrol.apiserver.k8s.io/v1", "1.29", None, "flowcontrol-resources-v132", namespaced=False)
    + _rows(("flowcontrol.apiserver.k8s.io/v1beta3",), "PriorityLevelConfiguration", "prioritylevelconfigurations",
            "1.32", "flowcontrol.apiserver.k8s.io/v1", "1.29", _PLC_132, "flowcontrol-resources-v132",
            namespaced=False)
)  # fmt: skip

BY_API_VERSION_KIND: dict[tuple[str, str], Removal] = {(r.api_version, r.kind): r for r in REMOVALS}
BY_RESOURCE: dict[tuple[str, str, str], Removal] = {(r.group, r.version, r.resource): r for r in REMOVALS}


def lookup(api_version: str, kind: str) -> Optional[Removal]:
    """The removal of ``kind`` in ``api_version``, or None when that API version is not removed."""
    return BY_API_VERSION_KIND.get((api_version, kind))


def lookup_resource(group: str, version: str, resource: str) -> Optional[Removal]:
    """The removal of a resource as the API server names it (``extensions``, ``v1beta1``, ``ingresses``)."""
    return BY_RESOURCE.get((group, version, resource))
