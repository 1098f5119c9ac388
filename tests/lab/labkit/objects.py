"""Object builders and the idempotent create that the bootstrap and the workload profiles share."""

from __future__ import annotations

from typing import Any

from labkit.kubeclient import ApiError, KubeClient, path


def create(client: KubeClient, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Create, or leave an existing object alone (seeding twice changes nothing)."""
    namespace = obj["metadata"].get("namespace")
    try:
        return client.create(path(resource, namespace), obj)
    except ApiError as exc:
        if exc.status != 409:
            raise
        return client.get(path(resource, namespace, obj["metadata"]["name"]))


def ensure_namespace(client: KubeClient, name: str) -> None:
    create(client, "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def config_map(namespace: str, name: str, data: dict[str, str], labels: dict | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "data": data,
    }
