"""Deprecated APIs the lab serves, as kube-apiserver marks them (``k8s:prerelease-lifecycle-gen``): each request
answers with the ``Warning`` header the real server sends and sets ``apiserver_requested_deprecated_apis``.

By default, 1.33-1.37 servers serve no deprecated group version with a removal release (the last one,
flowcontrol.apiserver.k8s.io/v1beta3, went in 1.32); what they still serve deprecated is in v1:
ComponentStatus (since 1.19) and Endpoints (since 1.33, in favour of EndpointSlice), with no removal planned.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deprecation:
    group: str
    version: str
    resource: str
    kind: str
    deprecated: tuple[int, int]
    removed: tuple[int, int] | None = None
    replacement: str = ""  # "discovery.k8s.io/v1 EndpointSlice"

    def applies(self, server: tuple[int, int]) -> bool:
        return server >= self.deprecated

    @property
    def removed_release(self) -> str:
        return f"{self.removed[0]}.{self.removed[1]}" if self.removed else ""

    def warning(self) -> str:
        """WarningMessage: "<group/version> <Kind> is deprecated in v1.X+[, unavailable in v1.Y+][; use <R>]"."""
        gv = f"{self.group}/{self.version}" if self.group else self.version
        text = f"{gv} {self.kind} is deprecated in v{self.deprecated[0]}.{self.deprecated[1]}+"
        if self.removed:
            text += f", unavailable in v{self.removed[0]}.{self.removed[1]}+"
        if self.replacement:
            text += f"; use {self.replacement}"
        return text


DEPRECATIONS = [
    Deprecation("", "v1", "componentstatuses", "ComponentStatus", (1, 19)),
    Deprecation("", "v1", "endpoints", "Endpoints", (1, 33), replacement="discovery.k8s.io/v1 EndpointSlice"),
]


def server_version(git_version: str) -> tuple[int, int]:
    major, minor = git_version.lstrip("v").split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def find(group: str, version: str, resource: str, server: tuple[int, int]) -> Deprecation | None:
    for d in DEPRECATIONS:
        if (d.group, d.version, d.resource) == (group, version, resource) and d.applies(server):
            return d
    return None
