"""``/metrics`` in the Prometheus text format: ``apiserver_requested_deprecated_apis`` (a gauge set to 1 for each
deprecated group/version/resource/subresource requested since the server started, with its
``removed_release``) and ``apiserver_request_total`` (requests by verb, resource, scope and code), labels
and help texts as kube-apiserver's."""

from __future__ import annotations

import threading

DEPRECATED_HELP = (
    "[STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, "
    "subresource, and removed_release."
)
REQUEST_HELP = (
    "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, "
    "scope, component, and HTTP response code."
)


def _labels(values: dict[str, str]) -> str:
    escaped = {k: v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for k, v in values.items()}
    return "{" + ",".join(f'{k}="{escaped[k]}"' for k in sorted(escaped)) + "}"


class Metrics:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deprecated: set[tuple[str, str, str, str, str]] = set()  # group, version, resource, sub, removed
        self.requests: dict[tuple[str, ...], int] = {}

    def deprecated_request(self, group: str, version: str, resource: str, subresource: str, removed: str) -> None:
        with self.lock:
            self.deprecated.add((group, version, resource, subresource, removed))

    def request(self, verb: str, group: str, version: str, resource: str, subresource: str, scope: str,
                code: int, dry_run: bool) -> None:  # fmt: skip
        key = (verb, group, version, resource, subresource, scope, str(code), "All" if dry_run else "")
        with self.lock:
            self.requests[key] = self.requests.get(key, 0) + 1

    def render(self) -> bytes:
        lines = [f"# HELP apiserver_request_total {REQUEST_HELP}", "# TYPE apiserver_request_total counter"]
        with self.lock:
            for (verb, group, version, resource, sub, scope, code, dry_run), count in sorted(self.requests.items()):
                labels = {"code": code, "component": "apiserver", "dry_run": dry_run, "group": group,
                          "resource": resource, "scope": scope, "subresource": sub, "verb": verb,
                          "version": version}  # fmt: skip
                lines.append(f"apiserver_request_total{_labels(labels)} {count}")
            lines += [f"# HELP apiserver_requested_deprecated_apis {DEPRECATED_HELP}",
                      "# TYPE apiserver_requested_deprecated_apis gauge"]  # fmt: skip
            for group, version, resource, sub, removed in sorted(self.deprecated):
                labels = {"group": group, "removed_release": removed, "resource": resource, "subresource": sub,
                          "version": version}  # fmt: skip
                lines.append(f"apiserver_requested_deprecated_apis{_labels(labels)} 1")
        return ("\n".join(lines) + "\n").encode()
