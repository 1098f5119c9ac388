"""kube-apiserver's command line (as kubeadm's manifest has it) translated into the lab API server's JSON settings.

Flags the simulation acts on become settings (table in ``FLAG_TO_SETTING``); the other real flags are accepted and
have no effect; a flag kube-apiserver does not have is refused like the real one refuses it
(``Error: unknown flag: --x``, exit 1), so a bad ``apiServer.extraArgs`` breaks the upgraded API server as it would
on a real cluster.
"""

from __future__ import annotations

from typing import Any

from labkit.images.flags import FlagError, parse_flags

FLAG_TO_SETTING = {
    "bind-address": "bind_address",
    "secure-port": "port",
    "advertise-address": "advertise_address",
    "tls-cert-file": "tls_cert",
    "tls-private-key-file": "tls_key",
    "client-ca-file": "client_ca",
    "token-auth-file": "token_file",
    "etcd-servers": "etcd_endpoints",
    "etcd-cafile": "etcd_cacert",
    "etcd-certfile": "etcd_cert",
    "etcd-keyfile": "etcd_key",
    "service-account-key-file": "service_account_key_file",
    "service-account-signing-key-file": "service_account_signing_key_file",
    "service-account-issuer": "service_account_issuer",
    "authorization-mode": "authorization_mode",
}
ACCEPTED = {
    "allow-privileged", "enable-admission-plugins", "disable-admission-plugins", "enable-bootstrap-token-auth",
    "kubelet-client-certificate", "kubelet-client-key", "kubelet-preferred-address-types",
    "proxy-client-cert-file", "proxy-client-key-file", "requestheader-allowed-names",
    "requestheader-client-ca-file", "requestheader-extra-headers-prefix", "requestheader-group-headers",
    "requestheader-username-headers", "service-cluster-ip-range", "service-node-port-range", "anonymous-auth",
    "audit-log-path", "audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize", "audit-policy-file",
    "authorization-config", "authentication-config", "encryption-provider-config", "enable-aggregator-routing",
    "endpoint-reconciler-type", "event-ttl", "feature-gates", "max-requests-inflight",
    "max-mutating-requests-inflight", "oidc-issuer-url", "oidc-client-id", "oidc-username-claim",
    "oidc-groups-claim", "profiling", "runtime-config", "tls-cipher-suites", "tls-min-version", "v",
    "default-not-ready-toleration-seconds", "default-unreachable-toleration-seconds", "etcd-prefix",
    "storage-backend", "watch-cache", "apiserver-count", "cloud-provider", "kubelet-certificate-authority",
    "service-account-lookup", "shutdown-delay-duration", "goaway-chance", "request-timeout", "min-request-timeout",
}  # fmt: skip


def parse(argv: list[str]) -> dict[str, str]:
    return parse_flags(argv, set(FLAG_TO_SETTING) | ACCEPTED, "kube-apiserver")


def settings(flags: dict[str, str], version: str, time_factor: float) -> dict[str, Any]:
    """The lab API server's settings (labkit/README.md's key table) for these flags."""
    config: dict[str, Any] = {"version": version, "time_factor": time_factor, "bind_address": "0.0.0.0", "port": 6443}
    for flag, key in FLAG_TO_SETTING.items():
        if flag in flags:
            config[key] = flags[flag]
    config["port"] = int(config["port"])
    if isinstance(config.get("etcd_endpoints"), str):
        config["etcd_endpoints"] = [e for e in config["etcd_endpoints"].split(",") if e]
    missing = [f"--{f}" for f in ("tls-cert-file", "tls-private-key-file", "etcd-servers") if f not in flags]
    if missing:
        raise FlagError(f"missing required flags: {', '.join(missing)}")
    return config
