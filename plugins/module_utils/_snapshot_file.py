# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot files: the sha256 trailer check, names, retention, and pruning of kubeadm's backup directories.

``etcdctl snapshot save`` appends the sha256 of the bbolt file to it (so size % 512 == 32); nothing in
``snapshot status`` checks it, so it is checked here, in one streaming pass that also gives the sha256 of
the whole file.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput

TRAILER = 32
CHUNK = 4 * 1024 * 1024
PREFIX = "etcd-snapshot-"
SNAPSHOT_RE = re.compile(r"^etcd-snapshot-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")
KUBEADM_BACKUP_RE = re.compile(r"^kubeadm-backup-([a-z]+)-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})$")
STAMP = "%Y%m%dT%H%M%SZ"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def file_digests(path: str, skip_hash_check: bool = False) -> tuple[str, int]:
    """The sha256 of the whole file and its size, after checking the trailer (unless ``skip_hash_check``).

    One read of the file: the body goes through a sha256 whose copy, fed the trailer, is the whole-file hash.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, the size is needed first
    except OSError as exc:
        raise InvalidInput(f"cannot read snapshot {path}: {exc.strerror}") from exc
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise InvalidInput(f"snapshot {path} is empty")
        if not skip_hash_check and size % 512 != TRAILER:
            raise InvalidInput(
                f"snapshot {path} has no sha256 trailer (size {size}, size % 512 = {size % 512}, expected 32): "
                "truncated, or a copied db file (then use skip_hash_check)"
            )
        body_size = size if skip_hash_check else size - TRAILER
        digest = hashlib.sha256()
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        remaining = body_size
        while remaining:
            read = handle.readinto(view[: min(CHUNK, remaining)])
            if not read:
                raise InvalidInput(f"snapshot {path} shrank while being read")
            digest.update(view[:read])
            remaining -= read
        if skip_hash_check:
            return digest.hexdigest(), size
        trailer = handle.read(TRAILER)
    whole = digest.copy()
    whole.update(trailer)
    if digest.digest() != trailer:
        raise InvalidInput(
            f"snapshot {path} is corrupt: the sha256 of its content does not match its trailer "
            f"({digest.hexdigest()[:16]}... != {trailer.hex()[:16]}...)"
        )
    return whole.hexdigest(), size


def parse_age(value: Optional[str]) -> Optional[int]:
    """``max_age`` (``3600``, ``90m``, ``12h``, ``7d``, ``2w``) in seconds."""
    if value is None or str(value).strip() == "":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", str(value))
    if not match:
        raise InvalidInput(f"max_age {value!r} is not a duration like 3600, 90m, 12h, 7d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


@dataclass(frozen=True, order=True)
class Snapshot:
    """A file of ours in the backup dir; ordered oldest first by the time in its name."""

    taken: datetime.datetime
    sequence: int
    path: str


def snapshot_name(now: datetime.datetime, existing: Iterable[str]) -> str:
    """``etcd-snapshot-20261125T160138Z.db``, with ``-N`` when that second is already taken."""
    base = f"{PREFIX}{now.strftime(STAMP)}"
    taken = set(existing)
    name, sequence = f"{base}.db", 0
    while name in taken or f".{name}.part" in taken:
        sequence += 1
        name = f"{base}-{sequence}.db"
    return name


def list_snapshots(directory: str) -> list[Snapshot]:
    """Our snapshots in ``directory`` (only names matching our own pattern), oldest first."""
    found = []
    for entry in os.scandir(directory):
        match = SNAPSHOT_RE.match(entry.name)
        if match and entry.is_file(follow_symlinks=False):
            taken = datetime.datetime.strptime(match.group(1), STAMP).replace(tzinfo=datetime.timezone.utc)
            found.append(Snapshot(taken, int(match.group(2) or 0), entry.path))
    return sorted(found)


def plan_retention(
    snapshots: list[Snapshot],
    keep: Optional[int],
    max_age: Optional[int],
    now: datetime.datetime,
    protect: Optional[str] = None,
) -> list[str]:
    """The snapshots to delete: beyond the ``keep`` newest, or older than ``max_age`` seconds.

    Never the newest one nor ``protect`` (the one just taken).
    """
    if not snapshots:
        return []
    newest_first = sorted(snapshots, reverse=True)
    safe = {newest_first[0].path, protect}
    doomed = set()
    if keep is not None:
        doomed.update(s.path for s in newest_first[keep:])
    if max_age is not None:
        doomed.update(s.path for s in newest_first if (now - s.taken).total_seconds() > max_age)
    return [s.path for s in snapshots if s.path in doomed and s.path not in safe]


def plan_kubeadm_backups(directory: str, keep: int) -> list[str]:
    """kubeadm's ``kubeadm-backup-<kind>-<time>`` directories beyond the ``keep`` newest of each kind."""
    if not os.path.isdir(directory):
        return []
    kinds: dict[str, list[tuple[str, str]]] = {}
    for entry in os.scandir(directory):
        match = KUBEADM_BACKUP_RE.match(entry.name)
        if match and entry.is_dir(follow_symlinks=False):
            kinds.setdefault(match.group(1), []).append((match.group(2), entry.path))
    doomed = []
    for entries in kinds.values():
        doomed.extend(path for _stamp, path in sorted(entries, reverse=True)[keep:])
    return sorted(doomed)


def sidecar(path: str) -> str:
    """The ``.sha256`` file beside a snapshot (``sha256sum -c`` format)."""
    return path + ".sha256"


def write_private(path: str, content: str) -> None:
    """Write a small file 0600 under a temporary name, then rename it into place."""
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.rename(temporary, path)
    except BaseException:
        _unlink(temporary)
        raise


def remove(paths: Iterable[str]) -> list[str]:
    """Delete snapshots (with their .sha256) and backup directories; the paths deleted."""
    removed = []
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            _unlink(path)
        removed.append(path)
        if os.path.exists(sidecar(path)):
            _unlink(sidecar(path))
            removed.append(sidecar(path))
    return removed


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
