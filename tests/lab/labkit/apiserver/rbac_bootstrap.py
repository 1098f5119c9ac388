"""What kube-apiserver writes as it starts: the system namespaces (``default``, ``kube-system``, ``kube-public``,
``kube-node-lease``) and, as the ``rbac/bootstrap-roles`` post-start hook, the bootstrap policy (on later
starts it adds what an auto-updated, ``rbac.authorization.kubernetes.io/autoupdate: "true"``, role or
binding lacks)."""

from __future__ import annotations

import logging

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
