"""The sha256 trailer check, snapshot names, retention and kubeadm backup pruning, on synthetic files."""

from __future__ import annotations

import datetime
import hashlib
import os

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import snapshot_file as files

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 25, 16, 0, 0, tzinfo=UTC)


def snapshot_bytes(size=3 * 4096 + 512 * 3):
    body = os.urandom(size)
    return body + hashlib.sha256(body).digest()


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.db"
    path.write_bytes(snapshot_bytes())
    return path


def test_good_file_gives_whole_file_sha256(good):
    data = good.read_bytes()
    assert files.file_digests(str(good)) == (hashlib.sha256(data).hexdigest(), len(data))


def test_multi_chunk_file(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 1000)
    path = tmp_path / "s.db"
    path.write_bytes(snapshot_bytes(512 * 40))
    assert files.file_digests(str(path))[0] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d[:-100], "no sha256 trailer"),
        (lambda d: bytes(512) + d[512:], "does not match its trailer"),
        (lambda d: d[:-1] + bytes([d[-1] ^ 0x01]), "does not match its trailer"),
        (lambda d: b"", "is empty"),
        (lambda d: d[:-32], "no sha256 trailer"),
    ],
    ids=["truncated", "first-512-zeroed", "trailer-byte-flipped", "empty", "db-copy"],
)
def test_damaged_files_are_refused(good, damage, message):
    good.write_bytes(damage(good.read_bytes()))
    with pytest.raises(InvalidInput, match=message) as caught:
        files.file_digests(str(good))
    assert str(good) in caught.value.message and "\n" not in caught.value.message


def test_db_copy_accepted_with_skip_hash_check(good):
    body = good.read_bytes()[:-32]
    good.write_bytes(body)
    assert files.file_digests(str(good), skip_hash_check=True) == (hashlib.sha256(body).hexdigest(), len(body))


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInput, match=r"cannot read snapshot .*/nope\.db: No such file"):
        files.file_digests(str(tmp_path / "nope.db"))


@pytest.mark.parametrize(("value", "seconds"), [("3600", 3600), ("90m", 5400), ("12h", 43200), ("7d", 604800)])
def test_parse_age(value, seconds):
    assert files.parse_age(value) == seconds


def test_parse_age_rejects_garbage():
    assert files.parse_age(None) is None
    with pytest.raises(InvalidInput, match="max_age '7 days'"):
        files.parse_age("7 days")


def test_snapshot_name_is_utc_and_unique():
    assert files.snapshot_name(NOW, []) == "etcd-snapshot-20261125T160000Z.db"
    taken = ["etcd-snapshot-20261125T160000Z.db", "etcd-snapshot-20261125T160000Z-1.db"]
    assert files.snapshot_name(NOW, taken) == "etcd-snapshot-20261125T160000Z-2.db"


def make_dir(tmp_path, hours_ago):
    for hours in hours_ago:
        name = files.snapshot_name(NOW - datetime.timedelta(hours=hours), [])
        (tmp_path / name).write_bytes(b"x")
    # foreign files are never ours to count or delete
    for foreign in ("etcd-snapshot-latest.db", "backup.db", "etcd-snapshot-20261125T160000Z.db.sha256"):
        (tmp_path / foreign).write_bytes(b"x")
    return files.list_snapshots(str(tmp_path))


def test_list_snapshots_only_ours_oldest_first(tmp_path):
    snapshots = make_dir(tmp_path, [1, 30, 5])
    assert [os.path.basename(s.path) for s in snapshots] == [
        "etcd-snapshot-20261124T100000Z.db",
        "etcd-snapshot-20261125T110000Z.db",
        "etcd-snapshot-20261125T150000Z.db",
    ]


def test_keep_n(tmp_path):
    snapshots = make_dir(tmp_path, [1, 2, 3, 4])
    doomed = files.plan_retention(snapshots, 2, None, NOW)
    assert doomed == [snapshots[0].path, snapshots[1].path]


def test_max_age_never_removes_newest_nor_protected(tmp_path):
    snapshots = make_dir(tmp_path, [48, 72, 96])
    assert files.plan_retention(snapshots, None, 3600, NOW) == [snapshots[0].path, snapshots[1].path]
    assert files.plan_retention(snapshots, 1, 3600, NOW, protect=snapshots[0].path) == [snapshots[1].path]


def test_keep_none_and_no_age_removes_nothing(tmp_path):
    assert files.plan_retention(make_dir(tmp_path, [1, 2]), None, None, NOW) == []
    assert files.plan_retention([], 1, 1, NOW) == []


def test_remove_takes_the_sidecar(tmp_path):
    snapshot = tmp_path / "etcd-snapshot-20261125T160000Z.db"
    snapshot.write_bytes(b"x")
    files.write_private(files.sidecar(str(snapshot)), "abc  etcd-snapshot-20261125T160000Z.db\n")
    assert oct(os.stat(files.sidecar(str(snapshot))).st_mode & 0o777) == "0o600"
    assert files.remove([str(snapshot)]) == [str(snapshot), files.sidecar(str(snapshot))]
    assert list(tmp_path.iterdir()) == []


def test_kubeadm_backups_keep_newest_of_each_kind(tmp_path):
    for kind in ("etcd", "manifests"):
        for day in (1, 2, 3):
            (tmp_path / f"kubeadm-backup-{kind}-2026-11-0{day}-10-00-00").mkdir()
    (tmp_path / "kubeadm-backup-etcd-notatime").mkdir()
    (tmp_path / "kubeadm-upgraded-manifests123").mkdir()
    doomed = files.plan_kubeadm_backups(str(tmp_path), 1)
    assert [os.path.basename(p) for p in doomed] == [
        "kubeadm-backup-etcd-2026-11-01-10-00-00",
        "kubeadm-backup-etcd-2026-11-02-10-00-00",
        "kubeadm-backup-manifests-2026-11-01-10-00-00",
        "kubeadm-backup-manifests-2026-11-02-10-00-00",
    ]
    files.remove(doomed)
    assert len(list(tmp_path.iterdir())) == 4
    assert files.plan_kubeadm_backups(str(tmp_path / "absent"), 1) == []


@pytest.mark.parametrize("sizes", [[1, 31, 32, 33, 1000], [5000], [10, 10, 10, 10, 4970]])
def test_trailer_digest_any_chunking(sizes):
    data = snapshot_bytes(512 * 9)
    digest, offset = files.TrailerDigest(), 0
    for size in [*sizes, len(data)]:
        digest.update(memoryview(data)[offset : offset + size])
        offset = min(len(data), offset + size)
    assert digest.result("x") == (hashlib.sha256(data).hexdigest(), len(data))


def test_follower_hashes_a_file_while_it_is_written_then_renamed(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "CHUNK", 700)
    data = snapshot_bytes(512 * 30)
    target = tmp_path / "s.db"
    follower = files.Follower([f"{target}.part", str(target)])
    follower.start()
    with open(f"{target}.part", "wb") as handle:
        for start in range(0, len(data), 1000):
            handle.write(data[start : start + 1000])
            handle.flush()
    os.rename(f"{target}.part", target)
    follower.done.set()
    follower.join(10)
    assert follower.followed and follower.digest.result(str(target)) == (hashlib.sha256(data).hexdigest(), len(data))


def test_follower_without_a_file(tmp_path):
    follower = files.Follower([str(tmp_path / "never")])
    follower.start()
    follower.done.set()
    follower.join(10)
    assert not follower.followed and follower.error is None
