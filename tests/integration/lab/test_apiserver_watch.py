"""The lab API server's watches: replay from a resourceVersion, selectors, bookmarks, 410, timeouts."""

from __future__ import annotations

import json
import time

pytest_plugins = ["apiserver_fixture"]


class Watch:
    def __init__(self, apiserver, path: str, accept: str = "application/json"):
        self.conn = apiserver.connect(timeout=10)
        self.conn.request("GET", path, headers={"Accept": accept})
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        assert self.resp.getheader("Transfer-Encoding") == "chunked"

    def next(self) -> dict:
        line = self.resp.readline()
        assert line, "watch ended"
        return json.loads(line)

    def events(self, count: int, skip_bookmarks: bool = True) -> list[tuple[str, str]]:
        out = []
        while len(out) < count:
            ev = self.next()
            if skip_bookmarks and ev["type"] == "BOOKMARK":
                continue
            out.append((ev["type"], ev["object"]["metadata"].get("name")))
        return out

    def close(self) -> None:
        self.conn.close()


def test_watch_from_resource_version_replays_and_follows(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    apiserver.ok("POST", path, {"metadata": {"name": "before"}})
    rv = apiserver.ok("GET", path)["metadata"]["resourceVersion"]
    apiserver.ok("POST", path, {"metadata": {"name": "a"}})
    apiserver.ok("PATCH", f"{path}/a", {"data": {"x": "1"}})
    w = Watch(apiserver, f"{path}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true")
    try:
        assert w.events(2) == [("ADDED", "a"), ("MODIFIED", "a")]
        apiserver.ok("DELETE", f"{path}/a")
        apiserver.ok("POST", f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "other-kind"}})
        apiserver.ok("POST", path, {"metadata": {"name": "b"}})
        assert w.events(2) == [("DELETED", "a"), ("ADDED", "b")]
    finally:
        w.close()


def test_watch_without_resource_version_starts_with_current_objects(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("x1", "x2"):
        apiserver.ok("POST", path, {"metadata": {"name": name}})
    w = Watch(apiserver, f"{path}?watch=true")
    try:
        assert sorted(w.events(2)) == [("ADDED", "x1"), ("ADDED", "x2")]
    finally:
        w.close()


def test_watch_selectors_turn_changes_into_added_and_deleted(apiserver, ns):
    node = f"w-{ns}"
    apiserver.node(node)
    apiserver.pod(ns, "moving")
    rv = apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods")["metadata"]["resourceVersion"]
    w = Watch(
        apiserver,
        f"/api/v1/pods?watch=1&resourceVersion={rv}&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3D{node}",
    )
    try:
        apiserver.pod(ns, "elsewhere")  # not on the node: filtered out
        apiserver.pod(ns, "here", node=node)
        apiserver.ok("PATCH", f"/api/v1/namespaces/{ns}/pods/here", {"metadata": {"labels": {"app": "other"}}})
        apiserver.ok("PATCH", f"/api/v1/namespaces/{ns}/pods/here", {"metadata": {"labels": {"app": "web"}}})
        assert w.events(3) == [("ADDED", "here"), ("DELETED", "here"), ("ADDED", "here")]
    finally:
        w.close()


def test_bookmarks_and_timeout(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = apiserver.ok("GET", path)["metadata"]["resourceVersion"]
    started = time.monotonic()
    w = Watch(apiserver, f"{path}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=2")
    try:
        ev = w.next()
        assert ev["type"] == "BOOKMARK" and ev["object"]["kind"] == "ConfigMap"
        assert int(ev["object"]["metadata"]["resourceVersion"]) >= int(rv)
        while w.resp.readline():
            pass  # the server ends the stream after timeoutSeconds
        assert 1.5 < time.monotonic() - started < 5
    finally:
        w.close()


def test_too_old_resource_version_is_410_expired(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    old = apiserver.ok("POST", path, {"metadata": {"name": "old"}})["metadata"]["resourceVersion"]
    for i in range(210):  # the fixture keeps 200 events a resource
        apiserver.ok("PATCH", f"{path}/old", {"data": {"i": str(i)}})
    w = Watch(apiserver, f"{path}?watch=1&resourceVersion={old}")
    try:
        ev = w.next()
        assert ev["type"] == "ERROR"
        assert (ev["object"]["kind"], ev["object"]["code"], ev["object"]["reason"]) == ("Status", 410, "Expired")
        assert ev["object"]["message"].startswith(f"too old resource version: {old}")
    finally:
        w.close()


def test_quiet_watch_without_bookmarks_keeps_going(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = apiserver.ok("GET", path)["metadata"]["resourceVersion"]
    w = Watch(apiserver, f"{path}?watch=1&resourceVersion={rv}&timeoutSeconds=5")
    try:
        time.sleep(1.5)  # several bookmark intervals of the fixture pass without any event
        apiserver.ok("POST", path, {"metadata": {"name": "late"}})
        assert w.next()["type"] == "ADDED"  # no BOOKMARK was asked for, none is sent
    finally:
        w.close()


def test_table_watch_for_kubectl_get_w(apiserver, ns):
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = apiserver.ok("GET", path)["metadata"]["resourceVersion"]
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    w = Watch(apiserver, f"{path}?watch=1&resourceVersion={rv}", accept)
    try:
        apiserver.ok("POST", path, {"metadata": {"name": "t1"}, "data": {"a": "b"}})
        apiserver.ok("POST", path, {"metadata": {"name": "t2"}})
        first, second = w.next(), w.next()
        assert first["object"]["kind"] == "Table" and first["object"]["rows"][0]["cells"][:2] == ["t1", 1]
        assert [c["name"] for c in first["object"]["columnDefinitions"]] == ["Name", "Data", "Age"]
        assert second["object"]["columnDefinitions"] is None and second["object"]["rows"][0]["cells"][0] == "t2"
    finally:
        w.close()
