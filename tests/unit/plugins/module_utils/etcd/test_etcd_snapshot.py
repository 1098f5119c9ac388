"""etcd_snapshot / etcd_restore logic with a fake etcdctl (a shell script): TLS defaults, check mode, retention."""

from __future__ import annotations

import datetime
import hashlib
import os

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError, InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import restore
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import snapshot as snap

FAKE_ETCDCTL = """#!/bin/sh
# answers like etcdctl 3.4.23; 'snapshot save' copies $FAKE_SOURCE
last=""; for a in "$@"; do last="$a"; done
case "$*" in
  version) echo "etcdctl version: 3.4.23"; echo "API version: 3.4";;
  *"endpoint status"*) [ -n "$FAKE_DOWN" ] && { echo "Error: context deadline exceeded" >&2; exit 1; }; echo ok;;
  *"snapshot save"*) cp "$FAKE_SOURCE" "$last";;
  *"snapshot status"*) echo '{"hash":7,"revision":42,"totalKey":9,"totalSize":4096}';;
  *) echo "Error: unexpected $*" >&2; exit 1;;
esac
"""
NOW = datetime.datetime(2026, 11, 25, 16, 0, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    tool = tmp_path / "bin" / "etcdctl"
    tool.parent.mkdir()
    tool.write_text(FAKE_ETCDCTL)
    tool.chmod(0o755)
    body = os.urandom(4096 * 2 + 512)
    source = tmp_path / "source.db"
    source.write_bytes(body + hashlib.sha256(body).digest())
    monkeypatch.setenv("FAKE_SOURCE", str(source))
    return {"tool": str(tool), "source": source}


def params(tmp_path, fake, **extra):
    return {
        "state": "present",
        "endpoints": ["http://127.0.0.1:2379"],
        "backup_dir": str(tmp_path / "backups"),
        "keep": 2,
        "kubeadm_backups_dir": str(tmp_path / "kubeadm-tmp"),
        "etcdctl": fake["tool"],
        "timeout": 30,
        **extra,
    }


def test_take_verifies_renames_and_sets_modes(tmp_path, fake):
    result = snap.run(params(tmp_path, fake))
    assert result["path"].startswith(str(tmp_path / "backups" / "etcd-snapshot-"))
    assert result["sha256"] == hashlib.sha256(fake["source"].read_bytes()).hexdigest()
    assert (result["revision"], result["total_keys"], result["changed"]) == (42, 9, True)
    assert oct(os.stat(result["path"]).st_mode & 0o777) == "0o600"
    assert oct(os.stat(tmp_path / "backups").st_mode & 0o777) == "0o700"
    with open(result["path"] + ".sha256") as handle:
        sidecar = handle.read()
    assert sidecar == f"{result['sha256']}  {os.path.basename(result['path'])}\n"
    assert sorted(os.listdir(tmp_path / "backups")) == sorted(
        [os.path.basename(result["path"]), os.path.basename(result["path"]) + ".sha256"]
    )


def test_check_mode_predicts_the_real_run(tmp_path, fake):
    backups = tmp_path / "backups"
    backups.mkdir()
    for hour in (10, 11, 12):
        (backups / f"etcd-snapshot-20261125T{hour}0000Z.db").write_bytes(b"x")
    predicted = snap.take(params(tmp_path, fake), check_mode=True, now=NOW)
    assert predicted["path"] == str(backups / "etcd-snapshot-20261125T160000Z.db")
    assert predicted["removed"] == [str(backups / f"etcd-snapshot-20261125T{h}0000Z.db") for h in (10, 11)]
    assert "would take a snapshot into" in predicted["msg"]
    assert len(os.listdir(backups)) == 3
    real = snap.take(params(tmp_path, fake), now=NOW)
    assert real["path"] == predicted["path"]
    assert [p for p in real["removed"] if p.endswith(".db")] == predicted["removed"]
    assert sorted(os.listdir(backups)) == [
        "etcd-snapshot-20261125T120000Z.db",
        "etcd-snapshot-20261125T160000Z.db",
        "etcd-snapshot-20261125T160000Z.db.sha256",
    ]
    assert predicted["diff"]["after"]["snapshots"] == [
        "etcd-snapshot-20261125T120000Z.db",
        os.path.basename(real["path"]),
    ]


def test_corrupt_save_leaves_nothing(tmp_path, fake):
    data = bytearray(fake["source"].read_bytes())
    data[-1] ^= 0xFF
    fake["source"].write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="does not match its trailer"):
        snap.run(params(tmp_path, fake))
    assert not (tmp_path / "backups").exists()  # not even the directory the failed run made


def test_unreachable_endpoint_is_one_line_and_leaves_nothing(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("FAKE_DOWN", "1")
    with pytest.raises(ApiError) as caught:
        snap.run(params(tmp_path, fake, endpoints=["http://127.0.0.1:2379", "http://127.0.0.1:2380"]))
    assert caught.value.message == (
        "etcd endpoint http://127.0.0.1:2379 unreachable: no answer within 5s; "
        "etcd endpoint http://127.0.0.1:2380 unreachable: no answer within 5s"
    )
    assert not (tmp_path / "backups").exists()


def test_kubeadm_backups_are_pruned(tmp_path, fake):
    kubeadm = tmp_path / "kubeadm-tmp"
    for day in (1, 2, 3):
        (kubeadm / f"kubeadm-backup-etcd-2026-11-0{day}-10-00-00").mkdir(parents=True)
    result = snap.run(params(tmp_path, fake, kubeadm_backups_keep=1))
    assert len([p for p in result["removed"] if "kubeadm-backup" in p]) == 2
    assert os.listdir(kubeadm) == ["kubeadm-backup-etcd-2026-11-03-10-00-00"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"cacert": "/nonexistent/ca.crt"}, "cacert file /nonexistent/ca.crt does not exist"),
        ({"cert": "/x.crt"}, "cert and key go together"),
        ({"keep": 0}, "keep 0 is below 1"),
        ({"endpoints": ["127.0.0.1:2379"]}, "endpoint '127.0.0.1:2379' is not an http"),
        ({"backup_dir": "relative"}, "backup_dir relative is not an absolute path"),
        ({"max_age": "soon"}, "max_age 'soon'"),
        ({"skip_hash_check": True}, "skip_hash_check is only for state=verified"),
        ({"state": "verified"}, "path is required"),
        ({"state": "verified", "path": "/nonexistent.db"}, "snapshot /nonexistent.db does not exist"),
        ({"state": "verified", "path": "/tmp"}, "snapshot /tmp is a directory, not a snapshot file"),
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
        ({"timeout": 99999999999}, "timeout 99999999999 is too long: at most 604800 seconds"),
        ({"keep": 10**12}, "keep must be between 1 and 100000 snapshots, got 1000000000000"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path, fake, extra, message):
    with pytest.raises(InvalidInput, match=message):
        snap.run(params(tmp_path, fake, **extra))
    assert not (tmp_path / "backups").exists()


def test_a_backup_dir_that_cannot_be_made_is_refused_before_anything(tmp_path, fake, monkeypatch):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(InvalidInput) as below_a_file:
        snap.run(params(tmp_path, fake, backup_dir=str(tmp_path / "a-file" / "backups")))
    assert below_a_file.value.message == f"backup_dir {tmp_path}/a-file/backups is below {tmp_path}/a-file, a file"
    # Root may write anywhere but on a read-only file system: os.access answers for both.
    monkeypatch.setattr(os, "access", lambda path, mode: str(path) != str(tmp_path))
    with pytest.raises(InvalidInput) as read_only:
        snap.run(params(tmp_path, fake, backup_dir=str(tmp_path / "new" / "backups")))
    assert read_only.value.message == f"backup_dir {tmp_path}/new/backups cannot be created: {tmp_path} is not writable"
    assert "new" not in os.listdir(tmp_path)


def test_restore_data_dir_below_a_file_is_refused(tmp_path, fake):
    (tmp_path / "a-file").write_text("")
    args = {"path": str(fake["source"]), "data_dir": str(tmp_path / "a-file" / "data"), "etcdctl": fake["tool"]}
    with pytest.raises(InvalidInput) as refused:
        restore.restore({**args, "timeout": 30})
    assert refused.value.message == f"data_dir {tmp_path}/a-file/data is below {tmp_path}/a-file, a file"


def test_tls_defaults_to_kubeadm_files_for_https_only(tmp_path):
    pki = tmp_path / "pki"
    pki.mkdir()
    for name in ("ca.crt", "server.crt", "server.key"):
        (pki / name).write_text("x")
    assert snap.tls_options(["http://127.0.0.1:2379"], None, None, None, str(pki)) == {
        "cacert": None,
        "cert": None,
        "key": None,
    }
    https = snap.tls_options(["https://127.0.0.1:2379"], None, None, None, str(pki))
    assert https == {"cacert": str(pki / "ca.crt"), "cert": str(pki / "server.crt"), "key": str(pki / "server.key")}
    for name in ("healthcheck-client.crt", "healthcheck-client.key"):
        (pki / name).write_text("x")
    https = snap.tls_options(["https://127.0.0.1:2379"], None, None, None, str(pki))
    assert https["cert"] == str(pki / "healthcheck-client.crt")


def test_verified_state(tmp_path, fake):
    result = snap.run(params(tmp_path, fake, state="verified", path=str(fake["source"])))
    assert (result["changed"], result["revision"], result["size"]) == (False, 42, fake["source"].stat().st_size)


def member(**extra):
    return {"name": "cp-1", "initial_advertise_peer_urls": ["https://10.0.0.1:2380"], **extra}


def test_member_flags_defaults_and_checks():
    assert restore.member_flags(member())["initial_cluster"] == "cp-1=https://10.0.0.1:2380"
    assert restore.member_flags({})["initial_cluster"] == "default=http://localhost:2380"
    with pytest.raises(InvalidInput, match="has no member named 'cp-1'"):
        restore.member_flags(member(initial_cluster="cp-2=https://10.0.0.2:2380"))
    with pytest.raises(InvalidInput, match="are not those of 'cp-1'"):
        restore.member_flags(member(initial_cluster="cp-1=https://10.0.0.9:2380"))
    with pytest.raises(InvalidInput, match="not a list of name=peer-url"):
        restore.member_flags(member(initial_cluster="cp-1"))


def test_restore_refuses_non_empty_data_dir_before_anything(tmp_path, fake):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "member").mkdir()
    args = {"path": str(fake["source"]), "data_dir": str(data_dir), "etcdctl": fake["tool"], "timeout": 30}
    with pytest.raises(InvalidInput, match=f"data_dir {data_dir} is not empty"):
        restore.restore(args)
    with pytest.raises(InvalidInput, match="is not an absolute path"):
        restore.restore(dict(args, data_dir="rel"))


def test_restore_check_mode_verifies_only(tmp_path, fake):
    args = {"path": str(fake["source"]), "data_dir": str(tmp_path / "new"), "etcdctl": fake["tool"], "timeout": 30}
    result = restore.restore(dict(args, bump_revision=1000), check_mode=True)
    assert "would restore it into" in result["msg"]
    assert (result["revision"], result["revision_bump"], result["restored_revision"]) == (42, 0, 42)
    assert not (tmp_path / "new").exists()
    fake["source"].write_bytes(fake["source"].read_bytes()[:-1])
    with pytest.raises(InvalidInput, match="no sha256 trailer"):
        restore.restore(args, check_mode=True)
