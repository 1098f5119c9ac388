"""HTTPS front end: authentication, routing, and the REST verbs over the registry and the watch cache."""

from __future__ import annotations

import json
import logging
import queue
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import (
    componentstatus,
    deprecation,
    discovery,
    errors,
    escalation,
    openapi,
    protobuf,
    requestinfo,
    reviews,
    schema,
)
from .authn import Authenticator, User, impersonate
from .authz import Attributes, Authorizer
from .errors import ApiError, status_body
from .eviction import Eviction
from .fieldvalidation import FieldValidation
from .metrics import Metrics
from .registry import PODS, Registry, now_iso
from .resources import BY_PATH, Resource
from .selectors import field_matcher, label_matcher, node_name_of
from .store import Store, dumps, make_entry
from .tables import table

log = logging.getLogger("apiserver")
access = logging.getLogger("apiserver.access")
JSON = "application/json"
MAX_DRAINED = 1 << 20  # bytes of an unread body an error response reads to keep the connection


JOB_ORPHAN_WARNING = (
    "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them "
    "or set propagationPolicy=Orphan to suppress this warning"
)


def warning_header(text: str) -> str:
    """RFC 7234 warning: code 299, agent "-", the text quoted (what the real server's warning recorder sends)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


class App:
    """What the handlers share: the store, registry, settings."""

    def __init__(self, config: dict, store: Store):
        self.config = config
        self.store = store
        self.registry = Registry(store)
        self.eviction = Eviction(self.registry)
        self.authenticator = Authenticator(config, store)
        self.authorizer = Authorizer(config, store)
        self.issuer = self.authenticator.issuer
        self.signer = None
        if config.get("service_account_signing_key_file"):
            from .satokens import Signer

            self.signer = Signer(config["service_account_signing_key_file"])
        self.version = config.get("version", "v1.35.2")
        self.bookmark_interval = float(config.get("bookmark_interval_seconds", 10))
        self.watch_timeout = float(config.get("watch_timeout_seconds", 1800))
        self.stopping = threading.Event()
        self.schemas = schema.load(Path(config["schemas_file"])) if config.get("schemas_file") else schema.load()
        self.openapi = openapi.documents(self.version, self.schemas)
        self.metrics = Metrics()
        self.server_version = deprecation.server_version(self.version)

    def version_info(self) -> dict:
        v = self.version.lstrip("v")
        major, minor = v.split(".")[:2]
        return {
            "major": major,
            "minor": minor,
            "emulationMajor": major,
            "emulationMinor": minor,
            "minCompatibilityMajor": major,
            "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
            "gitVersion": "v" + v,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.24.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }


def _bool(q: dict, name: str) -> bool:
    return (q.get(name) or [""])[0].lower() in ("1", "true")


def _int(q: dict, name: str, default: int | None = None) -> int | None:
    raw = (q.get(name) or [""])[0]
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise errors.bad_request(f"invalid {name} {raw!r}") from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-lab"
    timeout = 300  # idle keep-alive connections are closed after this
    app: App
    server: Server
    _raw: bytes | None = None  # the request body once read

    def setup(self) -> None:
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    def log_message(self, fmt, *args) -> None:
        access.debug("%s " + fmt, self.address_string(), *args)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError):
            self.close_connection = True

    # --- plumbing --------------------------------------------------------------------------------------------

    def send_body(self, code: int, body: bytes, ctype: str = JSON) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for text in getattr(self, "warnings", ()):
            self.send_header("Warning", warning_header(text))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        if self.command != "HEAD" and len(body) < 65536:  # headers and body in one TLS record
            # _headers_buffer: http.server's private buffer that send_header() fills (not in typeshed)
            self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
            self._headers_buffer.append(body)  # type: ignore[attr-defined]
            self.flush_headers()
            return
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_obj(self, code: int, obj) -> None:
        self.send_body(code, dumps(obj))

    def raw_body(self) -> bytes:
        """The request's body, read once (an early error reads it too: the connection stays usable)."""
        if self._raw is not None:
            return self._raw
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self._raw = b"".join(chunks)
        else:
            self._raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return self._raw

    def read_body(self):
        raw = self.raw_body()
        if not raw:
            return None
        ctype = self.headers.get("Content-Type", JSON).split(";")[0].strip()
        self.protobuf_body = ctype == "application/vnd.kubernetes.protobuf"
        if self.protobuf_body:  # Go's protobuf decoding drops unknown fields silently
            try:
                return protobuf.decode_body(raw)
            except protobuf.ProtobufError as exc:
                raise ApiError(415, str(exc), "UnsupportedMediaType") from None
        if "cbor" in ctype:  # like a server without CBOR: client-go falls back to JSON on a 415
            raise ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                                "application/json, application/yaml, application/vnd.kubernetes.protobuf",
                           "UnsupportedMediaType")  # fmt: skip
        try:
            return schema.loads(raw)  # keeps repeated keys in view for field validation
        except ValueError:
            if "yaml" in self.headers.get("Content-Type", ""):
                try:
                    import yaml

                    return yaml.safe_load(raw)
                except Exception:
                    pass
            raise errors.bad_request("the body of the request could not be decoded as JSON") from None

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def dispatch(self) -> None:
        started = time.monotonic()
        code = 0
        self.warnings: list[str] = []
        self.protobuf_body = False
        self._raw = None
        attrs: Attributes | None = None
        try:
            url = urlsplit(self.path)
            self.query = parse_qs(url.query)
            path = url.path.rstrip("/") or "/"
            if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/", "/livez/", "/readyz/")):
                ok = path.startswith("/livez") or self.app.store.healthy
                self.send_body(200 if ok else 500, b"ok" if ok else b"[-]etcd failed", "text/plain; charset=utf-8")
                return
            self.user = self.app.authenticator.authenticate(self.headers.get("Authorization", ""),
                                                            self.request.getpeercert())  # fmt: skip
            self.user = impersonate(self.user, self.headers, self.may_impersonate)
            attrs = requestinfo.attributes(self.user, self.command, path, self.query)
            self.app.authorizer.check(attrs)
            if attrs.resource_request:
                self.note_deprecation(attrs)
            code = self.route(path)
        except ApiError as exc:
            code = exc.code
            if exc.code >= 500:
                log.warning("%s %s: %s", self.command, self.path, exc.message)
            if self._raw is None and int(self.headers.get("Content-Length") or 0) > MAX_DRAINED:
                self.close_connection = True  # not worth reading: close instead
            else:
                self.raw_body()
            self.send_body(exc.code, exc.body())
        except (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError):
            self.close_connection = True
        except Exception as exc:
            log.exception("%s %s failed", self.command, self.path)
            code = 500
            try:
                self.send_body(500, errors.internal(str(exc)).body())
            except OSError:
                self.close_connection = True
        finally:
            access.info("%s %s %s %.1fms", self.command, self.path, code, (time.monotonic() - started) * 1000)
            if attrs is not None and attrs.resource_request:
                scope = "resource" if attrs.name else "namespace" if attrs.namespace else "cluster"
                self.app.metrics.request(attrs.verb.upper(), attrs.group, attrs.version, attrs.resource,
                                         attrs.subresource, scope, code, bool(self.query.get("dryRun")))  # fmt: skip

    def note_deprecation(self, attrs: Attributes) -> None:
        """The deprecated API's Warning header and its apiserver_requested_deprecated_apis gauge."""
        found = deprecation.find(attrs.group, attrs.version, attrs.resource, self.app.server_version)
        if found is not None:
            self.warnings.append(found.warning())
            self.app.metrics.deprecated_request(attrs.group, attrs.version, attrs.resource, attrs.subresource,
                                                found.removed_release)  # fmt: skip

    def may_impersonate(self, user: User, resource: str, namespace: str, name: str, group: str) -> None:
        resource, _, sub = resource.partition("/")
        self.app.authorizer.check(Attributes(user, "impersonate", True, namespace, group, "", resource, sub, name))

    # --- routing ---------------------------------------------------------------------------------------------

    def route(self, path: str) -> int:
        parts = path.strip("/").split("/")
        if path == "/version":
            self.send_obj(200, self.app.version_info())
            return 200
        if path == "/metrics":
            self.send_body(200, self.app.metrics.render(), "text/plain; version=0.0.4; charset=utf-8")
            return 200
        if path == "/openapi/v3":
            self.send_obj(200, self.app.openapi[0])
            return 200
        if path.startswith("/openapi/v3/") and path[len("/openapi/v3/") :] in self.app.openapi[1]:
            self.send_body(200, self.app.openapi[1][path[len("/openapi/v3/") :]])
            return 200
        if parts[0] == "api":
            if len(parts) == 1:
                if self.wants_aggregated():
                    return self.send_aggregated(True)
                host = f"{self.app.config.get('advertise_address', '127.0.0.1')}:{self.server.server_address[1]}"
                self.send_obj(200, discovery.api_versions(host))
                return 200
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis":
            if len(parts) == 1:
                if self.wants_aggregated():
                    return self.send_aggregated(False)
                self.send_obj(200, discovery.api_group_list())
                return 200
            if len(parts) == 2:
                doc = discovery.api_group(parts[1])
                if doc is None:
                    raise ApiError(404, "the server could not find the requested resource", "NotFound")
                self.send_obj(200, doc)
                return 200
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            self.send_body(404, b"404 page not found\n", "text/plain; charset=utf-8")
            return 404
        if not rest:
            doc = discovery.resource_list(group, version)
            if doc is None:
                raise ApiError(404, "the server could not find the requested resource", "NotFound")
            self.send_obj(200, doc)
            return 200
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and (group, version, rest[2]) in BY_PATH:
            namespace, rest = rest[1], rest[2:]
        res = BY_PATH.get((group, version, rest[0]))
        if res is None or len(rest) > 3 or (namespace and not res.namespaced):
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if res.namespaced and name and namespace is None:
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        if sub and res.sub(sub) is None:
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        return self.serve(res, namespace, name, sub)

    def wants_aggregated(self) -> bool:
        accept = self.headers.get("Accept", "")
        return "as=APIGroupDiscoveryList" in accept and "v=v2;" in accept.replace(" ", "") + ";"

    def send_aggregated(self, core: bool) -> int:
        self.send_body(200, dumps(discovery.aggregated(core)), discovery.AGGREGATED_TYPE)
        return 200

    def wants_table(self) -> bool:
        return "as=Table" in self.headers.get("Accept", "")

    def serve(self, res: Resource, ns: str | None, name: str | None, sub: str | None) -> int:
        method = self.command
        reg = self.app.registry
        dry_run = bool(self.query.get("dryRun"))
        if res.plural == "componentstatuses":
            return self.serve_component_statuses(name)
        if res.virtual or (res.plural == "serviceaccounts" and sub == "token"):
            return self.serve_review(res, ns, name)
        if method in ("GET", "HEAD"):
            if name is None:
                return self.serve_list(res, ns)
            entry = reg.get(res, ns, name)
            if sub == "scale":
                self.send_obj(200, scale_of(res, entry.obj))
            elif self.wants_table():
                self.send_obj(200, table(res.plural, [entry], entry.rv, include=self.include()))
            else:
                self.send_body(200, entry.raw)
            return 200
        body = self.read_body()
        fields = FieldValidation(self.app.schemas, self.query)
        if method in ("POST", "PUT") and not self.protobuf_body:
            kind = res.sub(sub) if sub and sub != "status" else None
            if kind is None:
                body = fields.body(res.api_version, res.kind, body)
            else:
                group = kind.group if kind.group is not None else res.group
                api_version = f"{group}/{kind.version or res.version}" if group else (kind.version or res.version)
                body = fields.body(api_version, kind.kind, body)
            self.warnings += fields.warnings
            if res.group == escalation.GROUP:
                stored = reg.store.get(res, reg.key(res, ns, name)) if name else None
                escalation.check(self.app.authorizer, self.app.store, self.user, res, ns, body,
                                 stored.obj if stored is not None else None)  # fmt: skip
        if method == "POST":
            if name is None:
                entry = reg.create(res, ns, body, dry_run=dry_run)
                self.send_body(201, entry.raw)
                return 201
            if res is PODS and sub == "eviction":
                code, status = self.app.eviction.evict(ns, name, body or {})
                self.send_obj(code, status)
                return code
            if res is PODS and sub == "binding":
                return self.bind(ns, name, body or {})
            raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed")
        if method == "PUT" and name:
            if sub == "scale":
                return self.update_scale(res, ns, name, body or {})
            if dry_run:
                self.send_body(200, reg.get(res, ns, name).raw)
                return 200
            entry = reg.update(res, ns, name, body, sub)
            self.send_body(200, entry.raw)
            return 200
        if method == "PATCH" and name:
            ctype = self.headers.get("Content-Type", "")
            if sub == "scale":
                current = scale_of(res, reg.get(res, ns, name).obj)
                from .patch import apply_patch

                return self.update_scale(res, ns, name, apply_patch(ctype, current, body))
            if dry_run:
                self.send_body(200, reg.get(res, ns, name).raw)
                return 200
            validate = fields.patch(res.api_version, res.kind, ctype, body)

            def check(patched: dict) -> dict:
                patched = validate(patched)
                if res.group == escalation.GROUP:
                    stored = reg.store.get(res, reg.key(res, ns, name or ""))
                    escalation.check(self.app.authorizer, self.app.store, self.user, res, ns, patched,
                                     stored.obj if stored is not None else None)  # fmt: skip
                return patched

            entry = reg.patch(res, ns, name, ctype, body, sub, check)
            self.warnings += fields.all_warnings()
            self.send_body(200, entry.raw)
            return 200
        if method == "DELETE":
            options = dict(body or {}) if isinstance(body, dict) else {}
            grace = _int(self.query, "gracePeriodSeconds")
            if grace is not None:
                options["gracePeriodSeconds"] = grace
            if self.query.get("propagationPolicy"):
                options["propagationPolicy"] = self.query["propagationPolicy"][0]
            if self.query.get("orphanDependents"):
                options["orphanDependents"] = _bool(self.query, "orphanDependents")
            if res.plural == "jobs" and options.get("propagationPolicy") is None and "orphanDependents" not in options:
                self.warnings.append(JOB_ORPHAN_WARNING)  # batch/v1 Jobs orphan their pods by default
            if name is None:
                return self.delete_collection(res, ns, options, dry_run)
            if dry_run:
                self.send_body(200, reg.get(res, ns, name).raw)
                return 200
            entry, details = reg.delete(res, ns, name, options)
            if details and res is not PODS:
                self.send_obj(200, status_body(200, details=details))
            else:
                self.send_body(200, entry.raw)
            return 200
        raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed")

    def serve_review(self, res: Resource, ns: str | None, name: str | None) -> int:
        if self.command != "POST" or (res.virtual and name):
            raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed")
        body = self.read_body()
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request is not a JSON object")
        app = self.app
        if res.virtual:
            answer = reviews.review(res, ns, body, self.user, app.authorizer, app.authenticator)
        elif app.signer is None or ns is None or name is None:
            raise ApiError(404, "the server could not find the requested resource", "NotFound")
        else:
            answer = reviews.token_request(app.registry, app.signer, app.issuer, sorted(app.authenticator.audiences),
                                           ns, name, body)  # fmt: skip
        self.send_obj(201, answer)
        return 201

    def serve_component_statuses(self, name: str | None) -> int:
        if self.command not in ("GET", "HEAD"):
            raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed")
        items = componentstatus.items(self.app.store.healthy, name)
        if self.wants_table():
            entries = [make_entry("componentstatuses", i["metadata"]["name"], i, 0) for i in items]
            self.send_obj(200, table("componentstatuses", entries, self.app.store.rv))
        elif name is not None:
            self.send_obj(200, items[0])
        else:
            self.send_obj(200, {"kind": "ComponentStatusList", "apiVersion": "v1", "metadata": {}, "items": items})
        return 200

    def include(self) -> str:
        return (self.query.get("includeObject") or ["Metadata"])[0]

    # --- list and watch --------------------------------------------------------------------------------------

    def serve_list(self, res: Resource, ns: str | None) -> int:
        q = self.query
        labels = (q.get("labelSelector") or [""])[0]
        fields = (q.get("fieldSelector") or [""])[0]
        lm, fm = label_matcher(labels), field_matcher(res.plural, fields)
        match = (lambda o: lm(o) and fm(o)) if lm and fm else lm or fm
        if _bool(q, "watch"):
            return self.serve_watch(res, ns, match)
        limit = _int(q, "limit", 0) or 0
        token = (q.get("continue") or [""])[0]
        node = node_name_of(res.plural, fields)
        entries, rv, cont, remaining = self.app.store.list(res, ns, match, limit, token or None, node)
        if self.wants_table():
            self.send_obj(200, table(res.plural, entries, rv, cont, self.include()))
            return 200
        meta: dict = {"resourceVersion": str(rv)}
        if cont:
            meta["continue"] = cont
            if remaining is not None and not labels and not fields:
                meta["remainingItemCount"] = remaining
        head = b'{"kind":"%s","apiVersion":"%s","metadata":%s,"items":[' % (
            (res.kind + "List").encode(),
            res.api_version.encode(),
            dumps(meta),
        )
        self.send_body(200, b"".join([head, b",".join(e.raw for e in entries), b"]}"]))
        return 200

    def write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def serve_watch(self, res: Resource, ns: str | None, match) -> int:
        q = self.query
        store = self.app.store
        rv_param = (q.get("resourceVersion") or [""])[0]
        initial = _bool(q, "sendInitialEvents")
        since = None if rv_param in ("", "0") or initial else int(rv_param)
        timeout = _int(q, "timeoutSeconds") or self.app.watch_timeout
        bookmarks = _bool(q, "allowWatchBookmarks")
        self.send_response(200)
        self.send_header("Content-Type", JSON)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.request.settimeout(60)
        try:
            watcher, backlog = store.watch(res, ns, since)
        except ApiError as exc:
            self.write_chunk(b'{"type":"ERROR","object":%s}\n' % exc.body())
            self.write_chunk(b"")
            return 200
        deadline = time.monotonic() + timeout
        next_bookmark = time.monotonic() + self.app.bookmark_interval
        self.watch_table = self.wants_table()  # kubectl get -w: each object as a one-row Table
        self.sent_columns = False
        try:
            for ev in backlog:
                self.send_event(res, watcher.prefix, ev, match)
            if initial and bookmarks:
                self.send_bookmark(res, store.rv, {"k8s.io/initial-events-end": "true"})
            while not self.app.stopping.is_set():
                now = time.monotonic()
                if now >= deadline:
                    break
                try:
                    ev = watcher.queue.get(timeout=max(min(deadline, next_bookmark, now + 1.0) - now, 0.001))
                except queue.Empty:
                    if time.monotonic() >= next_bookmark:
                        if bookmarks:
                            with store.cond:  # all events up to store.rv are in the queue: none pending
                                rv = store.rv if watcher.queue.empty() else None
                            if rv is not None:
                                self.send_bookmark(res, rv)
                        next_bookmark = time.monotonic() + self.app.bookmark_interval
                    continue
                self.send_event(res, watcher.prefix, ev, match)
            self.write_chunk(b"")
        except (ConnectionError, ssl.SSLError, socket.timeout, TimeoutError):
            pass  # the client went away
        except Exception:
            log.exception("watch %s failed", self.path)  # headers are sent: just end the stream
        finally:
            store.unwatch(res, watcher)
            self.close_connection = True
        return 200

    def send_event(self, res: Resource, prefix: str, ev, match) -> None:
        if prefix and not ev.entry.key.startswith(prefix):
            return
        kind = ev.type
        if match is not None:
            now = kind != "DELETED" and match(ev.entry)
            before = ev.prev is not None and match(ev.prev)
            if kind == "DELETED":
                if not before:
                    return
            elif kind == "ADDED" or not before:
                if not now:
                    return
                kind = "ADDED"
            elif not now:
                kind = "DELETED"
        payload = ev.entry.raw
        if self.watch_table:
            rows = table(res.plural, [ev.entry], ev.entry.rv, include=self.include())
            if self.sent_columns:
                rows["columnDefinitions"] = None  # like the real server: columns only in the first event
            self.sent_columns = True
            payload = dumps(rows)
        self.write_chunk(b'{"type":"%s","object":%s}\n' % (kind.encode(), payload))

    def send_bookmark(self, res: Resource, rv: int, annotations: dict | None = None) -> None:
        meta: dict = {"resourceVersion": str(rv)}
        if annotations:
            meta["annotations"] = annotations
        obj = {"kind": res.kind, "apiVersion": res.api_version, "metadata": meta}
        self.write_chunk(b'{"type":"BOOKMARK","object":%s}\n' % dumps(obj))

    # --- subresources and collections ------------------------------------------------------------------------

    def bind(self, ns: str | None, name: str, body: dict) -> int:
        target = (body.get("target") or {}).get("name")
        if not target:
            raise errors.invalid(PODS, name, [{"reason": "FieldValueRequired", "message": "Required value",
                                               "field": "target.name"}])  # fmt: skip
        reg = self.app.registry
        reg.check_namespace_for_create(PODS, ns, name)
        for _ in range(10):
            entry = reg.get(PODS, ns, name)
            pod = json.loads(entry.raw)
            if pod["metadata"].get("deletionTimestamp"):
                raise errors.conflict(PODS, name, "pod is being deleted, cannot be assigned to a host")
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                raise errors.conflict(PODS, name, f'pod {name} is already assigned to node "{node}"')
            pod["spec"]["nodeName"] = target
            conds = [
                c for c in (pod.setdefault("status", {}).get("conditions") or []) if c.get("type") != "PodScheduled"
            ]
            conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                          "lastTransitionTime": now_iso()})  # fmt: skip
            pod["status"]["conditions"] = conds
            try:
                reg.write(PODS, entry, pod, name)
            except ApiError as exc:
                if exc.reason == "Conflict":
                    continue
                raise
            self.send_obj(201, status_body(201))
            return 201
        raise errors.conflict(PODS, name, errors.MODIFIED)

    def update_scale(self, res: Resource, ns: str | None, name: str, scale: dict) -> int:
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(res, name, [errors.field_invalid("spec.replicas", replicas,
                                                                  "must be greater than or equal to 0")])  # fmt: skip
        entry = self.app.registry.patch(res, ns, name, "application/merge-patch+json", {"spec": {"replicas": replicas}})
        self.send_obj(200, scale_of(res, entry.obj))
        return 200

    def delete_collection(self, res: Resource, ns: str | None, options: dict, dry_run: bool) -> int:
        q = self.query
        lm = label_matcher((q.get("labelSelector") or [""])[0])
        fm = field_matcher(res.plural, (q.get("fieldSelector") or [""])[0])
        entries, rv, _, _ = self.app.store.list(res, ns, lambda e: (lm is None or lm(e)) and (fm is None or fm(e)))
        deleted = []
        for e in entries:
            meta = e.obj["metadata"]
            if not dry_run:
                try:
                    self.app.registry.delete(res, meta.get("namespace"), meta["name"], options)
                except ApiError as exc:
                    if exc.code != 404:
                        raise
            deleted.append(e.raw)
        head = b'{"kind":"%sList","apiVersion":"%s","metadata":{"resourceVersion":"%d"},"items":[' % (
            res.kind.encode(),
            res.api_version.encode(),
            rv,
        )
        self.send_body(200, head + b",".join(deleted) + b"]}")
        return 200


def scale_of(res: Resource, obj: dict) -> dict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(((spec.get("selector") or {}).get("matchLabels") or {}).items()))
    meta = {k: obj["metadata"][k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in obj["metadata"]}  # fmt: skip
    return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
            "spec": {"replicas": spec.get("replicas", 0)},
            "status": {"replicas": status.get("replicas", 0), "selector": selector}}  # fmt: skip


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], ssl_context: ssl.SSLContext, app: App | None = None):
        """Binds and listens at once; requests are served once an App is attached (``attach``)."""
        self.ssl_context = ssl_context
        super().__init__(address, Handler)
        if app is not None:
            self.attach(app)

    def attach(self, app: App) -> None:
        self.app = app
        self.RequestHandlerClass = type("BoundHandler", (Handler,), {"app": app})

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle delay on small responses
        # The TLS handshake happens in the connection's own thread (Handler.setup), never in the accept loop.
        return self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


def ssl_context(config: dict) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(config["tls_cert"], config["tls_key"])
    if config.get("client_ca"):
        ctx.load_verify_locations(config["client_ca"])
        ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx
