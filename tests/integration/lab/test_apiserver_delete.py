"""The lab API server's deletions: graceful pods, finalizers, namespaces, garbage collection."""

from __future__ import annotations

import time

pytest_plugins = ["apiserver_fixture"]


def wait_gone(apiserver, path: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while apiserver.get(path)[0] != 404:
        assert time.monotonic() < deadline, f"{path} still there"
        time.sleep(0.05)


def test_graceful_pod_deletion(apiserver, ns):
    node = f"g-{ns}"
    apiserver.node(node)
    apiserver.pod(ns, "p", node=node, spec={"terminationGracePeriodSeconds": 20})
    path = f"/api/v1/namespaces/{ns}/pods/p"
    pod = apiserver.ok("DELETE", path)
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 20 and pod["metadata"]["deletionTimestamp"]
    assert apiserver.ok("GET", path)["metadata"]["deletionTimestamp"] == pod["metadata"]["deletionTimestamp"]
    pod = apiserver.ok("DELETE", path, {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 5})
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 5  # only a shorter grace period is taken
    pod = apiserver.ok("DELETE", f"{path}?gracePeriodSeconds=30")
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 5
    apiserver.ok("DELETE", f"{path}?gracePeriodSeconds=0")  # what the kubelet does once containers stopped
    assert apiserver.get(path)[0] == 404


def test_pods_without_a_running_node_go_at_once(apiserver, ns):
    apiserver.pod(ns, "unscheduled", phase="Pending")
    apiserver.pod(ns, "orphan", node="no-such-node")
    node = f"t-{ns}"
    apiserver.node(node)
    apiserver.pod(ns, "done", node=node, phase="Succeeded", ready=False)
    for name in ("unscheduled", "orphan", "done"):
        apiserver.ok("DELETE", f"/api/v1/namespaces/{ns}/pods/{name}")
        assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/{name}")[0] == 404


def test_delete_preconditions(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    cm = apiserver.ok("POST", path, {"metadata": {"name": "pre"}})
    code, err = apiserver.delete(f"{path}/pre", {"preconditions": {"uid": "not-it"}})
    assert code == 409 and "Precondition failed: UID in precondition: not-it" in err["message"]
    code, err = apiserver.delete(f"{path}/pre", {"preconditions": {"resourceVersion": "1"}})
    assert code == 409 and "ResourceVersion in precondition: 1" in err["message"]
    status = apiserver.ok("DELETE", f"{path}/pre", {"preconditions": {"uid": cm["metadata"]["uid"]}})
    assert (status["kind"], status["status"], status["details"]["name"]) == ("Status", "Success", "pre")


def test_finalizers_hold_an_object(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    apiserver.ok("POST", path, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    held = apiserver.ok("DELETE", f"{path}/held")
    assert held["metadata"]["deletionTimestamp"] and held["metadata"]["finalizers"] == ["example.com/hold"]
    assert apiserver.get(f"{path}/held")[0] == 200
    apiserver.ok("PATCH", f"{path}/held", {"metadata": {"finalizers": None}})
    assert apiserver.get(f"{path}/held")[0] == 404


def test_namespace_termination_removes_contents(apiserver):
    ns = apiserver.namespace("term")
    apiserver.ok("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c"}})
    apiserver.pod(ns, "p", phase="Pending")
    deleted = apiserver.ok("DELETE", f"/api/v1/namespaces/{ns}")
    assert deleted["status"]["phase"] == "Terminating" and deleted["metadata"]["deletionTimestamp"]
    code, err = apiserver.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "late"}})
    if code != 404:  # the namespace may already be gone
        assert code == 403 and err["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}")
    assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/p")[0] == 404
    assert apiserver.ok("GET", f"/api/v1/namespaces/{ns}/configmaps")["items"] == []


def test_garbage_collection_follows_owner_references(apiserver, ns):
    apps = f"/apis/apps/v1/namespaces/{ns}"
    template = {"metadata": {"labels": {"app": "g"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    rs = apiserver.ok("POST", f"{apps}/replicasets", {"metadata": {"name": "rs"},
                      "spec": {"selector": {"matchLabels": {"app": "g"}}, "template": template}})  # fmt: skip
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "rs",
        "uid": rs["metadata"]["uid"],
        "controller": True,
    }
    apiserver.pod(ns, "child", phase="Pending", metadata={"ownerReferences": [owner]})
    apiserver.pod(ns, "kept", phase="Pending", metadata={"ownerReferences": [dict(owner, uid="another-owner")]})
    apiserver.ok("DELETE", f"{apps}/replicasets/rs")
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}/pods/child")
    time.sleep(0.3)
    assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/kept")[0] == 200

    rs2 = apiserver.ok("POST", f"{apps}/replicasets", {"metadata": {"name": "rs2"},
                       "spec": {"selector": {"matchLabels": {"app": "g"}}, "template": template}})  # fmt: skip
    apiserver.pod(
        ns,
        "orphaned",
        phase="Pending",
        metadata={"ownerReferences": [dict(owner, name="rs2", uid=rs2["metadata"]["uid"])]},
    )
    apiserver.ok("DELETE", f"{apps}/replicasets/rs2", {"propagationPolicy": "Orphan"})
    wait_gone(apiserver, f"{apps}/replicasets/rs2")
    pod = apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/orphaned")
    assert not pod["metadata"].get("ownerReferences")


def test_pods_of_a_deleted_node_are_collected(apiserver, ns):
    node = f"gone-{ns}"
    apiserver.node(node)
    apiserver.pod(ns, "bound", node=node)
    apiserver.pod(ns, "stays", node=None, phase="Pending")
    apiserver.ok("DELETE", f"/api/v1/nodes/{node}")
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}/pods/bound")
    assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/stays")[0] == 200
