"""A kubeadm-like PKI (CA, apiserver, etcd and client certificates) and admin.conf-style kubeconfigs."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=3650)
SERVER = [ExtendedKeyUsageOID.SERVER_AUTH]
CLIENT = [ExtendedKeyUsageOID.CLIENT_AUTH]
BOTH = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _new_key():
    # EC keys are much faster to generate than RSA and every client here (Go, OpenSSL) accepts them.
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)


def _load(cert_path: Path, key_path: Path):
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    return cert, key


def _ca(cert_path: Path, key_path: Path, cn: str):
    if cert_path.exists() and key_path.exists():
        return _load(cert_path, key_path)
    key = _new_key()
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, True, True, False, False), critical=True
        )  # digitalSignature, keyEncipherment, keyCertSign, cRLSign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return cert, key


def _leaf(base: Path, ca, cn: str, usages, org: str | None = None, sans: list[str] | None = None) -> None:
    cert_path, key_path = base.with_suffix(".crt"), base.with_suffix(".key")
    if cert_path.exists() and key_path.exists():
        return
    ca_cert, ca_key = ca
    key = _new_key()
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
            critical=False,
        )
    )
    if sans:
        names: list[x509.GeneralName] = []
        for san in dict.fromkeys(sans):
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)


def create_pki(pki_dir: Path, hosts: list[str] | None = None) -> dict[str, Path]:
    """Create (or reuse) a kubeadm-style PKI under pki_dir and return the paths by name.

    Names: ca, apiserver, apiserver-etcd-client, admin, etcd-ca, etcd-server, etcd-peer,
    etcd-healthcheck-client, front-proxy-ca, front-proxy-client (each NAME.crt / NAME.key: keys "<name>_crt" and
    "<name>_key"), sa_key, sa_pub.
    """
    pki_dir = Path(pki_dir)
    (pki_dir / "etcd").mkdir(parents=True, exist_ok=True)
    hosts = list(hosts or [])
    local = ["127.0.0.1", "localhost", "::1"]
    ca = _ca(pki_dir / "ca.crt", pki_dir / "ca.key", "kubernetes")
    etcd_ca = _ca(pki_dir / "etcd/ca.crt", pki_dir / "etcd/ca.key", "etcd-ca")
    k8s_names = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
    _leaf(pki_dir / "apiserver", ca, "kube-apiserver", SERVER, sans=local + k8s_names + hosts)
    _leaf(pki_dir / "apiserver-kubelet-client", ca, "kube-apiserver-kubelet-client", CLIENT, "kubeadm:cluster-admins")
    _leaf(pki_dir / "admin", ca, "kubernetes-admin", CLIENT, "system:masters")
    _leaf(pki_dir / "apiserver-etcd-client", etcd_ca, "kube-apiserver-etcd-client", CLIENT)
    _leaf(pki_dir / "etcd/server", etcd_ca, "etcd-server", BOTH, sans=local + hosts)
    _leaf(pki_dir / "etcd/peer", etcd_ca, "etcd-peer", BOTH, sans=local + hosts)
    _leaf(pki_dir / "etcd/healthcheck-client", etcd_ca, "kube-etcd-healthcheck-client", CLIENT)
    front_proxy_ca = _ca(pki_dir / "front-proxy-ca.crt", pki_dir / "front-proxy-ca.key", "front-proxy-ca")
    _leaf(pki_dir / "front-proxy-client", front_proxy_ca, "front-proxy-client", CLIENT)
    if not (pki_dir / "sa.key").exists():
        sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(pki_dir / "sa.key", sa)
        pub = sa.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        (pki_dir / "sa.pub").write_bytes(pub)
    paths = {"sa_key": pki_dir / "sa.key", "sa_pub": pki_dir / "sa.pub"}
    for name, rel in [
        ("ca", "ca"),
        ("apiserver", "apiserver"),
        ("apiserver_kubelet_client", "apiserver-kubelet-client"),
        ("admin", "admin"),
        ("apiserver_etcd_client", "apiserver-etcd-client"),
        ("etcd_ca", "etcd/ca"),
        ("etcd_server", "etcd/server"),
        ("etcd_peer", "etcd/peer"),
        ("etcd_healthcheck_client", "etcd/healthcheck-client"),
        ("front_proxy_ca", "front-proxy-ca"),
        ("front_proxy_client", "front-proxy-client"),
    ]:
        paths[name + "_crt"] = pki_dir / (rel + ".crt")
        paths[name + "_key"] = pki_dir / (rel + ".key")
    return paths


def client_cert(pki_dir: Path, name: str, cn: str, org: str | None = None) -> tuple[Path, Path]:
    """Issue (or reuse) a client certificate signed by the cluster CA, e.g. for a kubelet (system:node:NAME)."""
    pki_dir = Path(pki_dir)
    ca = _load(pki_dir / "ca.crt", pki_dir / "ca.key")
    _leaf(pki_dir / name, ca, cn, CLIENT, org)
    return pki_dir / (name + ".crt"), pki_dir / (name + ".key")


def _b64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def write_kubeconfig(
    path: Path,
    server_url: str,
    pki_dir: Path,
    user: str = "kubernetes-admin",
    cert: Path | None = None,
    key: Path | None = None,
    token: str | None = None,
    cluster: str = "kubernetes",
) -> Path:
    """Write an admin.conf-style kubeconfig (embedded CA and client cert, or a bearer token)."""
    pki_dir = Path(pki_dir)
    if token is not None:
        credentials = {"token": token}
    else:
        credentials = {
            "client-certificate-data": _b64(cert or pki_dir / "admin.crt"),
            "client-key-data": _b64(key or pki_dir / "admin.key"),
        }
    context = f"{user}@{cluster}"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": cluster, "cluster": {"server": server_url, "certificate-authority-data": _b64(pki_dir / "ca.crt")}}
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
        "preferences": {},
        "users": [{"name": user, "user": credentials}],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # JSON is valid YAML, and every kubeconfig reader accepts it.
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
    return path


def write_token_file(path: Path, tokens: list[tuple[str, str, str, list[str]]]) -> Path:
    """Write a kube-apiserver --token-auth-file CSV: token,user,uid,"group1,group2"."""
    lines = [f'{tok},{user},{uid},"{",".join(groups)}"' for tok, user, uid, groups in tokens]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path
