# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A watch that survives: list, watch from the list's resourceVersion, reconnect, relist on 410 Gone.

Runs in a daemon thread and reports through callbacks; ``healthy`` tells the consumer whether events
are flowing (when not, it falls back to polling).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.api import status_of

Items = list[dict[str, Any]]


class Watcher:
    """Keeps one watch open until ``stop()``: ``on_sync(items)`` after every (re)list, ``on_event(type, obj)``."""

    def __init__(
        self,
        name: str,
        list_fn: Callable[[], tuple[Items, str]],
        watch_fn: Callable[[str], Any],
        on_sync: Callable[[Items], None],
        on_event: Callable[[str, dict[str, Any]], None],
        on_health: Optional[Callable[[bool], None]] = None,
        resource_version: Optional[str] = None,
        max_delay: float = 2.0,
    ) -> None:
        self.name = name
        self._list = list_fn
        self._watch = watch_fn
        self._on_sync = on_sync
        self._on_event = on_event
        self._on_health = on_health or (lambda healthy: None)
        self._rv = resource_version or None
        self._max_delay = max_delay
        self._stopped = threading.Event()
        self._stream: Any = None
        self._healthy = False
        self._last_failure = -1e9
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name=f"watch-{name}", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        stream = self._stream
        if stream is not None:
            stream.close()

    @property
    def healthy(self) -> bool:
        """A watch is open and none failed lately (a server that keeps dropping watches is not trusted)."""
        return self._healthy and time.monotonic() - self._last_failure > 2 * self._max_delay

    @property
    def down(self) -> bool:
        """The watch has failed and is not (yet) back: consumers should poll."""
        return self.failures > 0 and not self.healthy

    def _set_health(self, healthy: bool) -> None:
        if not healthy:
            self._last_failure = time.monotonic()
        if healthy != self._healthy or not healthy:  # every failure is news: the first one too
            self._healthy = healthy
            self._on_health(healthy)

    def _run(self) -> None:
        delay = 0.1
        while not self._stopped.is_set():
            try:
                if self._rv is None:
                    items, self._rv = self._list()
                    self._on_sync(items)
                self._stream = self._watch(self._rv)
                if self._stopped.is_set():
                    self._stream.close()
                    return
                self._set_health(True)
                delay = 0.1
                self._consume(self._stream)
            except Exception as exc:  # any failure means: reconnect, the consumer polls meanwhile
                if self._stopped.is_set():
                    return
                self.failures += 1
                if status_of(exc) == 410 or getattr(exc, "details", {}).get("status") == 410:
                    self._rv = None
                self._set_health(False)
                self._stopped.wait(delay)
                delay = min(delay * 2, self._max_delay)

    def _consume(self, stream: Any) -> None:
        for event in stream:
            if self._stopped.is_set():
                return
            kind = event.get("type")
            obj = event.get("object") or {}
            if kind is None:
                raise RuntimeError(f"watch {self.name}: the server sent something that is not a watch event")
            if kind == "ERROR":
                if obj.get("code") == 410:
                    self._rv = None  # our resourceVersion is too old: list again
                    return
                raise RuntimeError(f"watch {self.name}: {obj.get('message')}")
            version = (obj.get("metadata") or {}).get("resourceVersion")
            if version:
                self._rv = version
            if kind != "BOOKMARK":
                self._on_event(kind, obj)
