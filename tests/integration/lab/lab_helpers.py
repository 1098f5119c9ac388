"""Small helpers for the lab's integration tests: kubectl runs, JSON reads, polling."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any, Callable


def run(kubectl: str, lab, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [kubectl, "--kubeconfig", lab.kubeconfig, *args], capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def get(kubectl: str, lab, *args: str) -> dict[str, Any]:
    return json.loads(run(kubectl, lab, "get", *args, "-o", "json").stdout)


def apply(kubectl: str, lab, *objects: dict[str, Any]) -> None:
    """kubectl create of the objects as one multi-document stream, with kubectl's default strict validation
    (a `kind: List` would be validated client-side against /openapi/v2, which the lab does not serve)."""
    manifest = "\n---\n".join(json.dumps(obj) for obj in objects)
    result = subprocess.run(
        [kubectl, "--kubeconfig", lab.kubeconfig, "create", "-f", "-"],
        input=manifest, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def ready_pods(kubectl: str, lab, namespace: str, selector: str | None = None) -> list[dict[str, Any]]:
    args = ["pods", "-n", namespace] + (["-l", selector] if selector else [])
    return [
        p
        for p in get(kubectl, lab, *args)["items"]
        if not p["metadata"].get("deletionTimestamp")
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions") or [])
    ]


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deployment(ns: str, name: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    labels = {"app": name}
    spec = {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}], **pod_spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": spec}},
    }  # fmt: skip


def delete_namespace(kubectl: str, lab, name: str) -> None:
    """Delete a test namespace and wait until it is gone (so no terminating pod lingers on a node)."""
    run(kubectl, lab, "delete", "namespace", name, "--ignore-not-found", "--wait=true", "--timeout=60s")
