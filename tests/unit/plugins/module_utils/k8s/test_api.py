"""Pagination and retries of the shared API helpers, against a fake typed list call."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s import api


class Raw:
    def __init__(self, body: dict[str, Any]) -> None:
        self.data = json.dumps(body).encode()


def gone() -> ApiException:
    exc = ApiException(status=410, reason="Gone")
    exc.body = json.dumps({"kind": "Status", "code": 410, "reason": "Expired", "message": "too old resource version"})
    return exc


class FakeList:
    """Pages of ``limit`` items; the first ``expire`` continue requests answer 410 Gone."""

    def __init__(self, items: list[str], expire: int = 0) -> None:
        self.items, self.expire = items, expire
        self.calls: list[str | None] = []

    def __call__(self, limit: int, _continue: str | None = None, **_kw: Any) -> Raw:
        self.calls.append(_continue)
        if _continue and self.expire:
            self.expire -= 1
            raise gone()
        start = int(_continue or 0)
        end = start + limit
        meta = {"resourceVersion": "42", **({"continue": str(end)} if end < len(self.items) else {})}
        return Raw({"items": [{"name": n} for n in self.items[start:end]], "metadata": meta})


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["name"] for i in items]


def test_list_all_follows_continue_tokens_and_returns_the_resource_version() -> None:
    fake = FakeList([f"n{i}" for i in range(7)])
    items, version = api.list_all(fake, "list nodes", limit=3)
    assert names(items) == [f"n{i}" for i in range(7)] and version == "42"
    assert fake.calls == [None, "3", "6"]


def test_list_all_restarts_from_the_first_page_on_410_without_duplicates() -> None:
    fake = FakeList([f"n{i}" for i in range(5)], expire=1)
    items, _version = api.list_all(fake, "list nodes", limit=2)
    assert names(items) == [f"n{i}" for i in range(5)]
    assert fake.calls == [None, "2", None, "2", "4"]


def test_list_all_gives_up_when_every_continue_expires() -> None:
    with pytest.raises(ApiError, match="list nodes failed"):
        api.list_all(FakeList([f"n{i}" for i in range(5)], expire=99), "list nodes", limit=2)


def test_paginate_streams_pages_and_restarts_on_410() -> None:
    fake = FakeList([f"p{i}" for i in range(4)], expire=1)
    assert names(list(api.paginate(fake, "list pods", limit=2))) == ["p0", "p1", "p0", "p1", "p2", "p3"]


def test_with_retries_retries_a_transient_error_and_names_the_call_on_a_permanent_one() -> None:
    attempts = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ApiException(status=503, reason="Service Unavailable")
        return "ok"

    assert api.with_retries(flaky, "read node", sleep=lambda _s: None) == "ok" and len(attempts) == 3

    def forbidden() -> None:
        raise ApiException(status=403, reason="Forbidden")

    with pytest.raises(ApiError, match="read node failed: 403 Forbidden") as info:
        api.with_retries(forbidden, "read node", sleep=lambda _s: None)
    assert info.value.details["status"] == 403


def test_a_certificate_the_client_refuses_is_not_retried():
    import ssl

    from urllib3.exceptions import MaxRetryError, SSLError

    refused = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    refused.verify_message = "unable to get local issuer certificate"
    attempts = []

    def untrusted():
        attempts.append(1)
        raise MaxRetryError(None, "/api/v1/nodes", reason=SSLError(refused))

    with pytest.raises(ApiError) as raised:
        api.with_retries(untrusted, "read node worker-1", sleep=lambda _s: None)
    assert len(attempts) == 1
    problem = "the API server's certificate was not accepted: unable to get local issuer certificate"
    assert raised.value.message == f"read node worker-1 failed: {problem}"
    assert raised.value.details["transient"] is False
