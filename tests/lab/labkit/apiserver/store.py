"""The watch cache: every object loaded from etcd at start, kept current by following etcd's watch.

Reads (get, list, watch) are served from memory; writes go to etcd as transactions that compare the
key's mod_revision (optimistic concurrency) and return once the cache has seen their revision, so a
client always reads its own writes. Each entry keeps its serialized JSON so that lists are built by
joining bytes.
"""

from __future__ import annotations

import base64
import bisect
import builtins
import contextlib
import copy
import heapq
import itertools
import json
import logging
import queue
import threading
import time
import uuid
from collections import deque
from typing import Callable

from ..etcd import EtcdClient, EtcdError, b64, kv_events, prefix_end, unb64
from .errors import ApiError
from .resources import STORED, Resource
from .selectors import field_paths, field_value

log = logging.getLogger("apiserver.store")
REGISTRY = b"/registry/"
NODE_PATH = ("spec", "nodeName")
EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new list "
    "without the continue parameter, or use the continue token in this response to retrieve the remainder of "
    "the results. Continuing with the provided token results in an inconsistent list - objects that were "
    "created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
)


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class Entry:
    """One object as the cache holds it: its JSON bytes and a small index; never mutated, replaced on change.

    Only the bytes are kept (a parsed pod costs several times its JSON size); `obj` parses them again.
    """

    __slots__ = ("deleting", "fields", "finalizers", "key", "labels", "owners", "raw", "rv", "uid")

    def __init__(self, key: str, raw: bytes, rv: int, obj: dict, plural: str):
        self.key, self.raw, self.rv = key, raw, rv
        meta = obj.get("metadata") or {}
        self.labels = meta.get("labels") or NO_LABELS
        self.uid = meta.get("uid", "")
        self.owners = tuple(r.get("uid") for r in meta.get("ownerReferences") or ())
        self.deleting = bool(meta.get("deletionTimestamp"))
        self.finalizers = tuple(meta.get("finalizers") or ())
        self.fields = {path: field_value(obj, path) for path in field_paths(plural)}

    @property
    def obj(self) -> dict:
        """A fresh dict of the object: callers may change it."""
        return json.loads(self.raw)

    @property
    def name(self) -> str:
        return self.fields[NAME_PATH]


NO_LABELS: dict = {}
NAME_PATH = ("metadata", "name")
META_PREFIX = b'{"metadata":{'
RV_PREFIX = b'{"metadata":{"resourceVersion":"'


def stored_bytes(obj: dict) -> bytes:
    """The etcd value: metadata first and without resourceVersion (the key's mod_revision is the version)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return dumps({"metadata": meta, **{k: v for k, v in obj.items() if k != "metadata"}})


def served_bytes(value: bytes, obj: dict, rv: int) -> bytes:
    """What clients get: the stored bytes with metadata.resourceVersion spliced in (no re-encoding)."""
    if not value.startswith(META_PREFIX) or "resourceVersion" in (obj.get("metadata") or {}):
        value = stored_bytes(obj)  # written by someone else: re-encode once
    rest = value[len(META_PREFIX) :]
    return RV_PREFIX + b'%d"' % rv + (b"," if rest[:1] != b"}" else b"") + rest


def with_rv(raw: bytes, rv: int) -> bytes:
    end = raw.index(b'"', len(RV_PREFIX))
    return RV_PREFIX + b"%d" % rv + raw[end:]


def make_entry(plural: str, key: str, obj: dict, rv: int) -> Entry:
    return Entry(key, served_bytes(stored_bytes(obj), obj, rv), rv, obj, plural)


class Event:
    __slots__ = ("entry", "prev", "rv", "type")

    def __init__(self, type_: str, entry: Entry, prev: Entry | None, rv: int):
        self.type, self.entry, self.prev, self.rv = type_, entry, prev, rv


class Watcher:
    def __init__(self, namespace: str | None):
        self.prefix = namespace + "/" if namespace else ""
        self.queue: queue.SimpleQueue = queue.SimpleQueue()


class ResourceCache:
    def __init__(self, res: Resource, history_size: int):
        self.res = res
        self.items: dict[str, Entry] = {}
        self.keys: list[str] = []  # sorted
        self.history: deque[Event] = deque(maxlen=history_size)
        self.history_start = 0  # oldest resourceVersion a watch may start from
        self.watchers: set[Watcher] = set()
        self.by_node: dict[str, set[str]] = {}  # pods only: spec.nodeName -> keys

    @staticmethod
    def node_of(entry: Entry) -> str:
        return entry.fields[NODE_PATH]

    def set(self, key: str, entry: Entry | None) -> Entry | None:
        prev = self.items.get(key)
        if self.res.plural == "pods":  # index every pod by spec.nodeName ("" for unscheduled pods)
            if prev is not None:
                self.by_node.get(self.node_of(prev), set()).discard(key)
            if entry is not None:
                self.by_node.setdefault(self.node_of(entry), set()).add(key)
        if entry is None:
            if prev is not None:
                del self.items[key]
                i = bisect.bisect_left(self.keys, key)
                if i < len(self.keys) and self.keys[i] == key:
                    del self.keys[i]
        else:
            if prev is None:
                bisect.insort(self.keys, key)
            self.items[key] = entry
        return prev


class Store:
    def __init__(self, etcd: EtcdClient, history_size: int = 10000, continue_ttl: float = 300.0):
        self.etcd = etcd
        self.cond = threading.Condition(threading.RLock())
        self.rv = 0
        self.caches = {r.plural: ResourceCache(r, history_size) for r in STORED}
        # Longest prefix first so that services/specs/ wins over a shorter one.
        self.prefixes = sorted(
            ((REGISTRY + r.prefix.encode() + b"/", self.caches[r.plural]) for r in STORED),
            key=lambda p: -len(p[0]),
        )
        self.continue_ttl = continue_ttl
        self.snapshots: dict[str, tuple[float, list[str], list[Entry]]] = {}
        self.listeners: list[Callable[[ResourceCache, Event], None]] = []
        self.healthy = False
        self.loaded = False
        self._waiters: list = []  # heap of (revision, sequence, threading.Event)
        self._seq = itertools.count()
        self.cluster_id = None
        self._stop = threading.Event()

    # --- keys ------------------------------------------------------------------------------------------------

    @staticmethod
    def cache_key(res: Resource, namespace: str | None, name: str) -> str:
        return f"{namespace}/{name}" if res.namespaced else name

    @staticmethod
    def etcd_key(res: Resource, key: str) -> bytes:
        return REGISTRY + res.prefix.encode() + b"/" + key.encode()

    def _split(self, etcd_key: bytes) -> tuple[ResourceCache, str] | None:
        for prefix, cache in self.prefixes:
            if etcd_key.startswith(prefix):
                key = etcd_key[len(prefix) :].decode()
                if key.count("/") == (1 if cache.res.namespaced else 0):
                    return cache, key
                return None
        return None

    # --- loading and following etcd ---------------------------------------------------------------------------

    @staticmethod
    def _decode(cache: ResourceCache, key: str, value: bytes, rv: int) -> Entry:
        obj = json.loads(value)
        return Entry(key, served_bytes(value, obj, rv), rv, obj, cache.res.plural)

    def load(self) -> int:
        """Read every object under /registry/ at one revision (in pages) and fill the cache."""
        start, end, revision = REGISTRY, prefix_end(REGISTRY), 0
        fresh: dict[str, dict[str, Entry]] = {name: {} for name in self.caches}
        while True:
            resp = self.etcd.range(start, end, limit=2000, revision=revision)
            revision = revision or int(resp["header"]["revision"])
            cluster = resp["header"].get("cluster_id")
            kvs = resp.get("kvs") or []
            for kv in kvs:
                etcd_key = unb64(kv["key"])
                found = self._split(etcd_key)
                if found:
                    cache, ckey = found
                    value, rev = unb64(kv.get("value")), int(kv["mod_revision"])
                    fresh[cache.res.plural][ckey] = self._decode(cache, ckey, value, rev)
            if not resp.get("more") or not kvs:
                break
            start = unb64(kvs[-1]["key"]) + b"\0"
        with self.cond:
            went_back = revision < self.rv  # a restored snapshot: the old history means nothing now
            for name, cache in self.caches.items():
                if went_back:
                    cache.history.clear()
                old = dict(cache.items)
                new = fresh[name]
                if not self.loaded:  # first load: no events to emit
                    for key, entry in new.items():
                        cache.set(key, entry)
                else:  # a relist after losing the watch: emit what changed
                    for key, entry in new.items():
                        prev = old.get(key)
                        if prev is None or prev.raw != entry.raw:
                            self._record(cache, Event("MODIFIED" if prev else "ADDED", entry, prev, revision))
                    for key, prev in old.items():
                        if key not in new:
                            self._record(cache, Event("DELETED", self._tombstone(prev, revision), prev, revision))
                cache.history_start = revision
            self.rv = revision
            self.cluster_id = cluster
            self.loaded = True
            self._wake()
        return revision

    @staticmethod
    def _tombstone(prev: Entry, rv: int) -> Entry:
        """The last state of a deleted object, at the deletion's revision (what DELETED events carry)."""
        entry = copy.copy(prev)
        entry.raw, entry.rv = with_rv(prev.raw, rv), rv
        return entry

    def _record(self, cache: ResourceCache, ev: Event) -> None:
        if ev.type == "DELETED":
            cache.set(ev.entry.key, None)
        else:
            cache.set(ev.entry.key, ev.entry)
        if len(cache.history) == cache.history.maxlen:
            cache.history_start = cache.history[0].rv
        cache.history.append(ev)
        for w in cache.watchers:
            w.queue.put(ev)
        for listener in self.listeners:
            try:
                listener(cache, ev)
            except Exception:
                log.exception("watch cache listener failed")

    def _apply(self, result: dict) -> None:
        events = list(kv_events(result))
        with self.cond:
            if not events:
                if not result.get("created") and "header" in result:
                    self.rv = max(self.rv, int(result["header"]["revision"]))
                    self._wake()
                return
            for kind, key, value, rev in events:
                found = self._split(key)
                if found:
                    cache, ckey = found
                    prev = cache.items.get(ckey)
                    if kind == "DELETE":
                        if prev is not None:
                            self._record(cache, Event("DELETED", self._tombstone(prev, rev), prev, rev))
                    else:
                        entry = self._decode(cache, ckey, value, rev)
                        self._record(cache, Event("MODIFIED" if prev else "ADDED", entry, prev, rev))
                self.rv = max(self.rv, rev)
            self._wake()

    def follow(self) -> None:
        """Follow etcd's watch forever (run in a thread); reconnect, and relist when history is gone."""
        reconnecting = False
        while not self._stop.is_set():
            try:
                if reconnecting:
                    self._relist_if_replaced()  # raises while etcd is still down
                reconnecting = True
                self.healthy = True
                for result in self.etcd.watch(REGISTRY, start_revision=self.rv + 1):
                    if self._stop.is_set():
                        return
                    self._apply(result)
            except EtcdError as exc:
                if self._stop.is_set():
                    return
                log.warning("etcd watch: %s; relisting", exc)
                self._relist()
            except Exception as exc:  # connection lost: retry, relist if needed
                if self._stop.is_set():
                    return
                self.healthy = False
                log.warning("etcd watch lost: %s", exc)
                time.sleep(0.5)

    def _relist(self) -> None:
        while not self._stop.is_set():
            try:
                self.load()
                self.healthy = True
                return
            except Exception as exc:
                self.healthy = False
                log.warning("relist failed: %s", exc)
                time.sleep(0.5)

    def _relist_if_replaced(self) -> None:
        """After etcd came back: another cluster (a restored snapshot) or an older revision means relist."""
        header = self.etcd.status()["header"]
        current, cluster = int(header["revision"]), header.get("cluster_id")
        if current < self.rv or (self.cluster_id and cluster != self.cluster_id):
            log.warning("etcd changed (revision %s -> %s, cluster %s -> %s): relisting", self.rv, current,
                        self.cluster_id, cluster)  # fmt: skip
            self._relist()

    def stop(self) -> None:
        self._stop.set()
        conn = getattr(self.etcd, "watch_conn", None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.sock.shutdown(2)

    def _wake(self) -> None:
        """Release the writers waiting for a revision the cache has now reached (called under the lock)."""
        while self._waiters and self._waiters[0][0] <= self.rv:
            heapq.heappop(self._waiters)[2].set()

    def wait_for(self, rv: int, timeout: float = 10.0) -> None:
        """Return once the cache holds revision rv: a writer reads its own write."""
        with self.cond:
            if self.rv >= rv:
                return
            done = threading.Event()  # one event per waiter: no thundering herd on every etcd event
            heapq.heappush(self._waiters, (rv, next(self._seq), done))
        if not done.wait(timeout):
            raise ApiError(504, "Timeout: the watch cache did not catch up with etcd", "Timeout")

    # --- reads -----------------------------------------------------------------------------------------------

    def get(self, res: Resource, key: str) -> Entry | None:
        return self.caches[res.plural].items.get(key)

    def list(
        self,
        res: Resource,
        namespace: str | None,
        match: Callable[[Entry], bool] | None,
        limit: int = 0,
        token: str | None = None,
        node: str | None = None,
    ) -> tuple[list[Entry], int, str, int | None]:
        """Return (entries, resourceVersion, continue token, remaining item count or None)."""
        if token:
            return self._continue(res, namespace, match, limit, token)
        cache = self.caches[res.plural]
        with self.cond:
            rv = self.rv
            if node is not None:
                keys = sorted(cache.by_node.get(node, ()))
            elif namespace:
                lo = bisect.bisect_left(cache.keys, namespace + "/")
                hi = bisect.bisect_left(cache.keys, namespace + "0")  # '0' follows '/'
                keys = cache.keys[lo:hi]
            else:
                keys = list(cache.keys)
            items = cache.items
            entries = [items[k] for k in keys]
        if namespace and node is not None:
            entries = [e for e in entries if e.key.startswith(namespace + "/")]
        if match is not None:
            entries = [e for e in entries if match(e)]
        if not limit or len(entries) <= limit:
            return entries, rv, "", None
        snap = uuid.uuid4().hex[:16]
        now = time.time()
        with self.cond:
            self._purge(now)
            self.snapshots[snap] = (now, [e.key for e in entries], entries)
        page = entries[:limit]
        return page, rv, self._token(rv, page[-1].key, snap, now), len(entries) - limit

    def _purge(self, now: float) -> None:
        for k, (t, _, _) in list(self.snapshots.items()):
            if now - t > self.continue_ttl:
                del self.snapshots[k]
        while len(self.snapshots) > 256:
            del self.snapshots[next(iter(self.snapshots))]

    @staticmethod
    def _token(rv: int, last_key: str, snap: str, created: float) -> str:
        body = {"v": "meta.k8s.io/v1", "rv": rv, "start": last_key + "\0", "s": snap, "t": created}
        return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")

    def _continue(self, res, namespace, match, limit, token):
        try:
            body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            rv, start, snap, created = int(body["rv"]), body["start"], body.get("s"), float(body.get("t", 0))
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, "continue key is not valid: incorrect encoded start resourceVersion (version "
                           "meta.k8s.io/v1)", "BadRequest") from None  # fmt: skip
        if time.time() - created > self.continue_ttl:
            raise ApiError(410, EXPIRED_CONTINUE, "Expired")
        with self.cond:
            found = self.snapshots.get(snap)
        if found is None:  # snapshot gone (restart, too many lists): continue on the current state
            entries, _, _, _ = self.list(res, namespace, match)
            keys = [e.key for e in entries]
        else:
            _, keys, entries = found
        i = bisect.bisect_left(keys, start)
        rest = entries[i:]
        if not limit or len(rest) <= limit:
            return rest, rv, "", None
        page = rest[:limit]
        return page, rv, self._token(rv, page[-1].key, snap or "", created), len(rest) - limit

    # (builtins.list in the annotations below: past `def list`, `list` names the method in this class body)
    def watch(self, res: Resource, namespace: str | None, since: int | None) -> tuple[Watcher, builtins.list[Event]]:
        """Register a watcher; return it with the events to replay (all objects as ADDED when since is None)."""
        cache = self.caches[res.plural]
        w = Watcher(namespace)
        with self.cond:
            if since is None:
                backlog = [Event("ADDED", e, None, e.rv) for e in cache.items.values()]
            else:
                if since < cache.history_start:
                    raise ApiError(410, f"too old resource version: {since} ({cache.history_start})", "Expired")
                backlog = [ev for ev in cache.history if ev.rv > since]
            cache.watchers.add(w)
        return w, backlog

    def unwatch(self, res: Resource, w: Watcher) -> None:
        with self.cond:
            self.caches[res.plural].watchers.discard(w)

    # --- writes ----------------------------------------------------------------------------------------------

    def put(self, res: Resource, key: str, obj: dict, expected_rv: int) -> Entry | int:
        """Write obj if the key's mod_revision is expected_rv (0: must not exist).

        Returns the new cache entry, or the key's current mod_revision (0: absent) on a conflict.
        """
        ok, rev = self.etcd.put_if(self.etcd_key(res, key), stored_bytes(obj), expected_rv)
        if not ok:
            return rev
        self.wait_for(rev)
        entry = self.caches[res.plural].items.get(key)
        if entry is None or entry.rv != rev:  # changed or deleted again meanwhile: answer with what we wrote
            return make_entry(res.plural, key, obj, rev)
        return entry

    def remove(self, res: Resource, key: str, expected_rv: int) -> int | None:
        """Delete the key if its mod_revision is expected_rv; return the deletion revision or None on conflict."""
        ok, rev = self.etcd.delete_if(self.etcd_key(res, key), expected_rv)
        if not ok:
            return None
        self.wait_for(rev)
        return rev

    def txn_put(self, writes: builtins.list[tuple[Resource, str, dict, int]]) -> int | None:
        """Write several objects in one etcd transaction, each guarded by its mod_revision; None on conflict."""
        compare, success = [], []
        for res, key, obj, expected in writes:
            k = b64(self.etcd_key(res, key))
            compare.append({"key": k, "target": "MOD", "result": "EQUAL", "mod_revision": str(expected)})
            success.append({"request_put": {"key": k, "value": b64(stored_bytes(obj))}})
        result = self.etcd.txn(compare, success)
        if not result.get("succeeded"):
            return None
        rev = int(result["header"]["revision"])
        self.wait_for(rev)
        return rev
