"""Debian etcd 3.4 command lines (kubeadm-style TLS) and a small etcd v3 client over the JSON gateway.

The gateway is served on the client port (`/v3/kv/range`, `/v3/kv/put`, `/v3/kv/txn`,
`/v3/kv/deleterange`, `/v3/watch`); keys and values travel base64-encoded. Connections are kept
alive in a small pool because this client is on the API server's hot path.
"""

from __future__ import annotations

import base64
import http.client
import json
import queue
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit


def etcd_argv(
    name: str,
    data_dir: Path,
    client_port: int,
    peer_port: int,
    pki_dir: Path,
    initial_cluster: str | None = None,
    host: str = "127.0.0.1",
    initial_cluster_state: str = "new",
    binary: str = "etcd",
    extra: list[str] | None = None,
) -> list[str]:
    """The etcd command line kubeadm writes into /etc/kubernetes/manifests/etcd.yaml, for etcd 3.4."""
    pki = Path(pki_dir) / "etcd"
    client_url = f"https://{host}:{client_port}"
    peer_url = f"https://{host}:{peer_port}"
    argv = [
        binary,
        f"--name={name}",
        f"--data-dir={data_dir}",
        f"--advertise-client-urls={client_url}",
        f"--listen-client-urls={client_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-cluster={initial_cluster or f'{name}={peer_url}'}",
        f"--initial-cluster-state={initial_cluster_state}",
        "--client-cert-auth=true",
        f"--cert-file={pki / 'server.crt'}",
        f"--key-file={pki / 'server.key'}",
        f"--trusted-ca-file={pki / 'ca.crt'}",
        "--peer-client-cert-auth=true",
        f"--peer-cert-file={pki / 'peer.crt'}",
        f"--peer-key-file={pki / 'peer.key'}",
        f"--peer-trusted-ca-file={pki / 'ca.crt'}",
        "--snapshot-count=10000",
        "--experimental-initial-corrupt-check=true",
        "--logger=zap",
        "--log-outputs=stderr",
    ]
    return argv + list(extra or [])


def b64(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def prefix_end(prefix: bytes) -> bytes:
    """The range_end that selects every key starting with prefix."""
    end = bytearray(prefix)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


class EtcdError(Exception):
    def __init__(self, status: int, body: dict | str):
        self.status = status
        self.body = body
        message = body.get("error") or body.get("message") if isinstance(body, dict) else body
        super().__init__(f"etcd answered {status}: {message}")

    @property
    def compacted(self) -> bool:
        return "compacted" in str(self)


class EtcdClient:
    """A thread-safe etcd v3 client over the JSON gateway, with a keep-alive connection pool."""

    def __init__(self, endpoints: list[str], cacert: str, cert: str, key: str, pool_size: int = 8, timeout=30.0):
        if isinstance(endpoints, str):
            endpoints = endpoints.split(",")
        self.endpoints = [urlsplit(e) for e in endpoints]
        self.ctx = ssl.create_default_context(cafile=str(cacert))
        self.ctx.load_cert_chain(str(cert), str(key))
        self.timeout = timeout
        self._pool: queue.LifoQueue = queue.LifoQueue(maxsize=pool_size)
        self._current = 0

    def _connect(self, timeout=None) -> http.client.HTTPSConnection:
        last = None
        for i in range(len(self.endpoints)):
            url = self.endpoints[(self._current + i) % len(self.endpoints)]
            if url.hostname is None:  # not https://host:port (the lab always writes one)
                raise ValueError(f"etcd endpoint {url.geturl()!r} has no host")
            conn = http.client.HTTPSConnection(
                url.hostname, url.port, context=self.ctx, timeout=timeout or self.timeout
            )
            try:
                conn.connect()
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                last = exc
                continue
            self._current = (self._current + i) % len(self.endpoints)
            return conn
        raise ConnectionError(f"no etcd endpoint answers: {last}")

    def call(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        for attempt in range(3):
            try:
                conn = self._pool.get_nowait()
                reused = True
            except queue.Empty:
                conn = self._connect()
                reused = False
            try:
                conn.request("POST", path, data, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                if reused or attempt < 2:
                    continue
                raise
            try:
                self._pool.put_nowait(conn)
            except queue.Full:
                conn.close()
            result = json.loads(raw) if raw else {}
            if resp.status != 200:
                raise EtcdError(resp.status, result)
            if "error" in result and "header" not in result:
                raise EtcdError(resp.status, result)
            return result
        raise ConnectionError("etcd connection failed")

    # --- KV -----------------------------------------------------------------------------------------------

    def range(
        self, key: bytes | str, range_end: bytes | None = None, prefix=False, limit=0, revision=0, keys_only=False
    ) -> dict:
        key = key.encode() if isinstance(key, str) else key
        body: dict = {"key": b64(key)}
        if prefix:
            range_end = prefix_end(key)
        if range_end is not None:
            body["range_end"] = b64(range_end)
        if limit:
            body["limit"] = limit
        if revision:
            body["revision"] = revision
        if keys_only:
            body["keys_only"] = True
        return self.call("/v3/kv/range", body)

    def get(self, key: bytes | str) -> tuple[bytes, int] | None:
        kvs = self.range(key).get("kvs")
        if not kvs:
            return None
        return unb64(kvs[0].get("value")), int(kvs[0]["mod_revision"])

    def put(self, key: bytes | str, value: bytes | str) -> int:
        result = self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})
        return int(result["header"]["revision"])

    def delete(self, key: bytes | str, prefix=False) -> int:
        key = key.encode() if isinstance(key, str) else key
        body = {"key": b64(key)}
        if prefix:
            body["range_end"] = b64(prefix_end(key))
        return int(self.call("/v3/kv/deleterange", body).get("deleted", 0))

    def txn(self, compare: list[dict], success: list[dict], failure: list[dict] | None = None) -> dict:
        return self.call("/v3/kv/txn", {"compare": compare, "success": success, "failure": failure or []})

    def put_if(self, key: bytes | str, value: bytes, mod_revision: int) -> tuple[bool, int]:
        """Put key only if its mod_revision is still mod_revision (0: key must not exist).

        Returns (succeeded, revision): the new revision on success, the key's current mod_revision (0 when
        absent) on failure.
        """
        ok, rev = self._guarded(key, mod_revision, {"request_put": {"key": b64(key), "value": b64(value)}})
        return ok, rev

    def delete_if(self, key: bytes | str, mod_revision: int) -> tuple[bool, int]:
        return self._guarded(key, mod_revision, {"request_delete_range": {"key": b64(key)}})

    def _guarded(self, key, mod_revision: int, op: dict) -> tuple[bool, int]:
        compare = [{"key": b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": str(mod_revision)}]
        result = self.txn(compare, [op], [{"request_range": {"key": b64(key)}}])
        if result.get("succeeded"):
            return True, int(result["header"]["revision"])
        kvs = result["responses"][0].get("response_range", {}).get("kvs") or []
        return False, int(kvs[0]["mod_revision"]) if kvs else 0

    def status(self) -> dict:
        return self.call("/v3/maintenance/status", {})

    # --- watch ----------------------------------------------------------------------------------------------

    def watch(self, key: bytes | str, prefix=True, start_revision=0, prev_kv=False) -> Iterator[dict]:
        """Yield watch responses ({"header", "events", ...}) forever; raise on a broken stream or compaction."""
        key = key.encode() if isinstance(key, str) else key
        create: dict = {"key": b64(key)}
        if prefix:
            create["range_end"] = b64(prefix_end(key))
        if start_revision:
            create["start_revision"] = str(start_revision)
        if prev_kv:
            create["prev_kv"] = True
        create["progress_notify"] = True
        conn = self._connect(timeout=None)
        self.watch_conn = conn
        try:
            conn.request(
                "POST", "/v3/watch", json.dumps({"create_request": create}), {"Content-Type": "application/json"}
            )
            resp = conn.getresponse()
            if resp.status != 200:
                raise EtcdError(resp.status, resp.read().decode(errors="replace"))
            decoder = json.JSONDecoder()
            buf = ""
            while True:
                chunk = resp.read1(1 << 20)
                if not chunk:
                    raise ConnectionError("etcd watch stream ended")
                buf += chunk.decode()
                while True:
                    buf = buf.lstrip()
                    if not buf:
                        break
                    try:
                        msg, end = decoder.raw_decode(buf)
                    except json.JSONDecodeError:
                        break
                    buf = buf[end:]
                    if "error" in msg:
                        raise EtcdError(500, msg["error"])
                    result = msg.get("result", {})
                    if result.get("compact_revision") and result.get("canceled"):
                        raise EtcdError(410, f"compacted: {result['compact_revision']}")
                    yield result
        finally:
            conn.close()

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return


def kv_events(result: dict) -> Iterator[tuple[str, bytes, bytes, int]]:
    """(type PUT|DELETE, key, value, mod_revision) for each event of a watch response."""
    for ev in result.get("events") or ():
        kv = ev["kv"]
        yield ev.get("type", "PUT"), unb64(kv["key"]), unb64(kv.get("value")), int(kv.get("mod_revision", 0))
