"""The response a fake API server hands the real kubernetes client."""

from __future__ import annotations

import json
from typing import Any, Union

REASONS = {200: "OK", 403: "Forbidden", 404: "Not Found", 410: "Gone", 500: "Internal Server Error"}


class FakeResponse:
    """Plays both the client's RESTResponse and the urllib3 response it wraps."""

    def __init__(self, status: int, body: Union[bytes, dict[str, Any]], content_type: str = "application/json") -> None:
        self.status = status
        self.reason = REASONS[status]
        self.data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.headers = {"Content-Type": content_type}
        self.response = self

    def read(self) -> bytes:
        return self.data

    def getheaders(self) -> dict[str, str]:
        return self.headers

    def getheader(self, name: str, default: Any = None) -> Any:
        return self.headers.get(name, default)
