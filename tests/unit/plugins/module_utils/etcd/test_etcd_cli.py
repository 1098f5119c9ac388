"""Tool detection and command selection for etcd 3.4, 3.5 and 3.6, from recorded ``version`` outputs."""

from __future__ import annotations

import stat

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import cli

# Recorded `version` outputs of the released binaries.
RECORDED = {
    ("etcdctl", "3.4.23"): "etcdctl version: 3.4.23\nAPI version: 3.4\n",
    ("etcdctl", "3.5.9"): "etcdctl version: 3.5.9\nAPI version: 3.5\n",
    ("etcdutl", "3.5.9"): "etcdutl version: 3.5.9\nAPI version: 3.5\n",
    ("etcdctl", "3.5.17"): "etcdctl version: 3.5.17\nAPI version: 3.5\n",
    ("etcdutl", "3.5.17"): "etcdutl version: 3.5.17\nAPI version: 3.5\n",
    ("etcdctl", "3.6.0"): "etcdctl version: 3.6.0\nAPI version: 3.6\n",
    ("etcdutl", "3.6.0"): "etcdutl version: 3.6.0\nAPI version: 3.6\n",
}
MEMBER = {
    "name": "cp-1",
    "initial_cluster": "cp-1=https://10.0.0.1:2380,cp-2=https://10.0.0.2:2380",
    "initial_cluster_token": "etcd-cluster",
    "initial_advertise_peer_urls": ["https://10.0.0.1:2380"],
}


def fake_tool(directory, tool, version):
    """An executable that answers ``version`` like the real one."""
    path = directory / tool
    path.write_text(f"#!/bin/sh\nprintf '%s' '{RECORDED[(tool, version)]}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize(("tool", "version"), list(RECORDED))
def test_parse_version_of_recorded_outputs(tool, version):
    assert cli.parse_version(RECORDED[(tool, version)], tool) == tuple(int(p) for p in version.split("."))


def test_parse_version_rejects_other_output():
    with pytest.raises(InvalidInput, match="cannot read the etcdctl version"):
        cli.parse_version("etcd Version: 3.4.23\n", "etcdctl")


def test_etcd_34_uses_etcdctl_for_everything_without_bump(tmp_path):
    tools = cli.detect(fake_tool(tmp_path, "etcdctl", "3.4.23"))
    assert (tools.version, tools.etcdutl) == ("3.4.23", None)
    assert tools.status_command("/s.db")[:3] == [str(tmp_path / "etcdctl"), "snapshot", "status"]
    restore = tools.restore_command("/s.db", "/d", MEMBER, False, 1000)
    assert restore[:4] == [str(tmp_path / "etcdctl"), "snapshot", "restore", "/s.db"]
    assert "--initial-cluster=cp-1=https://10.0.0.1:2380,cp-2=https://10.0.0.2:2380" in restore
    assert not [arg for arg in restore if "bump" in arg or "compacted" in arg or "skip-hash" in arg]


def test_etcd_35_before_10_prefers_etcdutl_beside_etcdctl_without_bump(tmp_path):
    fake_tool(tmp_path, "etcdutl", "3.5.9")
    tools = cli.detect(fake_tool(tmp_path, "etcdctl", "3.5.9"))
    assert tools.etcdutl == str(tmp_path / "etcdutl")
    assert tools.status_command("/s.db")[0] == str(tmp_path / "etcdutl")
    assert not tools.supports_bump()
    assert "--bump-revision=5" not in tools.restore_command("/s.db", "/d", MEMBER, True, 5)


def test_etcd_35_10_and_later_bumps_and_marks_compacted(tmp_path):
    fake_tool(tmp_path, "etcdutl", "3.5.17")
    tools = cli.detect(fake_tool(tmp_path, "etcdctl", "3.5.17"))
    restore = tools.restore_command("/s.db", "/d", MEMBER, True, 1000000000)
    assert restore[0] == str(tmp_path / "etcdutl")
    assert restore[-3:] == ["--skip-hash-check", "--bump-revision=1000000000", "--mark-compacted"]
    assert "--bump-revision=0" not in tools.restore_command("/s.db", "/d", MEMBER, False, 0)


def test_etcd_35_without_etcdutl_falls_back_to_etcdctl(tmp_path):
    tools = cli.detect(fake_tool(tmp_path, "etcdctl", "3.5.9"))
    assert tools.status_command("/s.db")[0] == str(tmp_path / "etcdctl")


def test_etcd_36_needs_etcdutl(tmp_path):
    tools = cli.detect(fake_tool(tmp_path, "etcdctl", "3.6.0"))
    with pytest.raises(InvalidInput, match=r"removed in etcd 3\.6"):
        tools.status_command("/s.db")
    fake_tool(tmp_path, "etcdutl", "3.6.0")
    tools = cli.detect(str(tmp_path / "etcdctl"))
    assert tools.status_command("/s.db")[0] == str(tmp_path / "etcdutl")
    assert tools.supports_bump()
    save = tools.save_command("https://127.0.0.1:2379", "/b/.x.part", {"cacert": "/ca", "cert": None}, 60)
    assert save[0] == str(tmp_path / "etcdctl")
    assert save[-3:] == ["snapshot", "save", "/b/.x.part"]
    assert "--cacert=/ca" in save and "--command-timeout=60s" in save
    assert not [arg for arg in save if arg.startswith("--cert")]


def test_missing_tool_given_by_path_is_one_clear_line(tmp_path):
    with pytest.raises(InvalidInput, match=f"etcdctl {tmp_path}/nope not found"):
        cli.detect(str(tmp_path / "nope"))


def test_no_tools_at_all(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    tools = cli.detect()
    with pytest.raises(InvalidInput, match="neither etcdutl nor etcdctl"):
        tools.offline_tool()
    with pytest.raises(InvalidInput, match="etcdctl not found"):
        tools.save_command("http://127.0.0.1:2379", "/x", {}, 5)


def test_error_line_picks_the_error_not_the_json_log():
    stderr = (
        '{"level":"info","msg":"created temporary db file","path":"s.db.part"}\n'
        '{"level":"error","msg":"streamer failed","error":"rpc error: DeadlineExceeded"}\n'
        "Error: context deadline exceeded\n"
    )
    assert cli.error_line(stderr) == "context deadline exceeded"
    assert cli.error_line('{"level":"fatal","msg":"x","error":"boom"}\n') == "boom"
    assert cli.error_line("", "plain failure\n") == "plain failure"


def test_parse_status_of_recorded_output():
    status = cli.parse_status('{"hash":1674744245,"revision":2,"totalKey":5,"totalSize":20480}\n')
    assert status == {"hash": 1674744245, "revision": 2, "total_keys": 5, "total_size": 20480}
    with pytest.raises(Exception, match="unexpected 'snapshot status' output"):
        cli.parse_status("hash revision\n")


def test_tools_run_with_the_v3_api(tmp_path):
    script = tmp_path / "show"
    script.write_text('#!/bin/sh\necho "$ETCDCTL_API"\n')
    script.chmod(0o755)
    assert cli.run([str(script)], 10, "show").stdout.strip() == "3"


def test_the_grpc_connection_error_behind_a_deadline():
    import json

    error = (
        "rpc error: code = DeadlineExceeded desc = latest balancer error: connection error: desc = "
        '"transport: authentication handshake failed: x509: certificate signed by unknown authority '
        '(possibly because of \\"x509: ECDSA verification failure\\" while trying to verify candidate '
        'authority certificate \\"etcd-ca\\")"'
    )
    warning = json.dumps({"level": "warn", "msg": "retrying of unary invoker failed", "error": error})
    stderr = f"{warning}\nFailed to get the status of endpoint https://127.0.0.1:2379 (context deadline exceeded)\n"
    assert cli.balancer_error(stderr) == "x509: certificate signed by unknown authority"
    closed = json.dumps({"level": "warn", "error": "rpc error: desc = latest balancer error: connection closed"})
    assert cli.balancer_error(closed) == "connection closed"
    assert cli.balancer_error("Error: context deadline exceeded") is None
