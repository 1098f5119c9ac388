"""A fake API server behind the real client, for api_removals: lists served page by page (``limit``/``continue``,
``labelSelector``, the metadata-only form when asked for and ``metadata_only``), single objects, ``/metrics`` as
Prometheus text, and chosen paths answering 403. Every request is recorded; only GETs are allowed.

Lists can be functions ``(index) -> item`` with a count, so 50,000 objects are made page by page, never held.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Union, cast
from urllib.parse import parse_qs, urlsplit

from kubernetes import client as k8s_client

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.helm import encode_release
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.fake_response import FakeResponse


@dataclass
class Generated:
    """``count`` items made by ``make(index)`` when a page asks for them."""

    count: int
    make: Callable[[int], dict[str, Any]]

    def __len__(self) -> int:
        return self.count

    def page(self, start: int, stop: int) -> list[dict[str, Any]]:
        return [self.make(i) for i in range(start, min(stop, self.count))]


Items = Union[Sequence[dict[str, Any]], Generated]


def _page(items: Items, start: int, stop: int) -> list[dict[str, Any]]:
    return items.page(start, stop) if isinstance(items, Generated) else list(items[start:stop])


def _labels_match(item: dict[str, Any], selector: str) -> bool:
    labels = (item.get("metadata") or {}).get("labels") or {}
    for term in selector.split(","):
        key, _eq, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


@dataclass
class FakeApiServer:
    lists: dict[str, Items] = field(default_factory=dict)  # list path -> items
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # object path -> object
    metrics: str = ""
    forbidden: set[str] = field(default_factory=set)  # paths answering 403
    metadata_only: bool = True  # honours the PartialObjectMetadataList form
    requests: list[tuple[str, dict[str, str], str]] = field(default_factory=list)  # path, query, Accept

    def client(self) -> Any:
        configuration = k8s_client.Configuration()
        configuration.host = "https://10.0.0.11:6443"
        configuration.api_key = {"authorization": "Bearer fixture-token"}
        api_client = k8s_client.ApiClient(configuration)
        api_client.rest_client = cast(Any, self)  # answers like the real RESTClientObject
        return api_client

    def paths(self) -> list[str]:
        return [path for path, _query, _accept in self.requests]

    def request(self, method: str, url: str, headers: Any = None, body: Any = None, **_: Any) -> FakeResponse:
        assert method == "GET", f"api_removals must only read, got {method} {url}"
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        accept = (headers or {}).get("Accept", "")
        assert (headers or {}).get("authorization") == "Bearer fixture-token", "request without the credentials"
        self.requests.append((parts.path, query, accept))
        if parts.path in self.forbidden:
            return self._status(403, "Forbidden", f'forbidden: User "ci" cannot get path "{parts.path}"')
        if parts.path == "/metrics":
            return FakeResponse(200, self.metrics.encode(), "text/plain; version=0.0.4")
        if parts.path in self.objects:
            return FakeResponse(200, self.objects[parts.path])
        if parts.path in self.lists:
            return FakeResponse(200, self._list(parts.path, query, accept))
        return self._status(404, "NotFound", "the server could not find the requested resource")

    def _list(self, path: str, query: dict[str, str], accept: str) -> dict[str, Any]:
        assert "limit" in query, f"list of {path} without limit: not paginated"
        items = self.lists[path]
        if "labelSelector" in query:
            items = [item for item in _page(items, 0, len(items)) if _labels_match(item, query["labelSelector"])]
        limit = int(query["limit"])
        start = int(base64.b64decode(query["continue"]).decode()) if "continue" in query else 0
        page = _page(items, start, start + limit)
        metadata_only = self.metadata_only and "as=PartialObjectMetadataList" in accept
        if metadata_only:
            page = [
                {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": i["metadata"]}
                for i in page
            ]
        metadata: dict[str, Any] = {"resourceVersion": "4711"}
        if start + limit < len(items):
            metadata["continue"] = base64.b64encode(str(start + limit).encode()).decode()
        kind = "PartialObjectMetadataList" if metadata_only else "List"
        return {"kind": kind, "apiVersion": "v1", "metadata": metadata, "items": page}

    @staticmethod
    def _status(code: int, reason: str, message: str) -> FakeResponse:
        body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message}
        return FakeResponse(code, {**body, "code": code})


# -- objects as the API server holds them --------------------------------------------------------------------


def applied(api_version: str, kind: str, name: str, namespace: str | None = None, **spec: Any) -> dict[str, Any]:
    """An object created by ``kubectl apply`` of ``api_version``: read back at any version, it keeps its
    last-applied annotation."""
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **spec}
    return {
        "metadata": {
            **metadata,
            "uid": f"uid-{namespace}-{name}",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(manifest) + "\n"},
        },
        "spec": spec or {"big": "x" * 2000},
    }


def helm_secret(
    namespace: str,
    release: str,
    revision: int,
    manifest: str,
    chart: str = "web",
    status: str = "deployed",
    stored_type: str = "helm.sh/release.v1",
) -> dict[str, Any]:
    """A Helm v3 release secret as Helm writes it."""
    payload = {
        "name": release,
        "namespace": namespace,
        "version": revision,
        "info": {"status": status},
        "chart": {"metadata": {"name": chart, "version": "1.4.2"}},
        "manifest": manifest,
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": stored_type,
        "metadata": {
            "name": f"sh.helm.release.v1.{release}.v{revision}",
            "namespace": namespace,
            "labels": {"owner": "helm", "name": release, "version": str(revision), "status": status},
        },
        "data": {"release": encode_release(payload)},
    }


def serve_helm(server: FakeApiServer, secrets: list[dict[str, Any]]) -> None:
    """Put release secrets in the fake: the all-namespaces list and each secret's own path."""
    server.lists["/api/v1/secrets"] = secrets
    for secret in secrets:
        metadata = secret["metadata"]
        server.objects[f"/api/v1/namespaces/{metadata['namespace']}/secrets/{metadata['name']}"] = secret
