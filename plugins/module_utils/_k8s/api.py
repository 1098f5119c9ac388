# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers around the official client: readable API errors, transient-error retries, paginated lists."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional, TypeVar

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError

try:
    from kubernetes.client.exceptions import ApiException
except ImportError:  # reported by run_module(needs_kubernetes=True)

    class ApiException(Exception):  # type: ignore[no-redef]
        status = 0
        body = None
        reason = ""


try:
    from urllib3.exceptions import HTTPError as Urllib3HTTPError
except ImportError:

    class Urllib3HTTPError(Exception):  # type: ignore[no-redef]
        pass


T = TypeVar("T")

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
REQUEST_TIMEOUT = 30
PAGE_SIZE = 500


def status_of(exc: BaseException) -> int:
    """The HTTP status of an API error, 0 when the server was not reached."""
    return int(getattr(exc, "status", 0) or 0) if isinstance(exc, ApiException) else 0


def status_body(exc: BaseException) -> dict[str, Any]:
    """The ``kind: Status`` body of an API error, or an empty dict."""
    body = getattr(exc, "body", None)
    if not body:
        return {}
    try:
        decoded = json.loads(body)
    except (TypeError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def tls_problem(exc: BaseException) -> Optional[str]:
    """Why TLS failed (an unknown CA, a name mismatch, an expired certificate ...), when that is the error.

    urllib3 wraps it as MaxRetryError(reason=SSLError(ssl.SSLCertVerificationError)): look through the chain.
    """
    seen: set[int] = set()
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"the API server's certificate was not accepted: {current.verify_message or current.reason}"
        if isinstance(current, ssl.SSLError):
            return f"TLS with the API server failed: {current.reason or current}"
        pending.extend([getattr(current, "reason", None), current.__cause__, current.__context__, *current.args])
    return None


def error_message(exc: BaseException) -> str:
    """The API's own message for an error (``Status.message``), else the best description available."""
    if isinstance(exc, ApiException):
        message = status_body(exc).get("message")
        return f"{exc.status} {message or exc.reason}"
    return tls_problem(exc) or str(exc) or type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    """Connection refused/reset, a 5xx other than a known permanent one, or a read timeout; never a TLS
    verification failure, which no retry cures."""
    if tls_problem(exc):
        return False
    if isinstance(exc, ApiException):
        return exc.status in TRANSIENT_STATUSES or exc.status == 0
    return isinstance(exc, (Urllib3HTTPError, ConnectionError, TimeoutError))


def with_retries(
    call: Callable[[], T],
    what: str,
    deadline: float | None = None,
    attempts: int = 8,
    is_retryable: Callable[[BaseException], bool] = is_transient,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``call``, retrying transient failures with capped exponential backoff; ApiError names ``what``."""
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except (ApiException, Urllib3HTTPError, ConnectionError, TimeoutError) as exc:
            out_of_time = deadline is not None and time.monotonic() + delay > deadline
            retryable = is_retryable(exc)
            if attempt == attempts or out_of_time or not retryable:
                raise ApiError(
                    f"{what} failed: {error_message(exc)}", status=status_of(exc), transient=retryable
                ) from exc
        sleep(delay)
        delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")  # pragma: no cover


def read_json(response: Any) -> dict[str, Any]:
    """The decoded JSON body of a raw response (a call made with ``_preload_content=False``)."""
    data = response.data if hasattr(response, "data") else response.read()
    return json.loads(data) if data else {}


def call_json(call: Callable[..., Any], what: str, deadline: float | None = None, **kwargs: Any) -> dict[str, Any]:
    """One typed client call returned as plain JSON (no model objects: faster, less memory), with retries."""
    kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
    return with_retries(lambda: read_json(call(_preload_content=False, **kwargs)), what, deadline=deadline)


def paginate(
    list_call: Callable[..., Any],
    what: str,
    limit: int = PAGE_SIZE,
    max_restarts: int = 3,
    **kwargs: Any,
) -> Iterator[dict[str, Any]]:
    """Yield every item (plain JSON) of a typed list call, page by page with ``limit``/``continue``.

    When a continue token has expired (410 Gone) the list starts over, so a consumer may see an item
    twice: key what you collect by uid or name.
    """
    token: str | None = None
    restarts = 0
    while True:
        try:
            page = call_json(list_call, what, limit=limit, _continue=token, **kwargs)
        except ApiError as exc:
            if token is None or exc.details.get("status") != 410 or restarts >= max_restarts:
                raise
            restarts += 1
            token = None
            continue
        yield from page.get("items") or []
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return


def list_all(
    list_call: Any, what: str, deadline: float | None = None, **kwargs: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every item of a paginated list and the resourceVersion of its snapshot (a 410 on continue restarts).

    For callers that need the whole list at once, e.g. to start a watch from its resourceVersion.
    """
    for _attempt in range(4):
        items: list[dict[str, Any]] = []
        token = None
        try:
            while True:
                page = call_json(list_call, what, deadline=deadline, _continue=token, **kwargs)
                items.extend(page.get("items") or [])
                metadata = page.get("metadata") or {}
                token = metadata.get("continue")
                if not token:
                    return items, str(metadata.get("resourceVersion") or "")
        except ApiError as exc:
            if token is None or exc.details.get("status") != 410:
                raise
    raise ApiError(f"{what} failed: the list kept expiring (410 Gone) while paging")
