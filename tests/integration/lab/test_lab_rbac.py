"""RBAC and ServiceAccount authentication on the lab: a least-privilege ServiceAccount through kubectl and the
official Python client, the real 403s, kubectl auth can-i / whoami, impersonation, TokenRequest and legacy
token Secrets, the aggregated view role."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException
from lab_helpers import wait_for
from labkit import pki
from labkit.kubeclient import KubeClient, path

NS = "rbac-lab"
SA = f"system:serviceaccount:{NS}:reader"


@pytest.fixture(scope="module")
def api(lab) -> KubeClient:
    admin = KubeClient.from_kubeconfig(lab.kubeconfig)
    admin.create(path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    admin.create(path("serviceaccounts", NS), {"apiVersion": "v1", "kind": "ServiceAccount",
                                               "metadata": {"name": "reader"}})  # fmt: skip
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}  # fmt: skip
    admin.create(path("clusterroles"), role)
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "reader-pods", "namespace": NS},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-reader"},
               "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": NS}]}  # fmt: skip
    admin.create(path("rolebindings", NS), binding)
    spec = {"nodeSelector": {"lab.cluster-ops.io/none": "x"}, "containers": [{"name": "c", "image": "x"}]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": NS}, "spec": spec}
    admin.create(path("pods", NS), pod)
    yield admin
    admin.delete_ignoring_missing(path("namespaces", name=NS))
    admin.delete_ignoring_missing(path("clusterroles", name="pod-reader"))


@pytest.fixture(scope="module")
def token(api) -> str:
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}
    answer = api.create(path("serviceaccounts", NS, "reader", "token"), request)
    return answer["status"]["token"]


@pytest.fixture(scope="module")
def sa_kubeconfig(lab, token, tmp_path_factory) -> str:
    conf = tmp_path_factory.mktemp("rbac") / "reader.conf"
    pki.write_kubeconfig(conf, lab.info["apiserver_url"], Path(lab.info["pki_dir"]), user="reader", token=token)
    return str(conf)


def run_as(kubectl_bin: str, kubeconfig: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([kubectl_bin, "--kubeconfig", kubeconfig, *args], capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def claims(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_token_request_issues_the_real_claims(token):
    found = claims(token)
    assert found["iss"] == found["aud"][0] == "https://kubernetes.default.svc.cluster.local"
    assert found["sub"] == SA and found["kubernetes.io"]["namespace"] == NS
    assert found["kubernetes.io"]["serviceaccount"]["name"] == "reader" and found["exp"] - found["iat"] == 3600


def test_kubectl_as_the_service_account_can_exactly_what_its_role_grants(kubectl, sa_kubeconfig):
    whoami = run_as(kubectl, sa_kubeconfig, "auth", "whoami", "-o", "json")
    info = json.loads(whoami.stdout)["status"]["userInfo"]
    assert info["username"] == SA
    assert info["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{NS}", "system:authenticated"]
    listed = run_as(kubectl, sa_kubeconfig, "get", "pods", "-n", NS, "-o", "name")
    assert listed.returncode == 0 and listed.stdout.strip() == "pod/p", listed.stderr
    denied = run_as(kubectl, sa_kubeconfig, "delete", "pod", "p", "-n", NS)
    assert denied.returncode == 1
    assert denied.stderr.strip() == (
        f'Error from server (Forbidden): pods "p" is forbidden: User "{SA}" cannot delete resource "pods" '
        f'in API group "" in the namespace "{NS}"'
    )
    elsewhere = run_as(kubectl, sa_kubeconfig, "get", "pods", "-n", "kube-system")
    assert 'cannot list resource "pods" in API group "" in the namespace "kube-system"' in elsewhere.stderr
    nodes = run_as(kubectl, sa_kubeconfig, "get", "nodes")
    assert 'cannot list resource "nodes" in API group "" at the cluster scope' in nodes.stderr
    can = {verb: run_as(kubectl, sa_kubeconfig, "auth", "can-i", verb, "pods", "-n", NS).stdout.strip()
           for verb in ("get", "list", "delete", "watch")}  # fmt: skip
    assert can == {"get": "yes", "list": "yes", "delete": "no", "watch": "no"}
    rules = run_as(kubectl, sa_kubeconfig, "auth", "can-i", "--list", "-n", NS).stdout
    assert any(line.split()[0] == "pods" and "[get list]" in line for line in rules.splitlines()), rules


def test_python_client_as_the_service_account_gets_the_real_403(lab, token):
    configuration = k8s.Configuration(host=lab.info["apiserver_url"], api_key={"authorization": f"Bearer {token}"})
    configuration.ssl_ca_cert = str(Path(lab.info["pki_dir"]) / "ca.crt")
    core = k8s.CoreV1Api(k8s.ApiClient(configuration))
    assert [p.metadata.name for p in core.list_namespaced_pod(NS).items] == ["p"]
    assert core.read_namespaced_pod("p", NS).metadata.name == "p"
    eviction = k8s.V1Eviction(metadata=k8s.V1ObjectMeta(name="p", namespace=NS))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod_eviction("p", NS, eviction)
    status = json.loads(caught.value.body)
    assert (caught.value.status, status["reason"]) == (403, "Forbidden")
    assert status["details"] == {"name": "p", "kind": "pods"}
    assert status["message"] == (
        f'pods "p" is forbidden: User "{SA}" cannot create resource "pods/eviction" in API group "" '
        f'in the namespace "{NS}"'
    )
    with pytest.raises(ApiException) as caught:
        k8s.AppsV1Api(k8s.ApiClient(configuration)).list_namespaced_deployment(NS)
    assert json.loads(caught.value.body)["message"] == (
        f'deployments.apps is forbidden: User "{SA}" cannot list resource "deployments" in API group "apps" '
        f'in the namespace "{NS}"'
    )


def test_impersonation_needs_the_impersonate_verb(api, kubectl, lab, sa_kubeconfig):
    as_reader = run_as(kubectl, lab.kubeconfig, "get", "pods", "-n", NS, f"--as={SA}", "-o", "name")
    assert as_reader.stdout.strip() == "pod/p", as_reader.stderr
    refused = run_as(kubectl, lab.kubeconfig, "get", "nodes", f"--as={SA}")
    assert f'User "{SA}" cannot list resource "nodes"' in refused.stderr
    groups = run_as(kubectl, lab.kubeconfig, "auth", "whoami", "--as=bob", "--as-group=team-a", "--as-group=team-b",
                     "-o", "json")  # fmt: skip
    assert json.loads(groups.stdout)["status"]["userInfo"]["groups"] == ["team-a", "team-b", "system:authenticated"]
    denied = run_as(kubectl, sa_kubeconfig, "get", "pods", "-n", NS, "--as=bob")
    assert denied.stderr.strip() == (
        f'Error from server (Forbidden): users "bob" is forbidden: User "{SA}" cannot impersonate resource "users" '
        'in API group "" at the cluster scope'
    )


def test_legacy_token_secret_is_populated_and_authenticates(api, lab):
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
              "metadata": {"name": "reader-token", "namespace": NS,
                           "annotations": {"kubernetes.io/service-account.name": "reader"}}}  # fmt: skip
    api.create(path("secrets", NS), secret)
    filled = wait_for("the token controller", lambda: (s := api.get(path("secrets", NS, "reader-token"))).get(
        "data", {}).get("token") and s)  # fmt: skip
    assert set(filled["data"]) == {"token", "ca.crt", "namespace"}
    assert base64.b64decode(filled["data"]["namespace"]).decode() == NS
    sa_uid = api.get(path("serviceaccounts", NS, "reader"))["metadata"]["uid"]
    assert filled["metadata"]["annotations"]["kubernetes.io/service-account.uid"] == sa_uid
    legacy = base64.b64decode(filled["data"]["token"]).decode()
    assert claims(legacy)["iss"] == "kubernetes/serviceaccount"
    as_secret = KubeClient(lab.info["apiserver_url"], ca=str(Path(lab.info["pki_dir"]) / "ca.crt"), token=legacy)
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    assert as_secret.create("/apis/authentication.k8s.io/v1/selfsubjectreviews", review)["status"]["userInfo"][
        "username"] == SA  # fmt: skip
    api.delete(path("secrets", NS, "reader-token"))
    wait_for("the token refused once its secret is gone", lambda: _refused(as_secret))


def _refused(client: KubeClient) -> bool:
    try:
        client.get(path("pods", NS))
    except Exception as exc:  # the 401 (ApiError) is what is awaited
        return getattr(exc, "status", None) == 401
    return False


def test_view_is_aggregated_from_the_bootstrap_roles(api):
    view = wait_for("the aggregated view role", lambda: (r := api.get(path("clusterroles", name="view"))).get(
        "rules") and r)  # fmt: skip
    granted = {res for rule in view["rules"] for res in rule.get("resources") or []}
    assert {"pods", "deployments", "jobs", "poddisruptionbudgets", "configmaps"} <= granted
    assert "secrets" not in granted  # view does not read secrets
    edit = api.get(path("clusterroles", name="edit"))
    assert any("pods/eviction" in rule.get("resources", []) for rule in edit["rules"])


def test_kubeadm_identities_work_under_rbac(api, lab, kubectl, tmp_path):
    """What kubeadm leaves: its cluster-admins group is cluster-admin, nodes read kubeadm-config (kubeadm upgrade
    node does, with kubelet.conf) but not other ConfigMaps of kube-system."""
    crt, key = pki.client_cert(Path(lab.info["pki_dir"]), "lab-cluster-admins", "lab-admin", "kubeadm:cluster-admins")
    conf = pki.write_kubeconfig(tmp_path / "admin.conf", lab.info["apiserver_url"], Path(lab.info["pki_dir"]),
                                user="lab-admin", cert=crt, key=key)  # fmt: skip
    assert run_as(kubectl, str(conf), "auth", "can-i", "*", "*").stdout.strip() == "yes"
    kubelet = str(lab.state_dir / "kubelet-worker-1.conf")
    config = run_as(kubectl, kubelet, "get", "configmap", "kubeadm-config", "-n", "kube-system", "-o", "name")
    assert config.stdout.strip() == "configmap/kubeadm-config", config.stderr
    assert run_as(kubectl, kubelet, "auth", "can-i", "delete", "nodes/worker-2").stdout.strip() == "no"


def test_a_namespace_admin_cannot_grant_more_than_it_holds(api, lab):
    api.create(path("serviceaccounts", NS), {"apiVersion": "v1", "kind": "ServiceAccount",
                                             "metadata": {"name": "owner"}})  # fmt: skip
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "owner-admin", "namespace": NS},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
               "subjects": [{"kind": "ServiceAccount", "name": "owner", "namespace": NS}]}  # fmt: skip
    api.create(path("rolebindings", NS), binding)
    token = api.create(path("serviceaccounts", NS, "owner", "token"), {"spec": {}})["status"]["token"]
    owner = KubeClient(lab.info["apiserver_url"], ca=str(Path(lab.info["pki_dir"]) / "ca.crt"), token=token)
    wait_for("admin aggregated", lambda: api.get(path("clusterroles", name="admin")).get("rules"))
    fine = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pods", "namespace": NS},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}  # fmt: skip
    owner.create(path("roles", NS), fine)
    greedy = {**fine, "metadata": {"name": "nodes", "namespace": NS},
              "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "delete"]}]}  # fmt: skip
    with pytest.raises(Exception) as caught:
        owner.create(path("roles", NS), greedy)
    owner_name = f"system:serviceaccount:{NS}:owner"
    assert caught.value.status == 403  # type: ignore[attr-defined]
    assert caught.value.body["message"] == (  # type: ignore[attr-defined]
        f'roles.rbac.authorization.k8s.io "nodes" is forbidden: user "{owner_name}" (groups=["system:serviceaccounts" '
        f'"system:serviceaccounts:{NS}" "system:authenticated"]) is attempting to grant RBAC permissions not currently '
        'held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get" "delete"]}'
    )
    view = {**binding, "metadata": {"name": "reader-view", "namespace": NS},
            "roleRef": {**binding["roleRef"], "name": "view"}}  # fmt: skip
    owner.create(path("rolebindings", NS), view)  # admin holds everything view grants
    root = {**binding, "metadata": {"name": "reader-root", "namespace": NS},
            "roleRef": {**binding["roleRef"], "name": "cluster-admin"}}  # fmt: skip
    with pytest.raises(Exception) as caught:
        owner.create(path("rolebindings", NS), root)
    assert caught.value.status == 403  # type: ignore[attr-defined]
    assert "is attempting to grant RBAC permissions not currently held" in caught.value.body["message"]  # type: ignore[attr-defined]
