"""A fake Kubernetes API server behind the real client, serving recorded JSON (tests of cluster_info).

The recorded list pages of one endpoint are joined and served again in pages of the requested ``limit``
with ``continue`` tokens, as the API server does, so the code under test must follow the tokens.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from kubernetes import client as k8s_client

from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.fake_response import FakeResponse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cluster_info"


def load_list(scenario: str, slug: str) -> list[dict[str, Any]] | None:
    """The items of the recorded pages of one list endpoint, checking that the pages chain by their tokens."""
    pages = sorted((FIXTURES / scenario).glob(f"{slug}.*.json"), key=lambda p: int(p.suffixes[-2][1:]))
    if not pages:
        return None
    items: list[dict[str, Any]] = []
    for number, path in enumerate(pages, 1):
        page = json.loads(path.read_text())
        items.extend(page["items"])
        has_token = bool(page["metadata"].get("continue"))
        assert has_token == (number < len(pages)), f"{path.name}: continue token does not match the page count"
    return items


class FakeApiServer:
    """Serves GETs of ``scenario``'s fixtures; ``missing`` slugs answer 404. Records every request.

    The first continue token of an ``expiring`` slug answers 410 Gone (expired), as after a compaction.
    """

    def __init__(self, scenario: str, missing: tuple[str, ...] = (), expiring: tuple[str, ...] = ()) -> None:
        self.scenario = scenario
        self.missing = set(missing)
        self.expiring = set(expiring)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.tokens: dict[str, tuple[str, int, int]] = {}

    def client(self) -> Any:
        configuration = k8s_client.Configuration()
        configuration.host = "https://10.0.0.11:6443"
        api_client = k8s_client.ApiClient(configuration)
        api_client.rest_client = cast(Any, self)  # answers like the real RESTClientObject
        return api_client

    def request(self, method: str, url: str, headers: Any = None, body: Any = None, **_: Any) -> FakeResponse:
        assert method == "GET", f"cluster_info must only read, got {method} {url}"
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests.append((parts.path, query))
        slug = parts.path.strip("/").replace("/", "_")
        if "fieldSelector" in query:
            slug += "@" + query["fieldSelector"]
        if slug in self.missing:
            return self._not_found(parts.path)
        if slug in self.expiring and "continue" in query:
            self.expiring.discard(slug)
            message = "The provided continue parameter is too old to display a consistent list result."
            return self._status(410, "Expired", message)
        items = load_list(self.scenario, slug)
        if items is None:
            single = FIXTURES / self.scenario / f"{slug}.json"
            if not single.exists():
                return self._not_found(parts.path)
            return FakeResponse(200, json.loads(single.read_text()))
        return FakeResponse(200, self._page(slug, items, query))

    def _page(self, slug: str, items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
        assert "limit" in query, f"list of {slug} without limit: not paginated"
        limit = int(query["limit"])
        start = 0
        if "continue" in query:
            token_slug, token_limit, start = self.tokens[query["continue"]]
            assert (token_slug, token_limit) == (slug, limit), "continue token reused with other parameters"
        page = items[start : start + limit]
        metadata: dict[str, Any] = {"resourceVersion": "48213"}
        if start + limit < len(items):
            last = page[-1]["metadata"]
            key = f"{last.get('namespace', '')}/{last['name']}".lstrip("/")
            token = base64.b64encode(json.dumps({"rv": 48213, "start": key + "\u0000"}).encode()).decode()
            self.tokens[token] = (slug, limit, start + limit)
            metadata["continue"] = token
            metadata["remainingItemCount"] = len(items) - start - limit
        return {"kind": "List", "apiVersion": "v1", "metadata": metadata, "items": page}

    @classmethod
    def _not_found(cls, path: str) -> FakeResponse:
        return cls._status(404, "NotFound", f'"{path.rstrip("/").rsplit("/", 1)[-1]}" not found')

    @staticmethod
    def _status(code: int, reason: str, message: str) -> FakeResponse:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure"}
        return FakeResponse(code, {**body, "message": message, "reason": reason, "code": code})
