# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a verified snapshot into a new data dir (the logic of the etcd_restore module).

The restore writes into a hidden sibling of ``data_dir`` that is renamed into place only when it
succeeded, so ``data_dir`` is either absent/empty or a complete restored member. A restored member
records what it was restored from (``member/restored-from.json``: etcd reads only its ``snap`` and ``wal``
directories there), so running the same restore again recognises it and changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError, InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import cli
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import snapshot_file as files
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd.snapshot import check_snapshot_file, verify
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._options import check_range, check_seconds


def member_flags(params: dict[str, Any]) -> dict[str, Any]:
    """name, initial_cluster, initial_cluster_token, initial_advertise_peer_urls with etcd's defaults."""
    name = params.get("name") or "default"
    peer_urls = params.get("initial_advertise_peer_urls") or ["http://localhost:2380"]
    for url in peer_urls:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"initial_advertise_peer_urls entry {url!r} is not an http:// or https:// URL")
    initial_cluster = params.get("initial_cluster") or ",".join(f"{name}={url}" for url in peer_urls)
    members = [entry.split("=", 1) for entry in initial_cluster.split(",")]
    if any(len(member) != 2 or not member[0] or not member[1] for member in members):
        raise InvalidInput(f"initial_cluster {initial_cluster!r} is not a list of name=peer-url")
    own = {url for member, url in members if member == name}
    if not own:
        raise InvalidInput(f"initial_cluster {initial_cluster!r} has no member named {name!r}")
    if not own.issuperset(peer_urls):
        raise InvalidInput(
            f"initial_advertise_peer_urls {peer_urls} are not those of {name!r} in initial_cluster {initial_cluster!r}"
        )
    return {
        "name": name,
        "initial_cluster": initial_cluster,
        "initial_cluster_token": params.get("initial_cluster_token") or "etcd-cluster",
        "initial_advertise_peer_urls": peer_urls,
    }


MARKER = os.path.join("member", "restored-from.json")
MAX_BUMP = 2**62  # etcd revisions are int64: the bumped revision must stay representable


def check_data_dir(data_dir: str) -> bool:
    """Whether ``data_dir`` is non-empty (then it must be a restore: the caller compares its marker)."""
    if not os.path.isabs(data_dir):
        raise InvalidInput(f"data_dir {data_dir} is not an absolute path")
    if os.path.islink(data_dir):
        raise InvalidInput(f"data_dir {data_dir} exists and is not a directory")
    if os.path.lexists(data_dir):
        if not os.path.isdir(data_dir):
            raise InvalidInput(f"data_dir {data_dir} exists and is not a directory")
        return bool(os.listdir(data_dir))
    files.missing_directories("data_dir", data_dir)  # the parents must be creatable, and writable
    return False


def read_marker(data_dir: str) -> dict[str, Any]:
    """What a non-empty ``data_dir`` was restored from; InvalidInput when it is not one of our restores."""
    try:
        with open(os.path.join(data_dir, MARKER)) as handle:
            marker = json.load(handle)
    except (OSError, ValueError):
        marker = None
    if not isinstance(marker, dict):
        raise InvalidInput(f"data_dir {data_dir} is not empty: restore needs a new or empty directory")
    return marker


def restored_record(report: dict[str, Any], member: dict[str, Any], bumped: int) -> dict[str, Any]:
    return {"sha256": report["sha256"], "revision": report["revision"], "revision_bump": bumped, **member}


def restore(params: dict[str, Any], check_mode: bool = False) -> dict[str, Any]:
    """Verify ``path``, then restore it into ``data_dir`` with the member flags."""
    started = time.monotonic()
    path, data_dir = params["path"], os.path.normpath(params["data_dir"])
    skip_hash_check = params.get("skip_hash_check", False)
    check_seconds("timeout", params["timeout"])
    bump = params.get("bump_revision", 0) or 0
    if bump < 0:
        raise InvalidInput(f"bump_revision {bump} is negative")
    check_range("bump_revision", bump, 0, MAX_BUMP)
    member = member_flags(params)
    occupied = check_data_dir(data_dir)
    marker = read_marker(data_dir) if occupied else None
    check_snapshot_file(path)
    tools = cli.detect(params.get("etcdctl"), params.get("etcdutl"))
    report = verify(tools, path, skip_hash_check, params["timeout"])
    bumped = bump if bump and tools.supports_bump() else 0
    result = {
        **report,
        **member,
        "data_dir": data_dir,
        "revision_bump": bumped,
        "restored_revision": report["revision"] + bumped,
        "etcd_version": tools.version,
    }
    if marker is not None:
        wanted = restored_record(report, member, bumped)
        if any(marker.get(key) != value for key, value in wanted.items()):
            raise InvalidInput(
                f"data_dir {data_dir} is not empty: it holds a restore of another snapshot or with other member "
                f"flags (sha256 {marker.get('sha256')}, member {marker.get('name')}); restore into a new directory"
            )
        return {
            **result,
            "changed": False,
            "duration": round(time.monotonic() - started, 3),
            "msg": f"{data_dir} was already restored from {path} (revision {report['revision']}) as member "
            f"{member['name']} at {marker.get('restored_at')}: nothing to do",
        }
    if check_mode:
        return {
            **result,
            "changed": True,
            "duration": round(time.monotonic() - started, 3),
            "msg": f"snapshot {path} verified (revision {report['revision']}, {report['total_keys']} keys); "
            f"would restore it into {data_dir} as member {member['name']}",
        }

    parent = os.path.dirname(data_dir)
    os.makedirs(parent, exist_ok=True)
    staging = os.path.join(parent, f".{os.path.basename(data_dir)}.restore-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    command = tools.restore_command(path, staging, member, skip_hash_check, bump)
    try:
        proc = cli.run(command, params["timeout"], "snapshot restore")
        if proc.returncode != 0:
            raise ApiError(f"restore of {path} failed: {cli.error_line(proc.stderr, proc.stdout)}", command=command)
        record = {
            **restored_record(report, member, bumped),
            "restored_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with open(os.path.join(staging, MARKER), "w") as handle:
            json.dump(record, handle, indent=2)
        if os.path.isdir(data_dir):
            os.rmdir(data_dir)  # empty (checked): etcd 3.4 refuses an existing one
        os.rename(staging, data_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    os.chmod(data_dir, 0o700)
    duration = time.monotonic() - started
    return {
        **result,
        "changed": True,
        "duration": round(duration, 3),
        "msg": f"restored {path} (revision {report['revision']}, {report['total_keys']} keys) into {data_dir} "
        f"as member {member['name']} in {duration:.1f}s",
    }
