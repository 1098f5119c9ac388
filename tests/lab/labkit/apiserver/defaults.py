"""Defaults kube-apiserver fills in on create (the few that clients and the lab's controllers rely on)."""

from __future__ import annotations

import random


def _pod_spec(spec: dict) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        image = c.get("image", "")
        c.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in image else "IfNotPresent")
        c.setdefault("resources", {})
        for port in c.get("ports") or ():
            port.setdefault("protocol", "TCP")
    for v in spec.get("volumes") or []:
        if "emptyDir" in v and v["emptyDir"] is None:
            v["emptyDir"] = {}


def _template(obj: dict) -> None:
    template = obj.setdefault("spec", {}).setdefault("template", {})
    template.setdefault("metadata", {})
    _pod_spec(template.setdefault("spec", {}))


def _deployment(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec["strategy"] = spec.get("strategy") or {}
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy["rollingUpdate"] = {
            "maxUnavailable": "25%",
            "maxSurge": "25%",
            **(strategy.get("rollingUpdate") or {}),
        }
    _template(obj)


def _replicaset(obj: dict) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)


def _daemonset(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    _template(obj)


def _statefulset(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    _template(obj)


JOB_LABELS = ("batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name", "controller-uid", "job-name")


def _job(obj: dict) -> None:
    """batch/v1 SetDefaults_Job, and the selector and template labels the Job strategy generates."""
    meta, spec = obj["metadata"], obj.setdefault("spec", {})
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
    spec.setdefault("manualSelector", False)
    _template(obj)
    if not spec["manualSelector"]:
        labels = spec["template"]["metadata"].setdefault("labels", {})
        for key, value in zip(JOB_LABELS, (meta["uid"], meta["name"], meta["uid"], meta["name"])):
            labels.setdefault(key, value)
        selector = spec["selector"] = spec.get("selector") or {}
        selector.setdefault("matchLabels", {}).setdefault(JOB_LABELS[0], meta["uid"])
    if not meta.get("labels"):
        meta["labels"] = dict(spec["template"]["metadata"].get("labels") or {})
    obj.setdefault("status", {})


def _pod(obj: dict) -> None:
    _pod_spec(obj.setdefault("spec", {}))
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", "BestEffort")


def _namespace(obj: dict) -> None:
    name = obj["metadata"]["name"]
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj["status"] = {"phase": "Active"}


def _service(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec.get("clusterIP") != "None":
        spec.setdefault("clusterIP", f"10.96.{random.randint(1, 254)}.{random.randint(1, 254)}")
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    obj.setdefault("status", {"loadBalancer": {}})


def _pdb(obj: dict) -> None:
    obj.setdefault("status", {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0})


def _secret(obj: dict) -> None:
    obj.setdefault("type", "Opaque")


def _node(obj: dict) -> None:
    obj.setdefault("spec", {})
    obj.setdefault("status", {})


APPLY = {
    "pods": _pod,
    "deployments": _deployment,
    "replicasets": _replicaset,
    "daemonsets": _daemonset,
    "statefulsets": _statefulset,
    "jobs": _job,
    "namespaces": _namespace,
    "services": _service,
    "poddisruptionbudgets": _pdb,
    "secrets": _secret,
    "nodes": _node,
}


def apply_defaults(plural: str, obj: dict) -> None:
    fn = APPLY.get(plural)
    if fn:
        fn(obj)


# Go serialises struct fields without `omitempty` even when empty, so clients (the official Python client
# among them) require them: fill them in on every write, as the real server's encoding would.
NODE_INFO = ("machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion",
             "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture")  # fmt: skip
REQUIRED_STATUS_INTS = {
    "poddisruptionbudgets": ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"),
    "daemonsets": ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"),
    "statefulsets": ("replicas", "availableReplicas"),
    "replicasets": ("replicas",),
}


def _container_statuses(status: dict) -> None:
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or ():
            cs.setdefault("ready", False)
            cs.setdefault("restartCount", 0)
            cs.setdefault("image", "")
            cs.setdefault("imageID", "")


def normalize(plural: str, obj: dict) -> None:
    meta = obj.get("metadata") or {}
    for field in ("ownerReferences", "finalizers"):  # omitempty: an emptied list is not stored
        if field in meta and not meta[field]:
            del meta[field]
    if plural == "nodes":
        status = obj.setdefault("status", {})
        info = status.setdefault("nodeInfo", {})
        for key in NODE_INFO:
            info.setdefault(key, "")
        status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 0}})
    elif plural == "pods":
        _container_statuses(obj.get("status") or {})
    elif plural in REQUIRED_STATUS_INTS:
        status = obj.get("status")
        if status is not None or plural == "poddisruptionbudgets":
            status = obj.setdefault("status", {})
            for key in REQUIRED_STATUS_INTS[plural]:
                status.setdefault(key, 0)
    elif plural == "events":
        obj.setdefault("involvedObject", {})
    elif plural == "controllerrevisions":
        obj.setdefault("revision", 0)
