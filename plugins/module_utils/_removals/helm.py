# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helm v3 releases as Helm stores them in Secrets (the default ``secret`` storage driver).

A release secret is named ``sh.helm.release.v1.<release>.v<revision>``, has the type ``helm.sh/release.v1`` and
the labels ``owner=helm``, ``name=<release>``, ``version=<revision>``, ``status``. Its ``data.release`` is, as for
every Secret, base64; what it holds is Helm's own encoding of the release: base64 of the gzip of the release's
JSON (a release written by an old Helm may be the JSON without gzip). The JSON's ``manifest`` is the rendered
chart, one YAML document per template.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ClusterOpsError

GZIP_MAGIC = b"\x1f\x8b\x08"
MAX_RELEASE_BYTES = 64 * 1024 * 1024  # a release JSON larger than this (a gzip bomb) is refused, not inflated


class BadRelease(ClusterOpsError):
    """A release secret whose content is not a Helm release."""


def decode_release(secret_data: Any) -> dict[str, Any]:
    """The release JSON of a secret's ``data.release`` (the Kubernetes base64 of Helm's base64 of gzip)."""
    if not isinstance(secret_data, str) or not secret_data:
        raise BadRelease("data.release is missing")
    try:
        helm_encoded = base64.b64decode(secret_data, validate=True)
        payload = base64.b64decode(helm_encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRelease(f"data.release is not base64 of Helm's base64 ({exc})") from exc
    if payload[:3] == GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            payload = inflater.decompress(payload, MAX_RELEASE_BYTES)
        except zlib.error as exc:
            raise BadRelease(f"data.release is not valid gzip ({exc})") from exc
        if inflater.unconsumed_tail:
            raise BadRelease(f"the release is larger than {MAX_RELEASE_BYTES} bytes uncompressed")
    try:
        release = json.loads(payload)
    except ValueError as exc:
        raise BadRelease(f"the release is not JSON ({exc})") from exc
    if not isinstance(release, dict):
        raise BadRelease("the release is not a JSON object")
    return release


def encode_release(release: dict[str, Any]) -> str:
    """The ``data.release`` of a secret holding ``release``, as Helm writes it (for tests and the lab)."""
    import gzip

    packed = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return base64.b64encode(packed).decode()


def chart_of(release: dict[str, Any]) -> str | None:
    """``name-version`` of the release's chart, or None."""
    metadata = (release.get("chart") or {}).get("metadata") if isinstance(release.get("chart"), dict) else None
    if not isinstance(metadata, dict) or not metadata.get("name"):
        return None
    return f"{metadata['name']}-{metadata['version']}" if metadata.get("version") else str(metadata["name"])
