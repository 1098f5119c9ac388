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
    apiserver.ok("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "h", "finalizers": ["x.io/h"]}})
    deleted = apiserver.ok("DELETE", f"/api/v1/namespaces/{ns}")
    assert deleted["status"]["phase"] == "Terminating" and deleted["metadata"]["deletionTimestamp"]
    assert deleted["spec"]["finalizers"] == ["kubernetes"]
    code, err = apiserver.delete(f"/api/v1/namespaces/{ns}")
    assert (code, err["reason"]) == (409, "Conflict")
    assert err["message"] == (
        f'Operation cannot be fulfilled on namespaces "{ns}": The system is ensuring all content is removed from '
        "this namespace.  Upon completion, this namespace will automatically be purged by the system."
    )

    def held() -> dict:
        conditions = apiserver.ok("GET", f"/api/v1/namespaces/{ns}")["status"].get("conditions") or []
        return {c["type"]: c for c in conditions}

    deadline = time.monotonic() + 10
    while held().get("NamespaceFinalizersRemaining", {}).get("status") != "True":
        assert time.monotonic() < deadline, held()
        time.sleep(0.05)
    conditions = held()
    assert conditions["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: configmaps. has 1 resource instances"
    )
    assert conditions["NamespaceFinalizersRemaining"]["message"] == (
        "Some content in the namespace has finalizers remaining: x.io/h in 1 resource instances"
    )
    assert conditions["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
    apiserver.ok("PATCH", f"/api/v1/namespaces/{ns}/configmaps/h", {"metadata": {"finalizers": None}})
    code, err = apiserver.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "late"}})
    if code != 404:  # the namespace may already be gone
        assert code == 403 and err["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}")
    assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/p")[0] == 404
    assert apiserver.ok("GET", f"/api/v1/namespaces/{ns}/configmaps")["items"] == []


def replicaset(apiserver, ns: str, name: str) -> dict:
    template = {"metadata": {"labels": {"app": "g"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    body = {"metadata": {"name": name}, "spec": {"selector": {"matchLabels": {"app": "g"}}, "template": template}}
    return apiserver.ok("POST", f"/apis/apps/v1/namespaces/{ns}/replicasets", body)


def owner_ref(owner: dict, block: bool = False) -> dict:
    meta = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": block}  # fmt: skip


def test_garbage_collection_follows_owner_references(apiserver, ns):
    apps = f"/apis/apps/v1/namespaces/{ns}"
    rs, other = replicaset(apiserver, ns, "rs"), replicaset(apiserver, ns, "other")
    apiserver.pod(ns, "child", phase="Pending", metadata={"ownerReferences": [owner_ref(rs)]})
    apiserver.pod(ns, "kept", phase="Pending", metadata={"ownerReferences": [owner_ref(other)]})
    shared = {"ownerReferences": [owner_ref(rs), dict(owner_ref(other), controller=False)]}
    apiserver.pod(ns, "shared", phase="Pending", metadata=shared)
    apiserver.ok("DELETE", f"{apps}/replicasets/rs")
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}/pods/child")
    assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/kept")[0] == 200
    deadline = time.monotonic() + 10  # a live owner keeps it: only the reference to the deleted one goes
    while len(apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/shared")["metadata"]["ownerReferences"]) != 1:
        assert time.monotonic() < deadline, "the dangling reference is still there"
        time.sleep(0.05)
    assert apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/shared")["metadata"]["ownerReferences"][0]["name"] == (
        "other"
    )

    rs2 = replicaset(apiserver, ns, "rs2")
    apiserver.pod(ns, "orphaned", phase="Pending", metadata={"ownerReferences": [owner_ref(rs2)]})
    apiserver.ok("DELETE", f"{apps}/replicasets/rs2", {"propagationPolicy": "Orphan"})
    wait_gone(apiserver, f"{apps}/replicasets/rs2")
    pod = apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/orphaned")
    assert not pod["metadata"].get("ownerReferences")

    apiserver.pod(ns, "dangling", phase="Pending", metadata={"ownerReferences": [dict(owner_ref(rs), name="gone")]})
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}/pods/dangling")  # its only owner never existed


def test_foreground_deletion_waits_for_blocking_dependents(apiserver, ns):
    apps = f"/apis/apps/v1/namespaces/{ns}"
    rs = replicaset(apiserver, ns, "fg")
    node = f"fg-{ns}"
    apiserver.node(node)
    pod = {"ownerReferences": [owner_ref(rs, block=True)], "finalizers": ["example.com/hold"]}
    apiserver.pod(ns, "blocker", node=node, metadata=pod)
    deleting = apiserver.ok("DELETE", f"{apps}/replicasets/fg", {"propagationPolicy": "Foreground"})
    assert deleting["metadata"]["finalizers"] == ["foregroundDeletion"] and deleting["metadata"]["deletionTimestamp"]
    path = f"/api/v1/namespaces/{ns}/pods/blocker"
    deadline = time.monotonic() + 10
    while not apiserver.ok("GET", path)["metadata"].get("deletionTimestamp"):
        assert time.monotonic() < deadline, "the blocking dependent was not deleted"
        time.sleep(0.05)
    time.sleep(0.3)
    assert apiserver.ok("GET", f"{apps}/replicasets/fg")["metadata"]["finalizers"] == ["foregroundDeletion"]
    apiserver.ok("PATCH", path, {"metadata": {"finalizers": None}})
    apiserver.ok("DELETE", f"{path}?gracePeriodSeconds=0")
    wait_gone(apiserver, f"{apps}/replicasets/fg")


def test_jobs_orphan_their_pods_by_default_and_say_so(apiserver, ns):
    jobs = f"/apis/batch/v1/namespaces/{ns}/jobs"
    pod_spec = {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
    for name in ("default", "background"):
        job = apiserver.ok("POST", jobs, {"metadata": {"name": name}, "spec": {"template": {"spec": pod_spec}}})
        apiserver.pod(ns, f"{name}-pod", phase="Pending", metadata={"ownerReferences": [owner_ref(job)]})
    conn = apiserver.connect()
    conn.request("DELETE", f"{jobs}/default", headers={"Accept": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 200, body
    assert resp.getheader("Warning") == (
        '299 - "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to '
        'remove them or set propagationPolicy=Orphan to suppress this warning"'
    )
    conn.request("DELETE", f"{jobs}/background?propagationPolicy=Background", headers={"Accept": "application/json"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200 and resp.getheader("Warning") is None
    conn.close()
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}/pods/background-pod")
    wait_gone(apiserver, f"{jobs}/default")
    assert not apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/default-pod")["metadata"].get("ownerReferences")


def test_pods_of_a_deleted_node_are_collected(apiserver, ns):
    node = f"gone-{ns}"
    apiserver.node(node)
    apiserver.pod(ns, "bound", node=node)
    apiserver.pod(ns, "stays", node=None, phase="Pending")
    apiserver.ok("DELETE", f"/api/v1/nodes/{node}")
    wait_gone(apiserver, f"/api/v1/namespaces/{ns}/pods/bound")
    assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/stays")[0] == 200
