# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take, verify and keep etcd snapshots (the logic of the etcd_snapshot module).

A snapshot is saved under a temporary name, verified (sha256 trailer + ``snapshot status``), and only
then renamed to ``etcd-snapshot-<UTC time>.db``: a file with our name is always a complete, checked one.
"""

from __future__ import annotations

import datetime
import os
import time
from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError, InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import cli
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import snapshot_file as files
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._options import check_range, check_seconds

KUBEADM_ETCD_PKI = "/etc/kubernetes/pki/etcd"
PROBE_TIMEOUT = 5
MAX_KEEP = 100_000


def tls_options(
    endpoints: list[str],
    cacert: Optional[str],
    cert: Optional[str],
    key: Optional[str],
    pki: str = KUBEADM_ETCD_PKI,
) -> dict[str, Optional[str]]:
    """The TLS flags: the given files (which must exist), else kubeadm's when an endpoint is https and they exist."""
    if bool(cert) != bool(key):
        raise InvalidInput("cert and key go together: give both or neither")
    given = {"cacert": cacert, "cert": cert, "key": key}
    for option, path in given.items():
        if path and not os.path.isfile(path):
            raise InvalidInput(f"{option} file {path} does not exist")
    if not any(endpoint.startswith("https://") for endpoint in endpoints):
        return given
    if not cacert and os.path.isfile(os.path.join(pki, "ca.crt")):
        given["cacert"] = os.path.join(pki, "ca.crt")
    if not cert:
        for pair in ("healthcheck-client", "server"):
            crt, pem = os.path.join(pki, f"{pair}.crt"), os.path.join(pki, f"{pair}.key")
            if os.path.isfile(crt) and os.path.isfile(pem):
                given["cert"], given["key"] = crt, pem
                break
    return given


def check_snapshot_file(path: str) -> None:
    """InvalidInput, naming the path, unless it is a readable regular file."""
    if os.path.isdir(path):
        raise InvalidInput(f"snapshot {path} is a directory, not a snapshot file")
    if not os.path.lexists(path):
        raise InvalidInput(f"snapshot {path} does not exist")
    if not os.path.isfile(path):
        raise InvalidInput(f"snapshot {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"snapshot {path} is not readable")


def check_endpoints(endpoints: list[str]) -> None:
    if not endpoints:
        raise InvalidInput("endpoints is empty: give at least one etcd client URL")
    for endpoint in endpoints:
        if not endpoint.startswith(("http://", "https://")):
            raise InvalidInput(f"endpoint {endpoint!r} is not an http:// or https:// URL")


def verify(
    tools: cli.EtcdTools,
    path: str,
    skip_hash_check: bool,
    timeout: float,
    digest: Optional[files.TrailerDigest] = None,
) -> dict[str, Any]:
    """Check a snapshot file: its sha256 trailer (in Python, while ``snapshot status`` runs) and its structure.

    ``digest``: the file was already hashed while it was written; only its size is checked again.
    """
    if digest is not None:
        if os.path.getsize(path) != digest.size:
            raise InvalidInput(f"snapshot {path} changed while it was being hashed")
        sha256, size = digest.result(path)
    proc = cli.start(tools.status_command(path))
    if digest is None:
        try:
            sha256, size = files.file_digests(path, skip_hash_check)
        except BaseException:
            proc.kill()
            proc.communicate()
            raise
    done = cli.finish(proc, timeout, f"snapshot status of {path}")
    if done.returncode != 0:
        raise InvalidInput(f"snapshot {path} is not a valid etcd database: {cli.error_line(done.stderr, done.stdout)}")
    return {"path": path, "sha256": sha256, "size": size, **cli.parse_status(done.stdout)}


def probe(tools: cli.EtcdTools, endpoint: str, tls: dict[str, Optional[str]]) -> Optional[str]:
    """Why ``endpoint`` cannot be used, in one line; None when it answers."""
    command = [
        tools.etcdctl or "etcdctl",
        f"--endpoints={endpoint}",
        *[f"--{flag}={value}" for flag, value in tls.items() if value],
        f"--dial-timeout={PROBE_TIMEOUT}s",
        f"--command-timeout={PROBE_TIMEOUT}s",
        "endpoint",
        "status",
    ]
    proc = cli.run(command, PROBE_TIMEOUT * 3, f"etcdctl endpoint status {endpoint}")
    if proc.returncode == 0:
        return None
    reason = cli.error_line(proc.stderr, proc.stdout)
    if "deadline exceeded" not in reason and "unreachable" not in reason.lower():
        return f"etcd endpoint {endpoint}: {reason}"
    return f"etcd endpoint {endpoint} {why_unreachable(endpoint, cli.balancer_error(proc.stderr), tls)}"


def why_unreachable(endpoint: str, error: Optional[str], tls: dict[str, Optional[str]]) -> str:
    """What the client last saw while trying to connect, in words that point at the fix."""
    if not error:
        return f"unreachable: no answer within {PROBE_TIMEOUT}s"
    if "x509:" in error:
        return f"refused its TLS certificate: {error[error.index('x509:') :]} (check cacert)"
    if "connection refused" in error:
        return "unreachable: connection refused (is etcd listening there?)"
    if endpoint.startswith("http://") and "connection closed" in error:
        return "closed the connection: it probably speaks TLS (use https://)"
    if not tls.get("cert") and ("broken pipe" in error or "connection reset" in error):
        return "refused the TLS handshake: it probably needs a client certificate (set cert and key)"
    if "bad certificate" in error or "certificate required" in error:
        return f"refused the client certificate: {error} (check cert and key)"
    return f"unreachable: no answer within {PROBE_TIMEOUT}s (last error: {error})"


def save(
    tools: cli.EtcdTools, endpoints: list[str], tls: dict[str, Optional[str]], target: str, timeout: int
) -> tuple[str, Optional[files.TrailerDigest]]:
    """Save a snapshot from the first endpoint that answers into ``target``, hashing it while it is written.

    The endpoint used, and the digest (None when following the file failed: then it is read again).
    """
    failures = []
    for endpoint in endpoints:
        reason = probe(tools, endpoint, tls)
        if reason is None:
            files.remove([target, target + ".part"])
            follower = files.Follower([target + ".part", target])
            follower.start()
            try:
                command = tools.save_command(endpoint, target, tls, timeout)
                proc = cli.run(command, timeout + 30, "etcdctl snapshot save")
            finally:
                follower.done.set()
                follower.join()
            if proc.returncode == 0:
                return endpoint, follower.digest if follower.followed else None
            reason = f"etcd endpoint {endpoint}: snapshot save failed: {cli.error_line(proc.stderr, proc.stdout)}"
        failures.append(reason)
        for leftover in (target, target + ".part"):
            files.remove([leftover])
    raise ApiError("; ".join(failures), endpoints=endpoints)


def take(params: dict[str, Any], check_mode: bool = False, now: Optional[datetime.datetime] = None) -> dict[str, Any]:
    """``state: present``: snapshot, verify, rename into place, apply retention."""
    started = time.monotonic()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    endpoints = params["endpoints"]
    check_endpoints(endpoints)
    tls = tls_options(endpoints, params.get("cacert"), params.get("cert"), params.get("key"))
    keep = params.get("keep")
    if keep is not None and keep < 1:
        raise InvalidInput(f"keep {keep} is below 1: the snapshot just taken is always kept")
    if keep is not None:
        check_range("keep", keep, 1, MAX_KEEP, "snapshots")
    max_age = files.parse_age(params.get("max_age"))
    backup_dir = params["backup_dir"]
    if not os.path.isabs(backup_dir):
        raise InvalidInput(f"backup_dir {backup_dir} is not an absolute path")
    created = files.missing_directories("backup_dir", backup_dir)
    if not created and not os.access(backup_dir, os.W_OK | os.X_OK):
        raise InvalidInput(f"backup_dir {backup_dir} is not writable")
    tools = cli.detect(params.get("etcdctl"), params.get("etcdutl"))
    tools.offline_tool()  # fails now, before saving, when etcd 3.6 has no etcdutl

    exists = os.path.isdir(backup_dir)
    existing = files.list_snapshots(backup_dir) if exists else []
    name = files.snapshot_name(now, os.listdir(backup_dir) if exists else [])
    final = os.path.join(backup_dir, name)
    new = files.Snapshot(now.replace(microsecond=0), 10**9, final)
    doomed = files.plan_retention([*existing, new], keep, max_age, now, protect=final)
    kubeadm_keep = params.get("kubeadm_backups_keep")
    if kubeadm_keep is not None:
        if kubeadm_keep < 0:
            raise InvalidInput(f"kubeadm_backups_keep {kubeadm_keep} is negative")
        doomed_backups = files.plan_kubeadm_backups(params["kubeadm_backups_dir"], kubeadm_keep)
    else:
        doomed_backups = []
    diff = {
        "before": {"path": backup_dir, "snapshots": [os.path.basename(s.path) for s in existing]},
        "after": {
            "path": backup_dir,
            "snapshots": [os.path.basename(s.path) for s in [*existing, new] if s.path not in doomed],
        },
    }
    if check_mode:
        would = files.would_remove([*doomed, *doomed_backups])
        return {
            "changed": True,
            "path": final,
            "removed": would,
            "diff": diff,
            "etcd_version": tools.version,
            "duration": round(time.monotonic() - started, 3),
            "msg": f"would take a snapshot into {final}" + (f" and remove {would}" if would else ""),
        }

    temporary = os.path.join(backup_dir, f".{name}.part")
    try:
        os.makedirs(backup_dir, mode=0o700, exist_ok=True)
        os.chmod(backup_dir, 0o700)
        endpoint, digest = save(tools, endpoints, tls, temporary, params["timeout"])
        saved = time.monotonic()
        report = verify(tools, temporary, False, params["timeout"], digest)
        os.chmod(temporary, 0o600)
        os.rename(temporary, final)
    except BaseException:
        files.remove([temporary, temporary + ".part"])
        files.remove_empty(created)  # a failed run leaves nothing behind, not even the directories it made
        raise
    files.write_private(files.sidecar(final), f"{report['sha256']}  {name}\n")
    removed = files.remove(doomed) + files.remove(doomed_backups)
    finished = time.monotonic()
    return {
        **report,
        "changed": True,
        "path": final,
        "endpoint": endpoint,
        "removed": removed,
        "diff": diff,
        "etcd_version": tools.version,
        "duration": round(finished - started, 3),
        "save_duration": round(saved - started, 3),
        "msg": f"snapshot {final} taken from {endpoint} and verified: revision {report['revision']}, "
        f"{report['total_keys']} keys, {report['size']} bytes in {finished - started:.1f}s"
        + (f"; removed {len(removed)} old files" if removed else ""),
    }


def check(params: dict[str, Any]) -> dict[str, Any]:
    """``state: verified``: check an existing snapshot file; fails on any bad file."""
    started = time.monotonic()
    path = params.get("path")
    if not path:
        raise InvalidInput("path is required with state=verified")
    check_snapshot_file(path)
    tools = cli.detect(params.get("etcdctl"), params.get("etcdutl"))
    report = verify(tools, path, params.get("skip_hash_check", False), params["timeout"])
    duration = time.monotonic() - started
    return {
        **report,
        "changed": False,
        "removed": [],
        "etcd_version": tools.version,
        "duration": round(duration, 3),
        "msg": f"snapshot {path} verified: revision {report['revision']}, {report['total_keys']} keys",
    }


def run(params: dict[str, Any], check_mode: bool = False) -> dict[str, Any]:
    """The module's entry point."""
    check_seconds("timeout", params["timeout"])
    if params.get("state", "present") == "verified":
        return check(params)
    if params.get("skip_hash_check"):
        raise InvalidInput("skip_hash_check is only for state=verified (a copied db file); a snapshot has its hash")
    return take(params, check_mode)
