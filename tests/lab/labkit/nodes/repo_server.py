"""``python -m labkit.nodes.repo_server --root DIR --address 127.0.N.1``: the lab's package host on port 80.

One address answers for three hosts, told apart by the Host header (the nodes map the legacy names to it in
/etc/hosts):

- any other name (the lab's address): pkgs.k8s.io's paths ``/core:/stable:/v1.NN/deb/...`` and the OS updates under
  ``/debian/``. Like pkgs.k8s.io, anything that is not a published file -- a minor that does not exist (also its
  ``Release.key`` and ``InRelease``), a directory -- answers ``403 Forbidden``;
- ``apt.kubernetes.io``: the legacy repository at its root (``/dists/kubernetes-xenial/...``, ``/pool/...``);
- ``packages.cloud.google.com``: the same under ``/apt/`` (``/apt/doc/apt-key.gpg`` is its key).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

LEGACY_HOSTS = {"apt.kubernetes.io": "", "packages.cloud.google.com": "/apt"}
log = logging.getLogger("repo")


def resolve(root: Path, host: str, raw_path: str) -> tuple[Path | None, int]:
    """The file to serve, or None with the status for its absence."""
    path = unquote(urlsplit(raw_path).path)
    host = host.split(":")[0].lower()
    if host in LEGACY_HOSTS:
        prefix = LEGACY_HOSTS[host]
        if not path.startswith(prefix + "/"):
            return None, 404
        base, rel, missing = root / "legacy", path[len(prefix) :], 404
    elif path.startswith("/core:/"):
        base, rel, missing = root, path, 403
    elif path.startswith("/debian/"):
        base, rel, missing = root, path, 404
    else:
        return None, 404
    parts = [p for p in rel.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return None, missing
    candidate = base.joinpath(*parts)
    if not candidate.is_file():
        return None, missing
    return candidate, 200


class Handler(BaseHTTPRequestHandler):
    server_version = "lab-repo"
    protocol_version = "HTTP/1.1"
    root: Path

    def do_GET(self) -> None:
        self.answer(body=True)

    def do_HEAD(self) -> None:
        self.answer(body=False)

    def answer(self, body: bool) -> None:
        file, status = resolve(self.root, self.headers.get("Host", ""), self.path)
        if file is None:
            message = b"Forbidden\n" if status == 403 else b"Not Found\n"
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            if body:
                self.wfile.write(message)
            return
        data = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Last-Modified", self.date_time_string(file.stat().st_mtime))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.headers.get("Host", "-") if hasattr(self, "headers") else "-", format % args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=80)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s repo %(message)s", stream=sys.stderr)
    Handler.root = args.root.resolve()
    server = ThreadingHTTPServer((args.address, args.port), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    log.info("serving %s on http://%s:%d", Handler.root, args.address, args.port)
    server.serve_forever(poll_interval=0.2)
    server.server_close()


if __name__ == "__main__":
    main()
