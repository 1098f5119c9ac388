"""Seed profile ``legacy-apis`` (namespace ``legacy``): what a removed-API scan must find on a cluster upgraded for
years. A Helm 3 release stored as Helm stores it, whose latest revision's manifest still uses API versions
that are no longer served (extensions/v1beta1 Ingress, policy/v1beta1 PodDisruptionBudget, batch/v1beta1
CronJob) while the superseded revision used others (apps/v1beta2 Deployment); objects whose
``kubectl.kubernetes.io/last-applied-configuration`` names a removed apiVersion; and requests of the
deprecated APIs the server still serves, so that ``apiserver_requested_deprecated_apis`` reports them."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

from labkit.kubeclient import KubeClient, path
from labkit.objects import create, ensure_namespace

NAMESPACE = "legacy"
RELEASE = "shop"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _manifest(documents: list[tuple[str, dict[str, Any]]]) -> str:
    """``helm template`` output: each document after its ``# Source:`` comment, YAML (JSON is YAML)."""
    parts = []
    for source, doc in documents:
        parts.append(f"---\n# Source: {RELEASE}/templates/{source}\n" + json.dumps(doc, indent=2) + "\n")
    return "".join(parts)


def _ingress(api_version: str) -> dict[str, Any]:
    paths = [{"path": "/", "backend": {"serviceName": RELEASE, "servicePort": 80}}]
    return {"apiVersion": api_version, "kind": "Ingress", "metadata": {"name": RELEASE, "namespace": NAMESPACE},
            "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": paths}}]}}  # fmt: skip


def _pdb(api_version: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "PodDisruptionBudget",
            "metadata": {"name": RELEASE, "namespace": NAMESPACE},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": RELEASE}}}}  # fmt: skip


def _deployment(api_version: str) -> dict[str, Any]:
    labels = {"app": RELEASE}
    return {"apiVersion": api_version, "kind": "Deployment", "metadata": {"name": RELEASE, "namespace": NAMESPACE},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "web", "image": "registry.k8s.io/pause:3.10"}]}}}}  # fmt: skip


def _cronjob(api_version: str) -> dict[str, Any]:
    container = {"name": "report", "image": "registry.k8s.io/pause:3.10"}
    job = {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}
    return {"apiVersion": api_version, "kind": "CronJob", "metadata": {"name": f"{RELEASE}-report",
            "namespace": NAMESPACE}, "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": job}}}  # fmt: skip


def revisions() -> list[tuple[str, str]]:
    """(status, manifest) of revision 1 (superseded) and 2 (deployed, the one that counts)."""
    first = _manifest(
        [("deployment.yaml", _deployment("apps/v1beta2")), ("ingress.yaml", _ingress("extensions/v1beta1"))]
    )
    latest = _manifest([
        ("deployment.yaml", _deployment("apps/v1")),
        ("ingress.yaml", _ingress("extensions/v1beta1")),
        ("pdb.yaml", _pdb("policy/v1beta1")),
        ("cronjob.yaml", _cronjob("batch/v1beta1")),
    ])  # fmt: skip
    return [("superseded", first), ("deployed", latest)]


def release(version: int, status: str, manifest: str, now: str) -> dict[str, Any]:
    """Helm's release.Release as it marshals it to JSON."""
    description = "Install complete" if version == 1 else "Upgrade complete"
    metadata = {"name": RELEASE, "version": f"1.{version}.0", "description": "A shop", "apiVersion": "v2",
                "appVersion": "2.4.1", "type": "application"}  # fmt: skip
    chart: dict[str, Any] = {"metadata": metadata, "lock": None, "templates": [], "values": {"replicaCount": 1},
                             "schema": None, "files": []}  # fmt: skip
    info = {"first_deployed": now, "last_deployed": now, "deleted": "", "description": description, "status": status}
    return {"name": RELEASE, "info": info, "chart": chart, "config": {}, "manifest": manifest, "version": version,
            "namespace": NAMESPACE}  # fmt: skip


def encode_release(rls: dict[str, Any]) -> str:
    """Helm's encodeRelease: JSON, gzip, base64 (the Secret's data is then base64 of that string)."""
    return base64.b64encode(gzip.compress(json.dumps(rls, separators=(",", ":")).encode(), 9)).decode()


def release_secret(version: int, status: str, manifest: str) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
    encoded = encode_release(release(version, status, manifest, now))
    labels = {"modifiedAt": str(int(time.time())), "name": RELEASE, "owner": "helm", "status": status,
              "version": str(version)}  # fmt: skip
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{RELEASE}.v{version}", "namespace": NAMESPACE,
                         "labels": labels},
            "data": {"release": base64.b64encode(encoded.encode()).decode()}}  # fmt: skip


def last_applied(obj: dict[str, Any], api_version: str) -> str:
    """What kubectl apply stored when the object was applied with an old apiVersion."""
    applied = {**obj, "apiVersion": api_version, "metadata": {**obj["metadata"], "annotations": {}}}
    return json.dumps(applied, separators=(",", ":")) + "\n"


def applied_objects() -> list[tuple[str, dict[str, Any]]]:
    """A Deployment and a PodDisruptionBudget stored in today's versions, applied years ago with removed ones."""
    deployment = _deployment("apps/v1")
    deployment["metadata"] = {"name": "catalog", "namespace": NAMESPACE, "labels": {"app": "catalog"}}
    deployment["spec"]["selector"] = {"matchLabels": {"app": "catalog"}}
    deployment["spec"]["template"]["metadata"]["labels"] = {"app": "catalog"}
    deployment["metadata"]["annotations"] = {LAST_APPLIED: last_applied(deployment, "extensions/v1beta1")}
    pdb = _pdb("policy/v1")
    pdb["metadata"] = {"name": "catalog", "namespace": NAMESPACE}
    pdb["spec"]["selector"] = {"matchLabels": {"app": "catalog"}}
    pdb["metadata"]["annotations"] = {LAST_APPLIED: last_applied(pdb, "policy/v1beta1")}
    return [("deployments", deployment), ("poddisruptionbudgets", pdb)]


def legacy(client: KubeClient) -> list[str]:
    ensure_namespace(client, NAMESPACE)
    for version, (status, manifest) in enumerate(revisions(), start=1):
        create(client, "secrets", release_secret(version, status, manifest))
    for resource, obj in applied_objects():
        create(client, resource, obj)
    client.get("/api/v1/componentstatuses")  # requests of deprecated APIs: the metric reports them
    client.get(path("endpoints", "default"))
    return [NAMESPACE]
