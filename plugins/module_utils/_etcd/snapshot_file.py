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
import threading
import time
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


class TrailerDigest:
    """The sha256 of a snapshot fed in order, chunk by chunk, holding back the last 32 bytes (the trailer)."""

    def __init__(self) -> None:
        self.body = hashlib.sha256()
        self.tail = b""
        self.size = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self.size += len(chunk)
        if len(chunk) >= TRAILER:
            self.body.update(self.tail)
            self.body.update(chunk[:-TRAILER])
            self.tail = bytes(chunk[-TRAILER:])
        else:
            joined = self.tail + bytes(chunk)
            self.body.update(joined[:-TRAILER])
            self.tail = joined[-TRAILER:]

    def result(self, path: str) -> tuple[str, int]:
        """The sha256 of the whole file and its size, after checking the trailer; one clear error otherwise."""
        check_size(path, self.size)
        if self.body.digest() != self.tail:
            raise InvalidInput(
                f"snapshot {path} is corrupt: the sha256 of its content does not match its trailer "
                f"({self.body.hexdigest()[:16]}... != {self.tail.hex()[:16]}...)"
            )
        whole = self.body.copy()
        whole.update(self.tail)
        return whole.hexdigest(), self.size


def check_size(path: str, size: int) -> None:
    if size == 0:
        raise InvalidInput(f"snapshot {path} is empty")
    if size % 512 != TRAILER:
        raise InvalidInput(
            f"snapshot {path} has no sha256 trailer (size {size}, size % 512 = {size % 512}, expected 32): "
            "truncated, or a copied db file (then use skip_hash_check)"
        )


def _read_into(handle, digest, stop: Optional[threading.Event] = None, poll: float = 0.02) -> None:
    """Feed ``handle`` to ``digest`` until its end; with ``stop``, keep following it until ``stop`` is set."""
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while True:
        finished = stop is None or stop.is_set()  # read before the last read: nothing is written after it
        read = handle.readinto(view)
        if read:
            digest.update(view[:read])
        elif finished:
            return
        else:
            time.sleep(poll)


def file_digests(path: str, skip_hash_check: bool = False) -> tuple[str, int]:
    """The sha256 of the whole file and its size, after checking the trailer (unless ``skip_hash_check``)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, the size is needed first
    except OSError as exc:
        raise InvalidInput(f"cannot read snapshot {path}: {exc.strerror}") from exc
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if skip_hash_check:
            if size == 0:
                raise InvalidInput(f"snapshot {path} is empty")
            plain = hashlib.sha256()
            _read_into(handle, plain)
            return plain.hexdigest(), size
        check_size(path, size)  # fail fast, before reading
        digest = TrailerDigest()
        _read_into(handle, digest)
    return digest.result(path)


class Follower(threading.Thread):
    """Hashes a file while another process writes it, so the check costs no extra time after the save.

    etcdctl writes ``<target>.part`` and renames it to ``<target>`` when done; the open handle survives the
    rename. Set ``done`` once the writer has exited: the rest is read and the thread ends.
    """

    def __init__(self, candidates: list[str]) -> None:
        super().__init__(daemon=True)
        self.candidates = candidates
        self.digest = TrailerDigest()
        self.done = threading.Event()
        self.error: Optional[BaseException] = None
        self.followed = False

    def run(self) -> None:
        try:
            handle = None
            while handle is None:
                finished = self.done.is_set()
                for candidate in self.candidates:
                    try:
                        handle = open(candidate, "rb")  # noqa: SIM115 - closed by the with below
                        break
                    except FileNotFoundError:
                        continue
                if handle is None:
                    if finished:
                        return
                    time.sleep(0.02)
            with handle:
                _read_into(handle, self.digest, self.done)
            self.followed = True
        except BaseException as exc:  # reported by the caller, which falls back to reading the file
            self.error = exc


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
    doomed: set[str] = set()
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
    doomed: list[str] = []
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


def missing_directories(option: str, path: str) -> list[str]:
    """The directories that creating ``path`` would make, outermost first; InvalidInput naming the option when
    they cannot be made (an ancestor is a file, or not writable, or on a read-only file system)."""
    missing: list[str] = []
    current = os.path.abspath(path)
    while not os.path.lexists(current):
        missing.insert(0, current)
        current = os.path.dirname(current)
    if not os.path.isdir(current):
        what = "exists and is not a directory" if current == os.path.abspath(path) else f"is below {current}, a file"
        raise InvalidInput(f"{option} {path} {what}")
    if missing and not os.access(current, os.W_OK | os.X_OK):
        raise InvalidInput(f"{option} {path} cannot be created: {current} is not writable")
    return missing


def remove_empty(directories: list[str]) -> None:
    """Remove the directories a failed run created, innermost first, where they are still empty."""
    for directory in reversed(directories):
        with contextlib.suppress(OSError):
            os.rmdir(directory)


def would_remove(paths: Iterable[str]) -> list[str]:
    """What ``remove(paths)`` would delete now: each path, and its .sha256 when there is one."""
    return [entry for path in paths for entry in (path, sidecar(path)) if entry == path or os.path.exists(entry)]


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
