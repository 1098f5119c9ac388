"""etcd_snapshot and etcd_restore on real etcd (Debian's 3.4): round trips, corrupt files, retention, errors."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from ansible_run import check_real_check, comparable, run_module
from etcdlab import ETCDCTL

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ClusterOpsError
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import restore, snapshot


def snapshot_args(cluster, backup_dir, **extra):
    return {"endpoints": cluster.endpoints, "backup_dir": str(backup_dir), "timeout": 120, **cluster.tls(), **extra}


def restore_all(cluster, snapshot, runner):
    """Wipe every member and restore ``snapshot`` into its data dir with its member flags; restart."""
    cluster.wipe()
    results = []
    for member in cluster.members:
        args = {
            "path": snapshot,
            "data_dir": str(member.data_dir),
            "name": member.name,
            "initial_cluster": cluster.initial_cluster,
            "initial_cluster_token": cluster.token,
            "initial_advertise_peer_urls": [member.peer_url],
        }
        results.append(runner(args))
    cluster.start()
    return results


def test_one_member_round_trip_through_module_utils(etcd1, items, tmp_path):
    taken = snapshot.run(snapshot_args(etcd1, tmp_path / "b", keep=3))
    assert taken["total_keys"] >= len(items) and taken["size"] % 512 == 32
    etcd1.put_many({"/registry/test/after-snapshot": "gone-after-restore"})
    results = restore_all(etcd1, taken["path"], lambda a: restore.restore(dict(a, timeout=120)))
    assert results[0]["revision"] == taken["revision"] and results[0]["changed"]
    assert oct(os.stat(etcd1.members[0].data_dir).st_mode & 0o777) == "0o700"
    assert etcd1.get_prefix("/registry/test/") == items


def test_three_members_round_trip_through_ansible(etcd3, items, tmp_path):
    args = snapshot_args(etcd3, tmp_path / "b", keep=2)
    predicted = run_module("etcd_snapshot", args, check=True, diff=True)
    assert predicted["changed"] and "would take a snapshot into" in predicted["msg"], predicted
    assert not (tmp_path / "b").exists()
    taken = run_module("etcd_snapshot", args)
    assert not taken.get("failed"), taken
    assert taken["path"].startswith(str(tmp_path / "b" / "etcd-snapshot-")) and taken["endpoint"] == etcd3.endpoints[0]
    verified = run_module("etcd_snapshot", {"state": "verified", "path": taken["path"]})
    assert (verified["changed"], verified["sha256"], verified["revision"]) == (
        False,
        taken["sha256"],
        taken["revision"],
    )

    def through_ansible(restore_args):
        if restore_args["name"] != "m1":  # the other members straight through module_utils, to keep the suite fast
            return restore.restore(dict(restore_args, timeout=120))
        checked = run_module("etcd_restore", restore_args, check=True)
        assert checked["changed"] and "would restore" in checked["msg"], checked
        assert not os.path.exists(restore_args["data_dir"])
        done = run_module("etcd_restore", restore_args)
        assert not done.get("failed"), done
        again = run_module("etcd_restore", restore_args)
        assert again["changed"] is False and "already restored from" in again["msg"], again
        return done

    results = restore_all(etcd3, taken["path"], through_ansible)
    assert [r["name"] for r in results] == ["m1", "m2", "m3"]
    assert len({r["sha256"] for r in results}) == 1
    assert all(r["revision_bump"] == 0 and r["etcd_version"] == "3.4.23" for r in results)  # etcd 3.4: no bump
    for member in etcd3.members:  # every member answers with every key and value
        assert etcd3.get_prefix_from(member, "/registry/test/") == items


@pytest.fixture(scope="module")
def good_snapshot(etcd1, tmp_path_factory):
    return snapshot.run(snapshot_args(etcd1, tmp_path_factory.mktemp("good")))["path"]


def damaged(good, tmp_path, how):
    with open(good, "rb") as handle:
        data = handle.read()
    damage = {
        "truncated": lambda d: d[: len(d) // 2],
        "first-512-zeroed": lambda d: bytes(512) + d[512:],
        "trailer-byte-flipped": lambda d: d[:-5] + bytes([d[-5] ^ 0x40]) + d[-4:],
        "empty": lambda d: b"",
    }[how]
    path = tmp_path / f"{how}.db"
    path.write_bytes(damage(data))
    return str(path)


@pytest.mark.parametrize("how", ["truncated", "first-512-zeroed", "trailer-byte-flipped", "empty"])
def test_verify_and_restore_reject_bad_files(good_snapshot, tmp_path, how):
    bad = damaged(good_snapshot, tmp_path, how)
    with pytest.raises(ClusterOpsError) as verify_error:
        snapshot.run({"state": "verified", "path": bad, "timeout": 60})
    with pytest.raises(ClusterOpsError) as restore_error:
        restore.restore({"path": bad, "data_dir": str(tmp_path / "data"), "timeout": 60})
    for error in (verify_error, restore_error):
        assert bad in error.value.message and "\n" not in error.value.message
    assert not (tmp_path / "data").exists()
    assert [p.name for p in tmp_path.iterdir()] == [f"{how}.db"]


def test_etcdctl_status_alone_misses_what_the_sha256_catches(good_snapshot, tmp_path):
    """Why the trailer is checked in Python: etcd 3.4's status accepts these two files."""
    for how in ("first-512-zeroed", "trailer-byte-flipped"):
        bad = damaged(good_snapshot, tmp_path, how)
        proc = subprocess.run(
            [ETCDCTL, "snapshot", "status", bad],
            env=dict(os.environ, ETCDCTL_API="3"),
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 0, how
        with pytest.raises(ClusterOpsError, match="does not match its trailer"):
            snapshot.run({"state": "verified", "path": bad, "timeout": 60})


def test_db_copy_only_with_skip_hash_check(etcd1, items, tmp_path):
    etcd1.stop()
    db = tmp_path / "db"
    shutil.copy(etcd1.members[0].data_dir / "member" / "snap" / "db", db)
    etcd1.start()
    with pytest.raises(ClusterOpsError, match=r"no sha256 trailer .* use skip_hash_check"):
        snapshot.run({"state": "verified", "path": str(db), "timeout": 60})
    with pytest.raises(ClusterOpsError, match="no sha256 trailer"):
        restore.restore({"path": str(db), "data_dir": str(tmp_path / "refused"), "timeout": 60})
    verified = run_module("etcd_snapshot", {"state": "verified", "path": str(db), "skip_hash_check": True})
    assert not verified.get("failed") and verified["total_keys"] >= len(items), verified
    results = restore_all(etcd1, str(db), lambda a: restore.restore(dict(a, skip_hash_check=True, timeout=60)))
    assert results[0]["changed"]
    assert etcd1.get_prefix("/registry/test/") == items


def test_retention_keeps_exactly_n_and_modes(etcd1, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o755)
    foreign = backups / "etcd-snapshot-manual.db"
    foreign.write_bytes(b"not ours")
    paths = [snapshot.run(snapshot_args(etcd1, backups, keep=3))["path"] for _ in range(5)]
    ours = sorted(p.name for p in backups.glob("etcd-snapshot-*Z*.db"))
    assert ours == sorted(os.path.basename(p) for p in paths[-3:])
    assert foreign.exists()
    assert oct(backups.stat().st_mode & 0o777) == "0o700"
    assert {oct(p.stat().st_mode & 0o777) for p in backups.glob("etcd-snapshot-2*")} == {"0o600"}
    assert not list(backups.glob(".*"))  # no temporary file left


def test_unreachable_endpoint_is_one_clear_line(etcd1, tmp_path):
    dead = "https://127.0.0.1:9"
    result = run_module("etcd_snapshot", snapshot_args(etcd1, tmp_path / "b", endpoints=[dead]))
    expected = f"etcd endpoint {dead} unreachable: connection refused (is etcd listening there?)"
    assert result["failed"] and result["msg"] == expected, result
    assert not (tmp_path / "b").exists()  # the failed run leaves not even the directory it made


def test_what_etcdctl_saw_is_reported_not_a_timeout(etcd1, tmp_path_factory, tmp_path):
    """An unknown CA and plain http to a TLS member: etcdctl only says "context deadline exceeded"."""
    from etcdlab import make_pki

    other_ca = make_pki(tmp_path_factory.mktemp("other-pki")) / "ca.crt"
    unknown_ca = run_module("etcd_snapshot", snapshot_args(etcd1, tmp_path / "b", cacert=str(other_ca)))
    assert unknown_ca["failed"], unknown_ca
    assert unknown_ca["msg"] == (
        f"etcd endpoint {etcd1.endpoints[0]} refused its TLS certificate: "
        "x509: certificate signed by unknown authority (check cacert)"
    )
    plain = etcd1.endpoints[0].replace("https://", "http://")
    over_http = run_module("etcd_snapshot", {**snapshot_args(etcd1, tmp_path / "b"), "endpoints": [plain]})
    expected = f"etcd endpoint {plain} closed the connection: it probably speaks TLS (use https://)"
    assert over_http["failed"] and over_http["msg"] == expected, over_http


def test_missing_certificate_is_one_clear_line(etcd1, tmp_path):
    missing = str(tmp_path / "nope" / "healthcheck-client.crt")
    result = run_module("etcd_snapshot", snapshot_args(etcd1, tmp_path / "b", cert=missing))
    assert result["failed"] and result["msg"] == f"cert file {missing} does not exist", result
    assert not (tmp_path / "b").exists()


def test_snapshot_check_predicts_the_real_run_and_retention(etcd1, tmp_path):
    backups = tmp_path / "b"
    older = [snapshot.run(snapshot_args(etcd1, backups, keep=5))["path"] for _ in range(3)]
    args = snapshot_args(etcd1, backups, keep=2)
    # What only the real run knows: the file's own name (a UTC second later), what it measured in it, and the
    # file's attributes Ansible adds to a result with an existing ``path``.
    measured = {"path", "diff", "msg", "duration", "save_duration", "endpoint"}
    measured |= {"sha256", "size", "total_size", "revision", "total_keys", "hash"}
    measured |= {"uid", "gid", "owner", "group", "mode", "state"}
    predicted, real, again = check_real_check("etcd_snapshot", args, measured)
    assert real["removed"] == predicted["removed"]
    assert sorted(real["removed"]) == sorted([*older[:2], *(f"{path}.sha256" for path in older[:2])])
    assert predicted["path"].startswith(str(backups / "etcd-snapshot-")) and os.path.isfile(real["path"])
    # A snapshot is taken at every run by design: check mode after the real run predicts another one,
    # and retention would now remove the last of the older ones.
    assert again["changed"] is True and again["removed"] == [older[2], f"{older[2]}.sha256"]


def test_restore_check_predicts_the_real_run_and_a_rerun_changes_nothing(good_snapshot, tmp_path):
    args = {"path": good_snapshot, "data_dir": str(tmp_path / "member-data"), "name": "m1", "timeout": 120}
    args["initial_advertise_peer_urls"] = ["https://127.0.0.1:2380"]
    predicted, real, again = check_real_check("etcd_restore", args, {"duration", "msg"}, diff=False)
    assert real["changed"] is True and predicted["restored_revision"] == real["restored_revision"]
    repeated = run_module("etcd_restore", args)
    assert again["changed"] is False and repeated["changed"] is False
    assert comparable(again, {"duration"}) == comparable(repeated, {"duration"})
