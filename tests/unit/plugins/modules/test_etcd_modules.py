"""etcd_snapshot and etcd_restore end to end through main(): argument spec, check mode, one failure line.

etcdctl is a shell script answering like etcd 3.4.23 (see test_etcd_snapshot.py).
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.modules import etcd_restore, etcd_snapshot
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.modules.module_args import patch_module_args

FAKE_ETCDCTL = """#!/bin/sh
last=""; for a in "$@"; do last="$a"; done
case "$*" in
  version) echo "etcdctl version: 3.4.23"; echo "API version: 3.4";;
  *"endpoint status"*) echo ok;;
  *"snapshot save"*) cp "$FAKE_SOURCE" "$last";;
  *"snapshot status"*) echo '{"hash":7,"revision":42,"totalKey":9,"totalSize":4096}';;
  *"snapshot restore"*) for a in "$@"; do case "$a" in --data-dir=*) mkdir -p "${a#--data-dir=}/member";; esac; done;;
  *) echo "Error: unexpected $*" >&2; exit 1;;
esac
"""


@pytest.fixture
def fake(tmp_path, monkeypatch):
    tool = tmp_path / "etcdctl"
    tool.write_text(FAKE_ETCDCTL)
    tool.chmod(0o755)
    body = os.urandom(4096 + 512)
    source = tmp_path / "source.db"
    source.write_bytes(body + hashlib.sha256(body).digest())
    monkeypatch.setenv("FAKE_SOURCE", str(source))
    return {"etcdctl": str(tool), "source": str(source)}


def run(capsys, module, args, check=False):
    with patch_module_args({**args, "_ansible_check_mode": check}), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def test_snapshot_check_mode_then_real(capsys, fake, tmp_path):
    args = {"endpoints": ["http://127.0.0.1:2379"], "backup_dir": str(tmp_path / "b"), "etcdctl": fake["etcdctl"]}
    predicted = run(capsys, etcd_snapshot, args, check=True)
    assert predicted["changed"] and predicted["msg"].startswith("would take a snapshot into")
    assert not (tmp_path / "b").exists()
    taken = run(capsys, etcd_snapshot, args)
    assert taken["changed"] and taken["revision"] == 42 and os.path.isfile(taken["path"])
    assert taken["path"].startswith(os.path.dirname(predicted["path"]))
    verified = run(capsys, etcd_snapshot, {"state": "verified", "path": taken["path"], "etcdctl": fake["etcdctl"]})
    assert (verified["changed"], verified["sha256"]) == (False, taken["sha256"])


def test_snapshot_verified_needs_path(capsys):
    result = run(capsys, etcd_snapshot, {"state": "verified"})
    assert result["failed"] and "path" in result["msg"]


def test_restore_check_real_and_refusal(capsys, fake, tmp_path):
    args = {"path": fake["source"], "data_dir": str(tmp_path / "data"), "name": "cp-1", "etcdctl": fake["etcdctl"]}
    args["initial_advertise_peer_urls"] = ["https://10.0.0.1:2380"]
    checked = run(capsys, etcd_restore, args, check=True)
    assert checked["changed"] and "would restore" in checked["msg"] and not (tmp_path / "data").exists()
    done = run(capsys, etcd_restore, args)
    assert done["changed"] and (tmp_path / "data" / "member").is_dir()
    assert done["initial_cluster"] == "cp-1=https://10.0.0.1:2380"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging dir left
    again = run(capsys, etcd_restore, args)
    assert not again.get("failed") and again["changed"] is False and "already restored from" in again["msg"]
    predicted_again = run(capsys, etcd_restore, args, check=True)
    assert predicted_again["changed"] is False
    other_member = run(capsys, etcd_restore, {**args, "name": "cp-2"})
    assert (
        other_member["failed"]
        and "holds a restore of another snapshot or with other member flags" in (other_member["msg"])
    )
