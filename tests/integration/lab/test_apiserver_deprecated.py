"""Deprecated APIs still served (v1 ComponentStatus, v1 Endpoints): the real Warning headers and the
apiserver_requested_deprecated_apis gauge of /metrics, which RBAC guards like the real one."""

from __future__ import annotations

import subprocess
from pathlib import Path

pytest_plugins = ["apiserver_fixture"]
KUBECTL = str(Path(__file__).resolve().parents[3] / ".venv" / "bin" / "kubectl")
HELP = (
    "# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken "
    "out by API group, version, resource, subresource, and removed_release."
)


def get(apiserver, path: str, token: str | None = None):
    conn = apiserver.connect(apiserver.anonymous_context() if token else None)
    headers = {"Accept": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(), resp.headers.get_all("Warning") or []
    finally:
        conn.close()


def test_deprecated_resources_warn_and_are_counted(apiserver, ns):
    code, body, warnings = get(apiserver, "/api/v1/componentstatuses")
    assert code == 200 and '"etcd-0"' in body
    assert warnings == ['299 - "v1 ComponentStatus is deprecated in v1.19+"']
    code, _, warnings = get(apiserver, f"/api/v1/namespaces/{ns}/endpoints")
    assert code == 200
    assert warnings == ['299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"']
    assert get(apiserver, f"/api/v1/namespaces/{ns}/configmaps")[2] == []
    code, metrics, _ = get(apiserver, "/metrics")
    assert code == 200 and HELP in metrics
    assert "# TYPE apiserver_requested_deprecated_apis gauge" in metrics
    lines = [line for line in metrics.splitlines() if line.startswith("apiserver_requested_deprecated_apis{")]
    assert lines == [
        'apiserver_requested_deprecated_apis{group="",removed_release="",resource="componentstatuses",'
        'subresource="",version="v1"} 1',
        'apiserver_requested_deprecated_apis{group="",removed_release="",resource="endpoints",subresource="",'
        'version="v1"} 1',
    ]
    cs = subprocess.run([KUBECTL, "--kubeconfig", str(apiserver.kubeconfig), "get", "componentstatuses"],
                        capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "Warning: v1 ComponentStatus is deprecated in v1.19+" in cs.stderr
    assert [line.split()[:3] for line in cs.stdout.splitlines()] == [
        ["NAME", "STATUS", "MESSAGE"], ["scheduler", "Healthy", "ok"], ["controller-manager", "Healthy", "ok"],
        ["etcd-0", "Healthy", "ok"]]  # fmt: skip


def test_metrics_need_get_on_the_metrics_path(apiserver, ns):
    apiserver.ok("POST", f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "scraper"}})
    answer = apiserver.ok("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/scraper/token",
                          {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})  # fmt: skip
    token = answer["status"]["token"]
    code, body, _ = get(apiserver, "/metrics", token)
    assert code == 403
    assert (
        f'"message":"forbidden: User \\"system:serviceaccount:{ns}:scraper\\" cannot get path \\"/metrics\\""' in body
    )
    binding = {"metadata": {"name": f"scraper-{ns}"}, "subjects": [{"kind": "ServiceAccount", "name": "scraper",
               "namespace": ns}], "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                              "name": "system:monitoring"}}  # fmt: skip
    apiserver.ok("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
    assert get(apiserver, "/metrics", token)[0] == 200
    apiserver.ok("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/scraper-{ns}")


def test_the_kubernetes_service_points_at_the_api_server(apiserver):
    service = apiserver.ok("GET", "/api/v1/namespaces/default/services/kubernetes")
    assert service["spec"]["clusterIP"] == "10.96.0.1" and service["spec"]["ports"][0]["port"] == 443
    endpoints = apiserver.ok("GET", "/api/v1/namespaces/default/endpoints/kubernetes")
    assert endpoints["subsets"][0]["ports"][0]["port"] == apiserver.port
    sliced = apiserver.ok("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes")
    assert sliced["endpoints"][0]["addresses"] == ["127.0.0.1"]
