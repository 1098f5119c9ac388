"""v1 ComponentStatus (deprecated since 1.19, still served): the health of the scheduler, the controller manager
and etcd. etcd's comes from the API server's watch of it; the scheduler and the controller manager are
reported healthy (kube-apiserver probes their ``/healthz``; the lab's have none)."""

from __future__ import annotations

from typing import Any

from . import errors
from .resources import BY_NAME


def items(etcd_healthy: bool, name: str | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for component, healthy in (("scheduler", True), ("controller-manager", True), ("etcd-0", etcd_healthy)):
        condition: dict[str, Any] = {"type": "Healthy", "status": "True" if healthy else "False"}
        if healthy:
            condition["message"] = "ok"
        else:
            condition["error"] = "etcd is not answering"
        out.append({"kind": "ComponentStatus", "apiVersion": "v1",
                    "metadata": {"name": component, "creationTimestamp": None}, "conditions": [condition]})  # fmt: skip
    if name is None:
        return out
    found = [i for i in out if i["metadata"]["name"] == name]
    if not found:
        raise errors.not_found(BY_NAME["componentstatuses"], name)
    return found
