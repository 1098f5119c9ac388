"""The lab API server: discovery, authentication, CRUD, optimistic concurrency, selectors, pagination."""

from __future__ import annotations

import json
import ssl
import time

pytest_plugins = ["apiserver_fixture"]


def test_starts_fast_and_serves_version_and_health(apiserver):
    assert apiserver.startup_seconds < 3
    code, version = apiserver.get("/version")
    assert code == 200
    assert (version["gitVersion"], version["major"], version["minor"]) == ("v1.35.2", "1", "35")
    for path in ("/healthz", "/livez", "/readyz"):
        assert apiserver.get(path, raw=True) == (200, b"ok")


def test_discovery_lists_resources_and_subresources(apiserver):
    _, core = apiserver.get("/api/v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["namespaced"] is True
    assert by_name["nodes"]["namespaced"] is False and "watch" in by_name["nodes"]["verbs"]
    eviction = by_name["pods/eviction"]
    assert (eviction["group"], eviction["version"], eviction["kind"], eviction["verbs"]) == (
        "policy",
        "v1",
        "Eviction",
        ["create"],
    )
    assert {"pods/status", "pods/binding", "nodes/status"} <= set(by_name)
    _, groups = apiserver.get("/apis")
    assert {g["name"] for g in groups["groups"]} == {"apps", "batch", "policy", "coordination.k8s.io",
                                                     "rbac.authorization.k8s.io", "authentication.k8s.io",
                                                     "authorization.k8s.io", "discovery.k8s.io"}  # fmt: skip
    _, batch = apiserver.get("/apis/batch/v1")
    assert {r["name"]: r["categories"] for r in batch["resources"] if r["name"] == "jobs"} == {"jobs": ["all"]}
    _, apps = apiserver.get("/apis/apps/v1")
    assert {"deployments", "deployments/scale", "daemonsets", "statefulsets", "replicasets"} <= {
        r["name"] for r in apps["resources"]
    }
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    code, agg = apiserver.get("/apis", headers={"Accept": accept})
    assert code == 200 and agg["kind"] == "APIGroupDiscoveryList"
    policy = next(i for i in agg["items"] if i["metadata"]["name"] == "policy")
    assert policy["versions"][0]["resources"][0]["resource"] == "poddisruptionbudgets"


def test_authentication(apiserver):
    anonymous = ssl.create_default_context(cafile=str(apiserver.paths["ca_crt"]))
    conn = apiserver.connect(anonymous)
    conn.request("GET", "/api/v1/nodes")  # anonymous requests are system:anonymous, which RBAC gives little
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert (resp.status, body["kind"], body["reason"]) == (403, "Status", "Forbidden")
    assert body["message"] == (
        'nodes is forbidden: User "system:anonymous" cannot list resource "nodes" in API group "" at the cluster scope'
    )
    conn.request("GET", "/version")  # system:public-info-viewer
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["gitVersion"] == "v1.35.2"
    conn.request("GET", "/api/v1/nodes", headers={"Authorization": "Bearer lab-test-token"})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["kind"] == "NodeList"
    conn.request("GET", "/api/v1/nodes", headers={"Authorization": "Bearer wrong"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 401
    conn.close()


def test_create_get_update_and_conflicts(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    cm = apiserver.ok("POST", path, {"metadata": {"name": "c1", "labels": {"a": "1"}}, "data": {"k": "v"}})
    meta = cm["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z") and int(meta["resourceVersion"]) > 0
    assert (cm["kind"], cm["apiVersion"], meta["namespace"]) == ("ConfigMap", "v1", ns)

    code, err = apiserver.post(path, {"metadata": {"name": "c1"}})
    assert code == 409 and err["reason"] == "AlreadyExists"
    assert err["message"] == 'configmaps "c1" already exists'
    assert err["details"] == {"name": "c1", "kind": "configmaps"}

    updated = apiserver.ok("PUT", f"{path}/c1", dict(cm, data={"k": "v2"}))
    assert int(updated["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert updated["metadata"]["uid"] == meta["uid"]

    code, err = apiserver.put(f"{path}/c1", dict(cm, data={"k": "stale"}))  # cm carries the old resourceVersion
    assert code == 409 and err["reason"] == "Conflict"
    assert "the object has been modified" in err["message"]
    assert apiserver.ok("GET", f"{path}/c1")["data"] == {"k": "v2"}

    code, err = apiserver.get(f"{path}/nope")
    assert (code, err["reason"], err["message"]) == (404, "NotFound", 'configmaps "nope" not found')
    code, err = apiserver.post(f"/api/v1/namespaces/{ns}-missing/configmaps", {"metadata": {"name": "x"}})
    assert code == 404 and err["message"] == f'namespaces "{ns}-missing" not found'
    code, err = apiserver.post(path, {"metadata": {"name": "Bad_Name"}})
    assert code == 422 and err["reason"] == "Invalid" and err["details"]["causes"][0]["field"] == "metadata.name"
    gen = apiserver.ok("POST", path, {"metadata": {"generateName": "gen-"}})
    assert gen["metadata"]["name"].startswith("gen-") and len(gen["metadata"]["name"]) == 9


def test_generation_and_status_subresource(apiserver, ns):
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    template = {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    spec = {"replicas": 2, "selector": {"matchLabels": {"app": "d"}}, "template": template}
    d = apiserver.ok("POST", path, {"metadata": {"name": "d"}, "spec": spec})
    assert d["metadata"]["generation"] == 1 and d["spec"]["strategy"]["type"] == "RollingUpdate"
    d = apiserver.ok("PATCH", f"{path}/d/status", {"status": {"observedGeneration": 1, "replicas": 2}})
    assert d["metadata"]["generation"] == 1 and d["status"]["replicas"] == 2
    d = apiserver.ok("PATCH", f"{path}/d", {"spec": {"replicas": 3}, "status": {"replicas": 99}})
    assert (d["metadata"]["generation"], d["spec"]["replicas"]) == (2, 3)
    assert d["status"] == {"observedGeneration": 1, "replicas": 2}  # status ignored on the main resource
    d = apiserver.ok("PATCH", f"{path}/d", {"metadata": {"labels": {"x": "y"}}})
    assert d["metadata"]["generation"] == 2  # metadata changes do not bump the generation
    scale = apiserver.ok("GET", f"{path}/d/scale")
    assert (scale["kind"], scale["spec"]["replicas"], scale["status"]["selector"]) == ("Scale", 3, "app=d")


def test_patch_flavours(apiserver):
    name = f"n-{time.time_ns()}"
    apiserver.node(name)
    path = f"/api/v1/nodes/{name}"
    node = apiserver.ok(
        "PATCH", path, {"spec": {"unschedulable": True}}, ctype="application/strategic-merge-patch+json"
    )
    assert node["spec"]["unschedulable"] is True
    node = apiserver.ok(
        "PATCH", path, {"spec": {"unschedulable": None}}, ctype="application/strategic-merge-patch+json"
    )
    assert "unschedulable" not in node["spec"]
    ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]
    node = apiserver.ok("PATCH", path, ops, ctype="application/json-patch+json")
    assert node["metadata"]["annotations"] == {"a": "b"}
    cond = {"status": {"conditions": [{"type": "MemoryPressure", "status": "False"}]}}
    node = apiserver.ok("PATCH", f"{path}/status", cond, ctype="application/strategic-merge-patch+json")
    assert {c["type"] for c in node["status"]["conditions"]} == {"Ready", "MemoryPressure"}  # merged by type
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"unschedulable": True}}
    code, err = apiserver.patch(path, stale)
    assert code == 409 and err["reason"] == "Conflict"
    code, err = apiserver.patch(path, {"a": 1}, ctype="application/yaml-unknown")
    assert code == 415


def test_label_and_field_selectors(apiserver, ns):
    apiserver.node(f"sel-{ns}")
    for i, (labels, phase) in enumerate(
        [({"app": "a", "tier": "x"}, "Running"), ({"app": "b"}, "Pending"), ({"app": "c", "tier": "y"}, "Running")]
    ):
        apiserver.pod(ns, f"p{i}", node=f"sel-{ns}" if i != 1 else None, phase=phase, labels=labels)

    def names(query: str, base: str = f"/api/v1/namespaces/{ns}/pods") -> list[str]:
        return [p["metadata"]["name"] for p in apiserver.ok("GET", f"{base}?{query}")["items"]]

    assert names("labelSelector=app%3Da") == ["p0"]
    assert names("labelSelector=app%3D%3Da") == ["p0"]
    assert names("labelSelector=app!%3Da") == ["p1", "p2"]
    assert names("labelSelector=app+in+(a,c)") == ["p0", "p2"]
    assert names("labelSelector=app+notin+(a,c)") == ["p1"]
    assert names("labelSelector=tier") == ["p0", "p2"]
    assert names("labelSelector=!tier") == ["p1"]
    assert names("labelSelector=tier,app%3Dc") == ["p2"]
    assert names(f"fieldSelector=spec.nodeName%3Dsel-{ns}") == ["p0", "p2"]
    assert names(f"fieldSelector=spec.nodeName%3Dsel-{ns}", "/api/v1/pods") == ["p0", "p2"]
    assert names("fieldSelector=spec.nodeName%3D") == ["p1"]
    assert names("fieldSelector=status.phase!%3DRunning") == ["p1"]
    assert names("fieldSelector=metadata.name%3Dp2") == ["p2"]
    assert names(f"fieldSelector=metadata.namespace%3D{ns},status.phase%3DRunning", "/api/v1/pods") == ["p0", "p2"]
    code, err = apiserver.get(f"/api/v1/namespaces/{ns}/pods?fieldSelector=spec.bogus%3Dx")
    assert code == 400 and err["reason"] == "BadRequest"


def test_pagination_and_expired_continue(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for i in range(25):
        apiserver.ok("POST", path, {"metadata": {"name": f"cm-{i:02d}"}})
    first = apiserver.ok("GET", f"{path}?limit=10")
    assert len(first["items"]) == 10 and first["metadata"]["remainingItemCount"] == 15
    apiserver.ok("POST", path, {"metadata": {"name": "cm-added-later"}})  # not in the snapshot
    seen = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = apiserver.ok("GET", f"{path}?limit=10&continue={token}")
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        seen += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert seen == [f"cm-{i:02d}" for i in range(25)]

    stale = apiserver.ok("GET", f"{path}?limit=5")["metadata"]["continue"]
    time.sleep(4.5)  # continue_ttl_seconds is 4 in this fixture
    code, err = apiserver.get(f"{path}?limit=5&continue={stale}")
    assert (code, err["reason"], err["code"]) == (410, "Expired", 410)
    assert err["message"].startswith("The provided continue parameter is too old")
    code, err = apiserver.get(f"{path}?limit=5&continue=garbage")
    assert code == 400


def test_objects_live_in_etcd_under_registry(apiserver, ns):
    apiserver.node(f"etcd-{ns}")
    apiserver.pod(ns, "inetcd")
    apiserver.ok(
        "POST", f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}
    )
    keys = apiserver.etcdctl("get", "--prefix", "--keys-only", "/registry/").split()
    assert f"/registry/pods/{ns}/inetcd" in keys
    assert f"/registry/minions/etcd-{ns}" in keys
    assert f"/registry/namespaces/{ns}" in keys
    assert f"/registry/services/specs/{ns}/svc" in keys
    value, rev = apiserver.etcd.get(f"/registry/pods/{ns}/inetcd")
    stored = json.loads(value)
    assert stored["metadata"]["name"] == "inetcd" and "resourceVersion" not in stored["metadata"]
    pod = apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/inetcd")
    assert pod["metadata"]["resourceVersion"] == str(rev)
    # A write made directly in etcd reaches the API server through its watch.
    stored["metadata"]["labels"] = {"written": "in-etcd"}
    apiserver.etcd.put(f"/registry/pods/{ns}/inetcd", json.dumps(stored))
    deadline = time.monotonic() + 5
    while apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/inetcd")["metadata"].get("labels") != {
        "written": "in-etcd"
    }:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_protobuf_bodies_are_understood(apiserver, ns):
    # kubectl's typed clients send protobuf: a Namespace-free ConfigMap made by hand in that encoding.
    def field(num: int, payload: bytes) -> bytes:
        return bytes([num << 3 | 2, len(payload)]) + payload

    meta = field(1, b"pb-cm")
    raw = field(1, meta) + field(2, field(1, b"k") + field(2, b"v"))
    type_meta = field(1, b"v1") + field(2, b"ConfigMap")
    body = b"k8s\x00" + field(1, type_meta) + field(2, raw)
    code, cm = apiserver.post(f"/api/v1/namespaces/{ns}/configmaps", body, ctype="application/vnd.kubernetes.protobuf")
    assert code == 201, cm
    assert (cm["metadata"]["name"], cm["data"]) == ("pb-cm", {"k": "v"})
