"""`kind: Status` errors shaped like kube-apiserver's (k8s.io/apimachinery/pkg/api/errors)."""

from __future__ import annotations

import json

from .resources import Resource

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    def __init__(self, code: int, message: str, reason: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason if reason is not None else REASONS.get(code, "")
        self.details = details

    def status(self) -> dict:
        return status_body(self.code, self.message, self.reason, self.details)

    def body(self) -> bytes:
        return json.dumps(self.status(), separators=(",", ":")).encode()


def status_body(code: int, message: str = "", reason: str = "", details: dict | None = None) -> dict:
    body: dict = {"kind": "Status", "apiVersion": "v1", "metadata": {}}
    body["status"] = "Success" if code < 400 else "Failure"
    if message:
        body["message"] = message
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def _details(res: Resource, name: str | None, causes: list | None = None) -> dict:
    details: dict = {"name": name}
    if res.group:
        details["group"] = res.group
    details["kind"] = res.plural
    if causes:
        details["causes"] = causes
    return details


def not_found(res: Resource, name: str | None) -> ApiError:
    return ApiError(404, f'{res.group_resource} "{name}" not found', "NotFound", _details(res, name))


def already_exists(res: Resource, name: str) -> ApiError:
    return ApiError(409, f'{res.group_resource} "{name}" already exists', "AlreadyExists", _details(res, name))


def conflict(res: Resource, name: str, why: str) -> ApiError:
    message = f'Operation cannot be fulfilled on {res.group_resource} "{name}": {why}'
    return ApiError(409, message, "Conflict", _details(res, name))


MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def forbidden(res: Resource, name: str, why: str, causes: list | None = None) -> ApiError:
    message = f'{res.group_resource} "{name}" is forbidden: {why}'
    if not name:
        message = f"{res.group_resource} is forbidden: {why}"
    return ApiError(403, message, "Forbidden", _details(res, name, causes))


def invalid(res: Resource, name: str, causes: list[dict]) -> ApiError:
    parts = [f"{c['field']}: {c['message']}" for c in causes]
    text = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    kind = f"{res.kind}.{res.group}" if res.group else res.kind  # the qualified kind, as in `Job.batch "x"`
    message = f'{kind} "{name}" is invalid: {text}'
    details = {"name": name, "group": res.group, "kind": res.kind, "causes": causes}
    if not res.group:
        del details["group"]
    return ApiError(422, message, "Invalid", details)


def field_invalid(field: str, value, detail: str) -> dict:
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {json.dumps(value)}: {detail}", "field": field}


def field_not_supported(field: str, value, supported: list[str]) -> dict:
    choices = ", ".join(json.dumps(v) for v in supported)
    return {"reason": "FieldValueNotSupported", "field": field,
            "message": f"Unsupported value: {json.dumps(value)}: supported values: {choices}"}  # fmt: skip


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "BadRequest")


def internal(message: str) -> ApiError:
    return ApiError(500, f"Internal error occurred: {message}", "InternalError",
                    {"causes": [{"message": message}]})  # fmt: skip
