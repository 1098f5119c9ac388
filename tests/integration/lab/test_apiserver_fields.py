"""Unknown and duplicate fields: dropped and reported per fieldValidation, as kube-apiserver does; the OpenAPI v3
schemas that kubectl explain and kubectl's strict validation use."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

pytest_plugins = ["apiserver_fixture"]
KUBECTL = str(Path(__file__).resolve().parents[3] / ".venv" / "bin" / "kubectl")

# a Deployment with a repeated known field, unknown fields (one repeated) and an unknown nested field
BODY = """{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "first", "name": "%s", "labels": {"app": "f"}, "colour": "blue"},
  "spec": {
    "replica": 2, "extra": 1, "extra": 2, "paused": true, "paused": false,
    "selector": {"matchLabels": {"app": "f"}},
    "template": {"metadata": {"labels": {"app": "f"}}, "spec": {"containers": [
      {"name": "c", "image": "nginx", "imag": "typo", "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}
  }
}"""
PROBLEMS = [
    'duplicate field "metadata.name"',
    'unknown field "metadata.colour"',
    'unknown field "spec.replica"',
    'unknown field "spec.extra"',
    'duplicate field "spec.paused"',
    'unknown field "spec.template.spec.containers[0].imag"',
    'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
]


def request(apiserver, method: str, path: str, body: bytes | str, ctype: str = "application/json"):
    """(status, decoded body, the Warning headers' texts)."""
    conn = apiserver.connect()
    try:
        conn.request(method, path, body.encode() if isinstance(body, str) else body,
                     {"Content-Type": ctype, "Accept": "application/json"})  # fmt: skip
        resp = conn.getresponse()
        data = json.loads(resp.read())
        warnings = [w.split(" ", 2)[2][1:-1].replace('\\"', '"') for w in resp.headers.get_all("Warning") or []]
        return resp.status, data, warnings
    finally:
        conn.close()


def test_create_warns_by_default_and_stores_only_known_fields(apiserver, ns):
    code, created, warnings = request(apiserver, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", BODY % "d")
    assert code == 201, created
    assert warnings == PROBLEMS
    assert "colour" not in created["metadata"] and "extra" not in created["spec"]
    assert created["spec"]["paused"] is False and created["spec"]["replicas"] == 1  # the last value, the default
    container = created["spec"]["template"]["spec"]["containers"][0]
    assert "imag" not in container and container["imagePullPolicy"] == "Never"
    stored = json.loads(apiserver.etcd.get(f"/registry/deployments/{ns}/d")[0])
    assert "colour" not in stored["metadata"]


def test_strict_refuses_and_ignore_is_silent(apiserver, ns):
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    code, err, _ = request(apiserver, "POST", f"{path}?fieldValidation=Strict", BODY % "s")
    assert (code, err["reason"]) == (400, "BadRequest")
    assert err["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: ' + ", ".join(PROBLEMS)
    )
    assert apiserver.get(f"{path}/s")[0] == 404
    code, created, warnings = request(apiserver, "POST", f"{path}?fieldValidation=Ignore", BODY % "i")
    assert (code, warnings) == (201, []) and "colour" not in created["metadata"]
    code, err, _ = request(apiserver, "POST", f"{path}?fieldValidation=Loud", BODY % "l")
    assert code == 400


def test_patches_report_their_duplicates_then_the_unknown_fields_sorted(apiserver, ns):
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    request(apiserver, "POST", path, BODY % "p")
    patch = '{"spec": {"zeta": 1, "alpha": 1, "paused": true, "paused": false}}'
    code, patched, warnings = request(apiserver, "PATCH", f"{path}/p", patch, "application/merge-patch+json")
    assert code == 200 and warnings == ['duplicate field "spec.paused"', 'unknown field "spec.alpha"',
                                        'unknown field "spec.zeta"']  # fmt: skip
    assert "zeta" not in patched["spec"]
    code, err, _ = request(apiserver, "PATCH", f"{path}/p?fieldValidation=Strict", patch,
                           "application/strategic-merge-patch+json")  # fmt: skip
    assert (code, err["reason"]) == (422, "Invalid")
    assert err["message"].startswith(' "" is invalid: patch: Invalid value: "map[spec:map[')
    assert err["message"].endswith(
        'strict decoding error: duplicate field "spec.paused", unknown field "spec.alpha", unknown field "spec.zeta"'
    )
    ops = '[{"op": "add", "path": "/spec/zeta", "value": 1, "note": "x"}]'
    code, _, warnings = request(apiserver, "PATCH", f"{path}/p", ops, "application/json-patch+json")
    assert code == 200 and warnings == ['json patch unknown field "[0].note"', 'unknown field "spec.zeta"']


def kubectl(apiserver, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([KUBECTL, "--kubeconfig", str(apiserver.kubeconfig), *args], input=stdin,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_kubectl_validates_strictly_and_explains(apiserver, ns):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": ns}, "dta": {"k": "v"}}
    refused = kubectl(apiserver, "create", "-f", "-", stdin=json.dumps(cm))
    assert refused.returncode == 1
    assert 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dta"' in (
        refused.stderr
    )
    warned = kubectl(apiserver, "apply", "--validate=warn", "-f", "-", stdin=json.dumps(cm))
    assert warned.returncode == 0 and 'Warning: unknown field "dta"' in warned.stderr, warned.stderr
    explained = kubectl(apiserver, "explain", "pod.spec.containers.ports")
    assert explained.returncode == 0, explained.stderr
    assert "FIELD: ports <[]ContainerPort>" in explained.stdout and "containerPort\t<integer>" in explained.stdout
    explained = kubectl(apiserver, "explain", "deployments.spec.strategy", "--api-version=apps/v1")
    assert "rollingUpdate\t<RollingUpdateDeployment>" in explained.stdout, explained.stdout
