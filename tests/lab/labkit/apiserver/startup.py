"""What kube-apiserver writes as it starts: the system namespaces (``default``, ``kube-system``, ``kube-public``,
``kube-node-lease``), the ``kubernetes`` Service of ``default`` with its Endpoints and EndpointSlice (the
API server's own address), and, as the ``rbac/bootstrap-roles`` post-start hook, the bootstrap policy (on
later starts it adds what an auto-updated, ``rbac.authorization.kubernetes.io/autoupdate: "true"``, role
or binding lacks)."""

from __future__ import annotations

import logging
from typing import Any

from .errors import ApiError
from .rbac_policy import objects
from .registry import Registry
from .resources import BY_NAME

log = logging.getLogger("apiserver.rbac")
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"


def _missing(current: list, wanted: list) -> list:
    return [item for item in wanted if item not in current]


SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def ensure_namespaces(registry: Registry) -> None:
    res = BY_NAME["namespaces"]
    for name in SYSTEM_NAMESPACES:
        if registry.store.get(res, name) is None:
            try:
                registry.create(res, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            except ApiError as exc:
                if exc.code != 409:
                    raise


def ensure(registry: Registry) -> int:
    """Create or reconcile the policy; return how many objects were written."""
    written = 0
    for plural, obj in objects():
        res = BY_NAME[plural]
        meta = obj["metadata"]
        namespace = meta.get("namespace")
        entry = registry.store.get(res, registry.store.cache_key(res, namespace, meta["name"]))
        try:
            if entry is None:
                registry.create(res, namespace, obj)
                written += 1
                continue
            current = entry.obj
            if (current["metadata"].get("annotations") or {}).get(AUTOUPDATE) != "true":
                continue
            field = "subjects" if plural.endswith("bindings") else "rules"
            extra = _missing(current.get(field) or [], obj.get(field) or [])
            if extra:
                current[field] = (current.get(field) or []) + extra
                registry.update(res, namespace, meta["name"], current)
                written += 1
        except ApiError as exc:
            if exc.code != 409:
                raise
    if written:
        log.info("rbac bootstrap policy: %d objects written", written)
    return written


def ensure_kubernetes_service(registry: Registry, address: str, port: int) -> None:
    """The master endpoint reconciler's objects: Service 10.96.0.1:443 -> the API server."""
    https = {"name": "https", "port": port, "protocol": "TCP"}
    labels = {"component": "apiserver", "provider": "kubernetes"}
    objs: list[tuple[str, dict[str, Any]]] = [
        ("services", {"metadata": {"name": "kubernetes", "namespace": "default", "labels": labels},
                      "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                               "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                               "ports": [{**https, "port": 443, "targetPort": port}]}}),
        ("endpoints", {"metadata": {"name": "kubernetes", "namespace": "default",
                                    "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                       "subsets": [{"addresses": [{"ip": address}], "ports": [https]}]}),
        ("endpointslices", {"metadata": {"name": "kubernetes", "namespace": "default",
                                         "labels": {"kubernetes.io/service-name": "kubernetes"}},
                            "addressType": "IPv4", "ports": [https],
                            "endpoints": [{"addresses": [address], "conditions": {"ready": True}}]}),
    ]  # fmt: skip
    for plural, obj in objs:
        res = BY_NAME[plural]
        current = registry.store.get(res, registry.store.cache_key(res, "default", "kubernetes"))
        wanted = {k: v for k, v in obj.items() if k != "metadata"}
        try:
            if current is None:
                registry.create(res, "default", obj)
            elif plural != "services" and {k: current.obj.get(k) for k in wanted} != wanted:
                registry.update(res, "default", "kubernetes", {**current.obj, **wanted})  # the API server moved
        except ApiError as exc:
            if exc.code != 409:
                raise
