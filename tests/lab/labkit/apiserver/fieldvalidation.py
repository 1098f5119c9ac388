"""``fieldValidation`` (``Strict`` / ``Warn``, the default / ``Ignore``) for request bodies and patches, with
the errors and warnings of kube-apiserver's create, update and patch handlers."""

from __future__ import annotations

import json
from typing import Any, Callable

from .errors import ApiError
from .schema import Schemas, go_value, json_patch_problems

MODES = ("Strict", "Warn", "Ignore")


class FieldValidation:
    """One request's directive; ``warnings`` collects what a Warn request answers with."""

    def __init__(self, schemas: Schemas | None, query: dict[str, list[str]]):
        self.schemas = schemas
        self.mode = (query.get("fieldValidation") or ["Warn"])[0]
        if self.mode not in MODES:
            raise ApiError(400, f'fieldValidation must be one of "Ignore", "Strict", "Warn", got "{self.mode}"',
                           "BadRequest")  # fmt: skip
        self.warnings: list[str] = []
        self.patch_warnings: list[str] = []  # the last attempt's: a conflict makes the registry patch again

    def _model(self, api_version: str, kind: str) -> str | None:
        return self.schemas.model(api_version, kind) if self.schemas is not None else None

    def body(self, api_version: str, kind: str, body: Any) -> Any:
        """A create or update body without unknown fields (or the 400 a Strict request gets)."""
        model = self._model(api_version, kind)
        if model is None or self.schemas is None or not isinstance(body, dict):
            return body
        cleaned, problems = self.schemas.check(model, body)
        if problems and self.mode == "Strict":
            version = api_version.rpartition("/")[2]
            raise ApiError(400, f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: '
                           + ", ".join(problems), "BadRequest")  # fmt: skip
        if self.mode == "Warn":
            self.warnings += problems
        return cleaned

    def patch(self, api_version: str, kind: str, ctype: str, patch: Any) -> Callable[[dict], dict]:
        """The check for the patched object: the patch's own duplicates first, then the unknown fields of the
        result in sorted order (the handler decodes a re-encoded map)."""
        model = self._model(api_version, kind)
        media = ctype.split(";")[0].strip()
        json_patch = media == "application/json-patch+json"
        strategic = media == "application/strategic-merge-patch+json"
        own: list[str] = []
        if self.schemas is not None and self.mode != "Ignore":
            own = json_patch_problems(patch) if json_patch else self.schemas.duplicates(patch)

        def check(patched: dict) -> dict:
            if model is None or self.schemas is None:
                return patched
            cleaned, problems = self.schemas.check(model, patched, sort_keys=True)
            if self.mode == "Ignore":
                return cleaned
            problems = own + problems
            if problems and self.mode == "Strict":
                # the smp handler shows the patch as Go prints a map, the json patcher the patched document
                shown = json.dumps(go_value(patch) if strategic else json.dumps(patched, separators=(",", ":")))
                text = "strict decoding error: " + ", ".join(problems)
                cause = {"reason": "FieldValueInvalid", "message": f"Invalid value: {shown}: {text}", "field": "patch"}
                raise ApiError(422, f' "" is invalid: patch: Invalid value: {shown}: {text}', "Invalid",
                               {"causes": [cause]})  # fmt: skip
            self.patch_warnings = problems
            return cleaned

        return check

    def all_warnings(self) -> list[str]:
        return self.warnings + self.patch_warnings
