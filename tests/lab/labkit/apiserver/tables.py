"""Server-side `Table` output (what `kubectl get` asks for), with the columns of kube-apiserver's printers."""

from __future__ import annotations

import datetime

from .store import Entry

NAME = {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a "
        "namespace.", "priority": 0}  # fmt: skip
AGE = {"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp is a timestamp "
       "representing the server time when this object was created.", "priority": 0}  # fmt: skip


def col(name: str, type_: str = "string", priority: int = 0, description: str = "") -> dict:
    return {"name": name, "type": type_, "format": "", "description": description or name, "priority": priority}


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def age(obj: dict, now: datetime.datetime) -> str:
    ts = obj["metadata"].get("creationTimestamp")
    if not ts:
        return "<unknown>"
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return human_duration((now - t).total_seconds())


def _pod(o: dict, now) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    reason = status.get("reason") or status.get("phase") or ""
    running = False
    for c in reversed(statuses):
        state = c.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif "terminated" in state:
            term = state["terminated"]
            reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
        elif c.get("ready") and "running" in state:
            running = True
    if reason == "Completed" and running:
        reason = "Running"
    if o["metadata"].get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    gates = spec.get("readinessGates") or []
    return [
        o["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restarts,
        age(o, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        f"{len(gates)}/{len(gates)}" if gates else "<none>",
    ]


def _node(o: dict, now) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    state = "Unknown"
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready":
            state = "Ready" if c.get("status") == "True" else "NotReady"
    if spec.get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = o["metadata"].get("labels") or {}
    roles = sorted(
        {k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k}
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    addresses = status.get("addresses") or []
    info = status.get("nodeInfo") or {}

    def addr(kind):
        return next((a.get("address") for a in addresses if a.get("type") == kind), "<none>")

    return [
        o["metadata"]["name"],
        state,
        ",".join(r for r in roles if r) or "<none>",
        age(o, now),
        info.get("kubeletVersion", ""),
        addr("InternalIP"),
        addr("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _parse(ts: str) -> datetime.datetime:
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def _job(o: dict, now) -> list:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    duration = ""
    if status.get("startTime"):
        end = _parse(status["completionTime"]) if status.get("completionTime") else now
        duration = human_duration((end - _parse(status["startTime"])).total_seconds())
    conditions = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    if "Complete" in conditions:
        state = "Complete"
    elif "Failed" in conditions:
        state = "Failed"
    elif o["metadata"].get("deletionTimestamp"):
        state = "Terminating"
    elif "Suspended" in conditions:
        state = "Suspended"
    elif "FailureTarget" in conditions:
        state = "FailureTarget"
    else:
        state = "Running"
    containers = (spec.get("template") or {}).get("spec", {}).get("containers") or []
    selector = ",".join(f"{k}={v}" for k, v in sorted(((spec.get("selector") or {}).get("matchLabels") or {}).items()))
    return [o["metadata"]["name"], state, completions, duration, age(o, now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            selector or "<none>"]  # fmt: skip


def _int_or_str(v) -> str:
    return "N/A" if v is None else str(v)


def _workload_ready(o: dict) -> str:
    return f"{(o.get('status') or {}).get('readyReplicas', 0)}/{(o.get('spec') or {}).get('replicas', 0)}"


PRINTERS = {
    "pods": (
        [NAME, col("Ready"), col("Status"), col("Restarts", "string"), AGE, col("IP", priority=1),
         col("Node", priority=1), col("Nominated Node", priority=1), col("Readiness Gates", priority=1)],
        _pod,
    ),
    "nodes": (
        [NAME, col("Status"), col("Roles"), AGE, col("Version"), col("Internal-IP", priority=1),
         col("External-IP", priority=1), col("OS-Image", priority=1), col("Kernel-Version", priority=1),
         col("Container-Runtime", priority=1)],
        _node,
    ),
    "namespaces": ([NAME, col("Status"), AGE], lambda o, now: [o["metadata"]["name"],
                   (o.get("status") or {}).get("phase", ""), age(o, now)]),
    "deployments": (
        [NAME, col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"), AGE],
        lambda o, now: [o["metadata"]["name"], _workload_ready(o), (o.get("status") or {}).get("updatedReplicas", 0),
                        (o.get("status") or {}).get("availableReplicas", 0), age(o, now)],
    ),
    "replicasets": (
        [NAME, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"), AGE],
        lambda o, now: [o["metadata"]["name"], (o.get("spec") or {}).get("replicas", 0),
                        (o.get("status") or {}).get("replicas", 0), (o.get("status") or {}).get("readyReplicas", 0),
                        age(o, now)],
    ),
    "statefulsets": ([NAME, col("Ready"), AGE],
                     lambda o, now: [o["metadata"]["name"], _workload_ready(o), age(o, now)]),
    "daemonsets": (
        [NAME, col("Desired", "integer"), col("Current", "integer"), col("Ready", "integer"),
         col("Up-to-date", "integer"), col("Available", "integer"), col("Node Selector"), AGE],
        lambda o, now: [o["metadata"]["name"]] + [(o.get("status") or {}).get(k, 0) for k in (
            "desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled",
            "numberAvailable")] + [",".join(f"{k}={v}" for k, v in sorted(
                ((((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("nodeSelector") or {})
                .items())) or "<none>", age(o, now)],
    ),
    "jobs": (
        [NAME, col("Status"), col("Completions"), col("Duration"), AGE, col("Containers", priority=1),
         col("Images", priority=1), col("Selector", priority=1)],
        _job,
    ),
    "poddisruptionbudgets": (
        [NAME, col("Min Available"), col("Max Unavailable"), col("Allowed Disruptions", "integer"), AGE],
        lambda o, now: [o["metadata"]["name"], _int_or_str((o.get("spec") or {}).get("minAvailable")),
                        _int_or_str((o.get("spec") or {}).get("maxUnavailable")),
                        (o.get("status") or {}).get("disruptionsAllowed", 0), age(o, now)],
    ),
    "configmaps": ([NAME, col("Data", "integer"), AGE], lambda o, now: [o["metadata"]["name"],
                   len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o, now)]),
    "secrets": ([NAME, col("Type"), col("Data", "integer"), AGE], lambda o, now: [o["metadata"]["name"],
                o.get("type", ""), len(o.get("data") or {}), age(o, now)]),
    "serviceaccounts": ([NAME, col("Secrets", "integer"), AGE], lambda o, now: [o["metadata"]["name"],
                        len(o.get("secrets") or []), age(o, now)]),
    "services": (
        [NAME, col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"), AGE],
        lambda o, now: [o["metadata"]["name"], (o.get("spec") or {}).get("type", "ClusterIP"),
                        (o.get("spec") or {}).get("clusterIP") or "<none>", "<none>",
                        ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}"
                                 for p in (o.get("spec") or {}).get("ports") or []) or "<none>", age(o, now)],
    ),
    "componentstatuses": ([NAME, col("Status"), col("Message"), col("Error")], lambda o, now: [
        o["metadata"]["name"], "Healthy" if all(c.get("status") == "True" for c in o.get("conditions") or []) else
        "Unhealthy", ",".join(c.get("message", "") for c in o.get("conditions") or []),
        ",".join(c.get("error", "") for c in o.get("conditions") or [])]),
    "endpoints": ([NAME, col("Endpoints"), AGE], lambda o, now: [o["metadata"]["name"], ",".join(
        f"{a.get('ip')}:{p.get('port')}" for s in o.get("subsets") or [] for a in s.get("addresses") or []
        for p in s.get("ports") or []) or "<none>", age(o, now)]),
    "endpointslices": ([NAME, col("AddressType"), col("Ports"), col("Endpoints"), AGE], lambda o, now: [
        o["metadata"]["name"], o.get("addressType", ""),
        ",".join(str(p.get("port")) for p in o.get("ports") or []) or "<unset>",
        ",".join(a for e in o.get("endpoints") or [] for a in e.get("addresses") or []) or "<unset>", age(o, now)]),
    "leases": ([NAME, col("Holder"), AGE], lambda o, now: [o["metadata"]["name"],
               (o.get("spec") or {}).get("holderIdentity") or "", age(o, now)]),
}  # fmt: skip
CREATED = {"name": "Created At", "type": "date", "format": "", "description": "creation time", "priority": 0}
DEFAULT = ([NAME, CREATED], lambda o, now: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")])


def table(plural: str, entries: list[Entry], rv: int, cont: str = "", include: str = "Metadata") -> dict:
    columns, row = PRINTERS.get(plural, DEFAULT)
    now = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    for e in entries:
        full = e.obj
        if include == "Object":
            obj = full
        elif include == "None":
            obj = None
        else:
            obj = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": full["metadata"]}
        r = {"cells": row(full, now)}
        if obj is not None:
            r["object"] = obj
        rows.append(r)
    meta = {"resourceVersion": str(rv)}
    if cont:
        meta["continue"] = cont
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns,
            "rows": rows}  # fmt: skip
