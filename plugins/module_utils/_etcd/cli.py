# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcdctl / etcdutl: find them, detect their version, build the right command line for etcd 3.4, 3.5 and 3.6.

etcd 3.4 has only etcdctl. 3.5 adds etcdutl for the offline commands (``snapshot status`` / ``restore``;
etcdctl's are deprecated), 3.6 removes them from etcdctl. ``--bump-revision`` / ``--mark-compacted`` exist
from 3.5.10 on (etcd PR 16165) in both tools, and in 3.6.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError, InvalidInput

Version = tuple  # (major, minor, patch)

BUMP_SINCE = (3, 5, 10)
DIAL_TIMEOUT = 5
_VERSION_RE = re.compile(r"^(etcdctl|etcdutl) version:\s*v?(\d+)\.(\d+)\.(\d+)", re.MULTILINE)


def parse_version(output: str, tool: str) -> Version:
    """The version in the output of ``etcdctl version`` / ``etcdutl version``."""
    for match in _VERSION_RE.finditer(output):
        if match.group(1) == tool:
            return tuple(int(part) for part in match.group(2, 3, 4))
    raise InvalidInput(f"cannot read the {tool} version from its output: {output.strip()[:200]!r}")


def balancer_error(stderr: str) -> Optional[str]:
    """The gRPC client's last connection error, which etcdctl logs as a warning before its own terse
    ``context deadline exceeded``: e.g. ``x509: certificate signed by unknown authority``."""
    found = None
    for line in stderr.splitlines():
        if not line.startswith("{"):
            continue
        try:
            error = str(json.loads(line).get("error") or "")
        except ValueError:
            continue
        if "latest balancer error: " in error:
            found = error.split("latest balancer error: ", 1)[1]
    if found is None:
        return None
    found = re.sub(r'^connection error: desc = "transport: (authentication handshake failed: )?', "", found)
    return re.sub(r"\s*\(possibly because of .*$", "", found).rstrip('"\\').strip()


def error_line(stderr: str, stdout: str = "") -> str:
    """The one meaningful line of a failed etcdctl / etcdutl run (they log JSON lines, then ``Error: ...``)."""
    lines = [line.strip() for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("Error:"):
            return line[len("Error:") :].strip()
    for line in reversed(lines):
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("level") in ("error", "fatal", "panic"):
                return str(record.get("error") or record.get("msg"))
        else:
            return line
    return "no error message"


def run(command: list[str], timeout: float, what: str) -> subprocess.CompletedProcess:
    """Run an etcd tool with the v3 API; a missing binary or a timeout becomes one clear error."""
    env = dict(os.environ, ETCDCTL_API="3")
    try:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise InvalidInput(f"{command[0]} not found", command=command) from exc
    except subprocess.TimeoutExpired as exc:
        raise ApiError(f"{what} did not finish within {timeout:.0f}s", command=command) from exc


def resolve(name_or_path: Optional[str], default: str) -> Optional[str]:
    """An executable given by path or name (looked up on PATH); None when absent."""
    candidate = name_or_path or default
    if os.sep in candidate:
        return candidate if os.access(candidate, os.X_OK) else None
    return shutil.which(candidate)


@dataclass(frozen=True)
class EtcdTools:
    """The etcd binaries at hand and their versions; the command lines for each operation."""

    etcdctl: Optional[str]
    etcdctl_version: Optional[Version]
    etcdutl: Optional[str]
    etcdutl_version: Optional[Version]

    @property
    def version(self) -> str:
        found = self.etcdutl_version or self.etcdctl_version
        return ".".join(str(part) for part in found) if found else "unknown"

    def offline_tool(self) -> tuple[str, Version]:
        """The tool for ``snapshot status`` / ``restore``: etcdutl when present, etcdctl before 3.6."""
        if self.etcdutl and self.etcdutl_version:
            return self.etcdutl, self.etcdutl_version
        if self.etcdctl and self.etcdctl_version:
            if self.etcdctl_version >= (3, 6, 0):
                raise InvalidInput(
                    f"etcdctl {self.version} has no 'snapshot status/restore' (removed in etcd 3.6): "
                    "install etcdutl or give its path in etcdutl"
                )
            return self.etcdctl, self.etcdctl_version
        raise InvalidInput("neither etcdutl nor etcdctl found: install etcd-client or give their paths")

    def supports_bump(self) -> bool:
        """Whether ``snapshot restore`` has ``--bump-revision`` and ``--mark-compacted``."""
        return self.offline_tool()[1] >= BUMP_SINCE

    def save_command(self, endpoint: str, target: str, tls: dict[str, Optional[str]], timeout: int) -> list[str]:
        if not self.etcdctl:
            raise InvalidInput("etcdctl not found: it is needed to take a snapshot; install it or give its path")
        return [
            self.etcdctl,
            f"--endpoints={endpoint}",
            *[f"--{flag}={value}" for flag, value in tls.items() if value],
            f"--dial-timeout={DIAL_TIMEOUT}s",
            f"--command-timeout={timeout}s",
            "snapshot",
            "save",
            target,
        ]

    def status_command(self, path: str) -> list[str]:
        return [self.offline_tool()[0], "snapshot", "status", path, "--write-out=json"]

    def restore_command(
        self,
        path: str,
        data_dir: str,
        member: dict[str, Any],
        skip_hash_check: bool,
        bump_revision: int,
    ) -> list[str]:
        command = [
            self.offline_tool()[0],
            "snapshot",
            "restore",
            path,
            f"--data-dir={data_dir}",
            f"--name={member['name']}",
            f"--initial-cluster={member['initial_cluster']}",
            f"--initial-cluster-token={member['initial_cluster_token']}",
            f"--initial-advertise-peer-urls={','.join(member['initial_advertise_peer_urls'])}",
        ]
        if skip_hash_check:
            command.append("--skip-hash-check")
        if bump_revision and self.supports_bump():
            command += [f"--bump-revision={bump_revision}", "--mark-compacted"]
        return command


def detect(etcdctl: Optional[str] = None, etcdutl: Optional[str] = None, timeout: float = 30) -> EtcdTools:
    """Find the tools (etcdutl also beside etcdctl) and ask each its version."""
    ctl = resolve(etcdctl, "etcdctl")
    if etcdctl and not ctl:
        raise InvalidInput(f"etcdctl {etcdctl} not found or not executable")
    utl = resolve(etcdutl, "etcdutl")
    if etcdutl and not utl:
        raise InvalidInput(f"etcdutl {etcdutl} not found or not executable")
    if not utl and ctl:
        utl = resolve(os.path.join(os.path.dirname(ctl), "etcdutl"), "etcdutl")
    versions = {}
    for tool, path in (("etcdctl", ctl), ("etcdutl", utl)):
        if path:
            proc = run([path, "version"], timeout, f"{tool} version")
            if proc.returncode != 0:
                raise InvalidInput(f"{path} version failed: {error_line(proc.stderr, proc.stdout)}")
            versions[tool] = parse_version(proc.stdout, tool)
    return EtcdTools(ctl, versions.get("etcdctl"), utl, versions.get("etcdutl"))


def parse_status(output: str) -> dict[str, int]:
    """``snapshot status --write-out=json`` -> hash, revision, total_keys, total_size."""
    try:
        data = json.loads(output.strip().splitlines()[-1])
        return {
            "hash": int(data["hash"]),
            "revision": int(data["revision"]),
            "total_keys": int(data["totalKey"]),
            "total_size": int(data["totalSize"]),
        }
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ApiError(f"unexpected 'snapshot status' output: {output.strip()[:200]!r}") from exc


def start(command: list[str]) -> subprocess.Popen:
    """Start an etcd tool in the background (to overlap it with Python work)."""
    env = dict(os.environ, ETCDCTL_API="3")
    try:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError as exc:
        raise InvalidInput(f"{command[0]} not found", command=command) from exc


def finish(proc: subprocess.Popen, timeout: float, what: str) -> subprocess.CompletedProcess:
    """Wait for a started tool, bounded by ``timeout``."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        raise ApiError(f"{what} did not finish within {timeout:.0f}s", command=proc.args) from exc
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
