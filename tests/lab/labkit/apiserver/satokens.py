"""ServiceAccount tokens: RS256 JWTs signed with the cluster's ``sa.key`` and verified with ``sa.pub``, with the
claims kube-apiserver's TokenRequest puts in them (and the legacy secret-based tokens' claims)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

LEGACY_ISSUER = "kubernetes/serviceaccount"
DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"  # what kubeadm sets --service-account-issuer to


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """The ``kid`` kube-apiserver puts in the header: the SHA-256 of the DER public key, base64url."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return _b64(digest.finalize())


class Signer:
    def __init__(self, key_file: str):
        with open(key_file, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_file}: not an RSA private key")
        self.key = key
        self.kid = key_id(key.public_key())

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "kid": self.kid}
        head = _b64(json.dumps(header, separators=(",", ":")).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = self.key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{_b64(signature)}"


class Verifier:
    def __init__(self, key_file: str):
        with open(key_file, "rb") as handle:
            data = handle.read()
        try:
            key: Any = serialization.load_pem_public_key(data)
        except ValueError:  # a private key also verifies (kube-apiserver accepts either)
            key = serialization.load_pem_private_key(data, None).public_key()
        self.key = key

    def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this key signed, or None (not a JWT, another key, tampered)."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(_unb64(parts[0]))
            if header.get("alg") != "RS256":
                return None
            self.key.verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
            return json.loads(_unb64(parts[1]))
        except (ValueError, InvalidSignature, TypeError):
            return None


def bound_claims(issuer: str, audiences: list[str], seconds: int, namespace: str, sa: dict,
                 bound: dict | None = None, node: dict | None = None) -> dict[str, Any]:  # fmt: skip
    """A TokenRequest token's claims (``kubernetes.io`` private claims as 1.33+ servers write them)."""
    now = int(time.time())
    account = {"name": sa["metadata"]["name"], "uid": sa["metadata"]["uid"]}
    private: dict[str, Any] = {"namespace": namespace, "serviceaccount": account}
    if bound is not None:
        private[bound["kind"].lower()] = {"name": bound["name"], "uid": bound["uid"]}
    if node is not None:
        private["node"] = {"name": node["name"], "uid": node["uid"]}
    return {"aud": audiences, "exp": now + seconds, "iat": now, "iss": issuer, "jti": str(uuid.uuid4()),
            "kubernetes.io": private, "nbf": now,
            "sub": f"system:serviceaccount:{namespace}:{sa['metadata']['name']}"}  # fmt: skip


def legacy_claims(namespace: str, sa: dict, secret_name: str) -> dict[str, Any]:
    """A ``kubernetes.io/service-account-token`` Secret's token claims (no expiry)."""
    return {"iss": LEGACY_ISSUER, "kubernetes.io/serviceaccount/namespace": namespace,
            "kubernetes.io/serviceaccount/secret.name": secret_name,
            "kubernetes.io/serviceaccount/service-account.name": sa["metadata"]["name"],
            "kubernetes.io/serviceaccount/service-account.uid": sa["metadata"]["uid"],
            "sub": f"system:serviceaccount:{namespace}:{sa['metadata']['name']}"}  # fmt: skip
