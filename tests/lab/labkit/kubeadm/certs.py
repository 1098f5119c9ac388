"""Certificate renewal as ``kubeadm upgrade`` does it (``--certificate-renewal=true``): the same key, subject,
SANs and usages, signed again by the same CA for another certificateValidityPeriod (one year). CAs are never renewed.
"""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from labkit.kubeadm.constants import KUBERNETES_DIR, PKI_DIR

VALIDITY = datetime.timedelta(days=365)

# component -> (name printed, certificate base path, CA base path); kubeconfig files are renewed in place
BY_COMPONENT: dict[str, list[tuple[str, str, str]]] = {
    "etcd": [
        ("etcd-server", "etcd/server", "etcd/ca"),
        ("etcd-peer", "etcd/peer", "etcd/ca"),
        ("etcd-healthcheck-client", "etcd/healthcheck-client", "etcd/ca"),
    ],
    "kube-apiserver": [
        ("apiserver", "apiserver", "ca"),
        ("apiserver-kubelet-client", "apiserver-kubelet-client", "ca"),
        ("front-proxy-client", "front-proxy-client", "front-proxy-ca"),
        ("apiserver-etcd-client", "apiserver-etcd-client", "etcd/ca"),
    ],
    "kube-controller-manager": [("controller-manager.conf", "controller-manager.conf", "ca")],
    "kube-scheduler": [("scheduler.conf", "scheduler.conf", "ca")],
}
KUBECONFIGS = ["admin.conf", "super-admin.conf"]


def resign(cert_pem: bytes, ca_cert_pem: bytes, ca_key_pem: bytes) -> bytes:
    cert = x509.load_pem_x509_certificate(cert_pem)
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, None)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(ca_cert.subject)
        .public_key(cert.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)  # type: ignore[arg-type]


def renew_file(base: str, ca: str) -> None:
    target = PKI_DIR / f"{base}.crt"
    renewed = resign(target.read_bytes(), (PKI_DIR / f"{ca}.crt").read_bytes(), (PKI_DIR / f"{ca}.key").read_bytes())
    target.write_bytes(renewed)


def renew_kubeconfig(path: Path) -> None:
    text = path.read_text()
    config: dict[str, Any] = yaml.safe_load(text)
    for entry in config.get("users") or []:
        user = entry.get("user") or {}
        if "client-certificate-data" in user:
            cert = base64.b64decode(user["client-certificate-data"])
            renewed = resign(cert, (PKI_DIR / "ca.crt").read_bytes(), (PKI_DIR / "ca.key").read_bytes())
            user["client-certificate-data"] = base64.b64encode(renewed).decode()
    is_json = text.lstrip().startswith("{")
    path.write_text(json.dumps(config, indent=2) + "\n" if is_json else yaml.safe_dump(config, sort_keys=False))


def renew_for(component: str, line: Any) -> None:
    """Renew the component's certificates, printing ``Renewing <name> certificate`` for each."""
    for name, base, ca in BY_COMPONENT.get(component, []):
        line(f"[upgrade/staticpods] Renewing {name} certificate")
        if base.endswith(".conf"):
            renew_kubeconfig(KUBERNETES_DIR / base)
        else:
            renew_file(base, ca)


def renew_kubeconfigs() -> None:
    for name in KUBECONFIGS:
        if (KUBERNETES_DIR / name).exists():
            renew_kubeconfig(KUBERNETES_DIR / name)
