"""A small, fast Kubernetes JSON REST client for the lab's components (stdlib only).

Client-certificate TLS with keep-alive connections (one per thread), plain dicts in and out, paginated
lists and watches. The simulated controllers, scheduler and kubelets use it like the real ones use
client-go: list, then watch from the list's resourceVersion, relist on 410 Gone.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import ssl
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml

GROUPS = {
    "apps/v1": {"deployments", "replicasets", "daemonsets", "statefulsets", "controllerrevisions"},
    "batch/v1": {"jobs"},
    "rbac.authorization.k8s.io/v1": {"roles", "rolebindings", "clusterroles", "clusterrolebindings"},
    "authorization.k8s.io/v1": {
        "selfsubjectaccessreviews",
        "selfsubjectrulesreviews",
        "subjectaccessreviews",
        "localsubjectaccessreviews",
    },
    "authentication.k8s.io/v1": {"selfsubjectreviews", "tokenreviews"},
    "policy/v1": {"poddisruptionbudgets"},
    "coordination.k8s.io/v1": {"leases"},
    "discovery.k8s.io/v1": {"endpointslices"},
}
CLUSTER_SCOPED = {
    "nodes",
    "namespaces",
    "clusterroles",
    "clusterrolebindings",
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "subjectaccessreviews",
    "selfsubjectreviews",
    "tokenreviews",
}


@dataclass(frozen=True)
class ApiResource:
    """One resource as discovery describes it (``/api/v1``, ``/apis/<group>/<version>``)."""

    group_version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]

    @property
    def group(self) -> str:
        return self.group_version.rpartition("/")[0]

    def url(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        parts = [base, *(["namespaces", namespace] if namespace and self.namespaced else []), self.plural]
        return "/".join(parts + [p for p in (name, sub) if p])


def discover(client: KubeClient) -> list[ApiResource]:
    """Every resource (not subresource) of the preferred version of each group, core group first
    (``discovery.ServerPreferredResources``)."""
    versions = ["v1"]
    for group in client.get("/apis").get("groups") or []:
        versions.append(group["preferredVersion"]["groupVersion"])
    found = []
    for gv in versions:
        listing = client.get("/api/v1" if gv == "v1" else f"/apis/{gv}")
        for r in listing.get("resources") or []:
            if "/" not in r["name"]:
                found.append(ApiResource(gv, r["name"], r["kind"], r["namespaced"], tuple(r.get("verbs") or ())))
    return found


class ApiError(Exception):
    """A non-2xx answer; ``body`` is the decoded ``kind: Status`` when there is one."""

    def __init__(self, status: int, body: dict[str, Any] | None, what: str):
        self.status = status
        self.body = body or {}
        self.reason = self.body.get("reason", "")
        super().__init__(f"{what}: {status} {self.body.get('message', '')}".strip())


def api_prefix(resource: str) -> str:
    for group_version, resources in GROUPS.items():
        if resource in resources:
            return f"/apis/{group_version}"
    return "/api/v1"


def path(resource: str, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
    """The REST path of a collection, an object or a subresource: ``path("pods", "ns", "p", "eviction")``."""
    parts = [api_prefix(resource)]
    if namespace and resource not in CLUSTER_SCOPED:
        parts += ["namespaces", namespace]
    parts.append(resource)
    if name:
        parts.append(name)
    if sub:
        parts.append(sub)
    return "/".join(parts)


def _materialise(data_b64: str | None, file_path: str | None, temps: list[str]) -> str | None:
    """A file path for inline kubeconfig data (ssl wants files), recorded in ``temps`` for deletion."""
    if file_path or not data_b64:
        return file_path
    fd, name = tempfile.mkstemp(prefix="labkit-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64decode(data_b64))
    temps.append(name)
    return name


class KubeClient:
    def __init__(
        self,
        server: str,
        ca: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        token: str | None = None,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
        ca_pem: str | None = None,
        token_source: Callable[[], str] | None = None,
    ):
        url = urllib.parse.urlsplit(server)
        if url.hostname is None:  # not https://host[:port] (kubeconfigs the lab writes always name one)
            raise ValueError(f"server {server!r} has no host")
        self.host, self.port = url.hostname, url.port or 443
        self.timeout = timeout
        self.token = token
        self.token_source = token_source  # called for every request: a token that is renewed
        self.server = server
        if ca_pem is None and ca:
            with open(ca) as handle:
                ca_pem = handle.read()
        self.ca_pem = ca_pem
        if ssl_context is None:
            ssl_context = ssl.create_default_context(cadata=ca_pem)
            ssl_context.check_hostname = False  # the lab's serving cert is for 127.0.0.1 and names; CA pinned
            if cert:
                ssl_context.load_cert_chain(cert, key)
        self.ssl = ssl_context
        self._local = threading.local()

    @classmethod
    def from_kubeconfig(cls, kubeconfig: str, **kwargs: Any) -> KubeClient:
        with open(kubeconfig) as handle:
            config = yaml.safe_load(handle)
        context_name = config.get("current-context")
        context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        temps: list[str] = []
        ca = _materialise(cluster.get("certificate-authority-data"), cluster.get("certificate-authority"), temps)
        cert = _materialise(user.get("client-certificate-data"), user.get("client-certificate"), temps)
        key = _materialise(user.get("client-key-data"), user.get("client-key"), temps)
        try:
            return cls(cluster["server"], ca=ca, cert=cert, key=key, token=user.get("token"), **kwargs)
        finally:
            for name in temps:
                os.unlink(name)

    def with_token(self, token_source: Callable[[], str]) -> KubeClient:
        """A client of the same server and CA that authenticates with a bearer token (and no certificate)."""
        return KubeClient(self.server, timeout=self.timeout, ca_pem=self.ca_pem, token_source=token_source)

    def _authorization(self) -> str | None:
        token = self.token_source() if self.token_source is not None else self.token
        return f"Bearer {token}" if token else None

    # -- transport ---------------------------------------------------------------------------------------

    def _connection(self, timeout: float | None = None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.ssl, timeout=timeout or self.timeout)

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        content_type: str = "application/json",
        what: str | None = None,
    ) -> dict[str, Any]:
        if params:
            query = {k: v for k, v in params.items() if v is not None}
            if query:
                url = f"{url}?{urllib.parse.urlencode(query)}"
        headers = {"Accept": "application/json"}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._connection()
            try:
                conn.request(method, url, payload, headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        if "json" in (response.getheader("Content-Type") or "application/json"):
            decoded = json.loads(data) if data else {}
        else:
            decoded = {"text": data.decode(errors="replace")}  # /healthz, /readyz, /livez answer "ok"
        if response.status >= 400 and payload is not None:
            # a server refusing a request early may not have read its body: that connection is not reusable
            self._local.conn.close()
            self._local.conn = None
        if response.status >= 300:
            raise ApiError(response.status, decoded if isinstance(decoded, dict) else None, what or f"{method} {url}")
        return decoded

    # -- verbs -------------------------------------------------------------------------------------------

    def get(self, url: str, **params: Any) -> dict[str, Any]:
        return self.request("GET", url, params=params)

    def get_or_none(self, url: str) -> dict[str, Any] | None:
        try:
            return self.get(url)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create(self, url: str, obj: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self.request("POST", url, obj, params=params)

    def update(self, url: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.request("PUT", url, obj)

    def patch(self, url: str, patch: Any, kind: str = "merge") -> dict[str, Any]:
        content_type = {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "json": "application/json-patch+json",
        }[kind]
        return self.request("PATCH", url, patch, content_type=content_type)

    def delete(
        self, url: str, grace_period: int | None = None, uid: str | None = None, propagation: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period is not None:
            body["gracePeriodSeconds"] = grace_period
        if uid:
            body["preconditions"] = {"uid": uid}
        if propagation:
            body["propagationPolicy"] = propagation
        return self.request("DELETE", url, body)

    def delete_ignoring_missing(self, url: str, **kwargs: Any) -> dict[str, Any] | None:
        try:
            return self.delete(url, **kwargs)
        except ApiError as exc:
            if exc.status in (404, 409):
                return None
            raise

    def list_pages(self, url: str, limit: int = 500, **params: Any) -> Iterator[dict[str, Any]]:
        """Each page of a paginated list (restarting from scratch when a continue token expired)."""
        token = None
        while True:
            try:
                page = self.get(url, limit=limit, **{"continue": token}, **params)
            except ApiError as exc:
                if exc.status == 410 and token:
                    token = None
                    continue
                raise
            yield page
            token = page.get("metadata", {}).get("continue")
            if not token:
                return

    def list_all(self, url: str, limit: int = 500, **params: Any) -> tuple[list[dict[str, Any]], str]:
        """Every item of a list and the resourceVersion of its first page (to watch from)."""
        items: list[dict[str, Any]] = []
        version = ""
        for page in self.list_pages(url, limit=limit, **params):
            version = version or page.get("metadata", {}).get("resourceVersion", "")
            items.extend(page.get("items") or [])
        return items, version

    def watch(self, url: str, resource_version: str, timeout_seconds: int = 300, **params: Any) -> Iterator[dict]:
        """Events of one watch request (``{"type", "object"}``) until the server ends it."""
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": timeout_seconds,
            **params,
        }
        conn = self._connection(timeout=timeout_seconds + 30)
        headers = {"Accept": "application/json"}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        try:
            conn.request("GET", f"{url}?{urllib.parse.urlencode(query)}", headers=headers)
            response = conn.getresponse()
            if response.status >= 300:
                data = response.read()
                raise ApiError(response.status, json.loads(data) if data else None, f"watch {url}")
            while True:
                line = response.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()


class Informer:
    """A cache of one resource kept current by list + watch, calling ``handler(kind, obj, old)``.

    ``kind`` is ADDED, MODIFIED or DELETED. Runs in a daemon thread; ``synced`` is set after the first list.
    ``transform`` trims objects before they are cached (like client-go's SetTransform); with ``cache=False``
    nothing is kept and every relisted object is reported as ADDED (for level-triggered handlers).
    """

    def __init__(
        self,
        client: KubeClient,
        resource: str,
        handler: Callable[[str, dict, dict | None], None] | None = None,
        lock: threading.RLock | None = None,
        transform: Callable[[dict], dict] | None = None,
        cache: bool = True,
        url: str | None = None,
        **params: Any,
    ):
        self.client = client
        self.transform = transform or (lambda obj: obj)
        self.cache = cache
        self.resource = resource
        self.url = url or path(resource)
        self.params = params
        self.handler = handler or (lambda kind, obj, old: None)
        self.lock = lock or threading.RLock()
        self.store: dict[str, dict[str, Any]] = {}
        self.synced = threading.Event()
        self.connected_since: float | None = None  # time.monotonic() of the last relist; None while cut off
        self.thread = threading.Thread(target=self._run, name=f"informer-{resource}", daemon=True)

    @staticmethod
    def key(obj: dict[str, Any]) -> str:
        meta = obj["metadata"]
        return f"{meta.get('namespace', '')}/{meta['name']}"

    def start(self) -> Informer:
        self.thread.start()
        return self

    def _relist(self) -> str:
        if not self.cache:
            version = ""
            for page in self.client.list_pages(self.url, **self.params):
                version = version or page.get("metadata", {}).get("resourceVersion", "")
                for obj in page.get("items") or []:
                    self.handler("ADDED", self.transform(obj), None)
            self.synced.set()
            self.connected_since = time.monotonic()
            return version
        items, version = self.client.list_all(self.url, **self.params)
        fresh = {self.key(obj): self.transform(obj) for obj in items}
        with self.lock:
            for key, gone in list(self.store.items()):
                if key not in fresh:
                    del self.store[key]
                    self.handler("DELETED", gone, gone)
            for key, obj in fresh.items():
                old = self.store.get(key)
                self.store[key] = obj
                if old is None:
                    self.handler("ADDED", obj, None)
                elif old["metadata"].get("resourceVersion") != obj["metadata"].get("resourceVersion"):
                    self.handler("MODIFIED", obj, old)
        self.synced.set()
        self.connected_since = time.monotonic()
        return version

    def _run(self) -> None:
        version = None
        while True:
            try:
                if version is None:
                    version = self._relist()
                for event in self.client.watch(self.url, version, **self.params):
                    if self.connected_since is None:  # a watch resumed after an error: in view again
                        self.connected_since = time.monotonic()
                    kind, obj = event.get("type", ""), event.get("object") or {}
                    if kind == "ERROR":
                        version = None if obj.get("code") == 410 else version
                        break
                    version = obj.get("metadata", {}).get("resourceVersion") or version
                    if kind == "BOOKMARK":
                        continue
                    obj = self.transform(obj)
                    if not self.cache:
                        self.handler(kind, obj, None)
                        continue
                    key = self.key(obj)
                    with self.lock:
                        old = self.store.get(key)
                        if kind == "DELETED":
                            self.store.pop(key, None)
                        else:
                            self.store[key] = obj
                            kind = "MODIFIED" if old is not None else "ADDED"
                        self.handler(kind, obj, old)
            except ApiError as exc:
                if exc.status == 410:
                    version = None
                else:
                    self.connected_since = None
                    time.sleep(0.5)
            except (OSError, http.client.HTTPException, ValueError):
                self.connected_since = None
                time.sleep(0.5)
            except Exception:  # a handler's bug must not silently stop the informer
                logging.getLogger("informer").exception("informer %s", self.resource)
                version = None
                time.sleep(1.0)
