"""A package repository on 127.0.0.1 laid out like pkgs.k8s.io: ``/<base>/v1.NN/deb/InRelease`` answers 200 for the
minors it has and 403 for the others (pkgs.k8s.io's answer for a minor that does not exist)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MINOR_PATH = re.compile(r"^/core:/stable:/v1\.(\d+)/deb/InRelease$")


class RepoServer:
    """What the repository answers: ``minors`` exist (200), ``statuses`` override a minor's status, ``delay``
    seconds before each answer, ``redirect`` sends every request through a 302 to ``/cdn/...`` first."""

    def __init__(
        self,
        minors: range,
        statuses: dict[int, int] | None = None,
        delay: float = 0.0,
        missing_status: int = 403,
        redirect: bool = False,
    ) -> None:
        self.minors = minors
        self.statuses = statuses or {}
        self.delay = delay
        self.missing_status = missing_status
        self.redirect = redirect
        self.requests: list[str] = []
        self.base_url = ""

    def answer(self, path: str) -> tuple[int, dict[str, str]]:
        if path.startswith("/cdn/"):
            path = path[len("/cdn") :]
        elif self.redirect:
            return 302, {"Location": self.base_url.replace("/core:/stable:", "/cdn/core:/stable:") + path[14:]}
        match = MINOR_PATH.match(path)
        if not match:
            return 404, {}
        minor = int(match.group(1))
        if minor in self.statuses:
            return self.statuses[minor], {}
        return (200 if minor in self.minors else self.missing_status), {}


@contextmanager
def serve(repo: RepoServer) -> Iterator[RepoServer]:
    """Run ``repo`` on a free port of 127.0.0.1; ``repo.base_url`` is its ``core:/stable:`` base."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            repo.requests.append(self.path)
            if repo.delay:
                time.sleep(repo.delay)
            status, headers = repo.answer(self.path)
            body = b"Origin: pkgs.k8s.io\n" if status == 200 else b"<Error><Code>AccessDenied</Code></Error>"
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout): nothing to answer

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    repo.base_url = f"http://127.0.0.1:{server.server_address[1]}/core:/stable:"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield repo
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
