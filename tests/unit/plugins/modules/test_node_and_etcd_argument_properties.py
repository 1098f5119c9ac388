# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests of the argument handling of the node and etcd modules and cluster_info, through main()
(version_skew's and api_removals' are in test_argument_properties.py).

For generated names, selectors, numbers (huge, negative, zero, floats, strings) and paths, a module either
succeeds or fails with one line that names the option or the value, fast and without a traceback, and a
module that fails before acting has changed nothing. The API modules run against the drain's in-memory API
server, the etcd modules with a fake etcdctl. Examples per test: EXAMPLES below (7 tests: about 1,000 runs
of main(), ~10 s).
"""

from __future__ import annotations

import json
import math
import os
import time
import tracemalloc
from typing import Any

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes import drain, wait
from ansible_collections.cluster_ops.kubeadm.plugins.modules import (
    cluster_info,
    etcd_restore,
    etcd_snapshot,
    node_drain,
    node_wait,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.nodes.drain_fake import FakeApi, make_pod
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.modules.module_args import patch_module_args

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies
given, settings = hypothesis.given, hypothesis.settings

EXAMPLES = 150
# derandomize: the same examples on every run (no flaky CI, no example database written into the checkout)
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,  # each run's own bound is asserted in run_main
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
    database=None,
)
SECONDS_PER_RUN = 5.0
PEAK_BYTES = 50 * 2**20
MUTATIONS = {"set_unschedulable", "evict", "delete_pod"}

numbers = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**11, 99999999999]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
names = st.one_of(st.text(max_size=80), st.sampled_from(["", " ", "worker-1", "WORKER-1", "a" * 300, "../x"]))
selectors = st.one_of(
    st.none(),
    st.text(alphabet="abcxyz=!,() in-_./", max_size=30),
    st.sampled_from(["app=web", "app in (web)", "app", "!app", "app!=", "=", "app==web,tier"]),
)


def run_main(capsys, module: Any, args: dict[str, Any], check: bool = False) -> dict[str, Any]:
    tracemalloc.start()
    started = time.monotonic()
    try:
        with patch_module_args({**args, "_ansible_check_mode": check}), pytest.raises(SystemExit):
            module.main()
    finally:
        took = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert took < SECONDS_PER_RUN, (args, took)
    assert peak < PEAK_BYTES, (args, peak)
    return json.loads(capsys.readouterr().out)


def assert_one_line_naming(result: dict[str, Any], args: dict[str, Any]) -> None:
    """A failure is one line, not an unexpected error, and names an option it was given or the value."""
    message = result["msg"]
    assert "\n" not in message and "Traceback" not in message, message
    assert not message.startswith("unexpected error"), message
    named = [name for name in args if name in message]
    named += [value for value in args.values() for shown in (str(value), repr(value)) if shown and shown in message]
    assert named, (args, message)


@pytest.fixture
def cluster(monkeypatch):
    """The drain's in-memory API server behind node_drain and node_wait (no connection is made)."""
    api = FakeApi(ready_delay=0.0)
    api.add_node("worker-1")
    api.add_pod(make_pod("web-0"))
    api.add_pod(make_pod("proxy", owner="DaemonSet"))
    api.daemonsets.add(("default", "owner"))
    for module in (drain, wait):
        monkeypatch.setattr(module, "ClientNodeApi", lambda _client: api)
        monkeypatch.setattr(module, "api_client", lambda *_args, **_kw: None)
    monkeypatch.setattr(drain, "build_configuration", lambda _params: type("Configuration", (), {})())
    return api


@PROPERTY
@given(node=names, timeout=numbers, concurrency=numbers, grace=numbers, skip=numbers, selector=selectors)
def test_node_drain_arguments(capsys, cluster, node, timeout, concurrency, grace, skip, selector):
    cluster.calls.clear()
    args = {"kubeconfig": "/dev/null", "node": node, "timeout": timeout, "concurrency": concurrency}
    args.update(grace_period=grace, skip_wait_for_delete_timeout=skip, ignore_daemonsets=True)
    if selector is not None:
        args["pod_selector"] = selector
    result = run_main(capsys, node_drain, args, check=True)
    assert not any(call[0] in MUTATIONS for call in cluster.calls), "check mode changed something"
    if result.get("failed"):
        assert_one_line_naming(result, args)
    else:
        assert result["node"] == node == "worker-1"


@PROPERTY
@given(node=names, state=st.sampled_from(["drain", "cordon", "uncordon", "Drain", ""]), timeout=numbers)
def test_node_drain_refuses_before_acting(capsys, cluster, node, state, timeout):
    """A real run that fails validation makes no call that changes anything."""
    cluster.calls.clear()
    cluster.nodes["worker-1"]["spec"]["unschedulable"] = False
    args = {"kubeconfig": "/dev/null", "node": node, "state": state, "timeout": timeout, "ignore_daemonsets": True}
    result = run_main(capsys, node_drain, args)
    if result.get("failed"):
        assert_one_line_naming(result, args)
        if "does not exist" in result["msg"] or "must be" in result["msg"] or "argument" in result["msg"]:
            assert not any(call[0] in MUTATIONS for call in cluster.calls), result["msg"]
    cluster.pods.clear()
    cluster.add_pod(make_pod("web-0"))
    cluster.add_pod(make_pod("proxy", owner="DaemonSet"))


def waits_long(value: Any) -> bool:
    """A valid timeout of more than a second: node_wait would rightly wait it out for a node that never comes."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return False
    return math.isfinite(seconds) and 1 < seconds <= 7 * 24 * 3600


@PROPERTY
@given(
    node=names,
    timeout=numbers.filter(lambda value: not waits_long(value)),
    interval=numbers,
    version=st.one_of(st.none(), names, numbers),
)
def test_node_wait_arguments(capsys, cluster, node, timeout, interval, version):
    args = {"kubeconfig": "/dev/null", "node": node, "timeout": timeout, "interval": interval}
    if version is not None:
        args["kubelet_version"] = version
    result = run_main(capsys, node_wait, args)
    if result.get("failed"):
        assert_one_line_naming(result, args)


@PROPERTY
@given(timeout=numbers, nodes=st.one_of(st.none(), st.lists(names, max_size=3)), kubeconfig=names)
def test_cluster_info_arguments(capsys, tmp_path_factory, timeout, nodes, kubeconfig):
    args: dict[str, Any] = {"timeout": timeout, "kubeconfig": kubeconfig or "/nonexistent"}
    if nodes is not None:
        args["nodes"] = nodes
    result = run_main(capsys, cluster_info, args)
    assert result.get("failed"), result  # there is no cluster: it must say why, in one line
    assert_one_line_naming(result, args)


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


@pytest.fixture(scope="module")
def etcdctl(tmp_path_factory):
    import hashlib

    base = tmp_path_factory.mktemp("etcd")
    tool = base / "etcdctl"
    tool.write_text(FAKE_ETCDCTL)
    tool.chmod(0o755)
    body = os.urandom(4096 + 512)
    source = base / "source.db"
    source.write_bytes(body + hashlib.sha256(body).digest())
    os.environ["FAKE_SOURCE"] = str(source)
    (base / "a-file").write_text("")
    return {"tool": str(tool), "source": str(source), "base": base}


paths = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "relative/dir", "/", "/proc/self", "/dev/null/x", "/nonexistent/a/b"]),
    st.builds(lambda name: f"/tmp/{name}", st.text(alphabet="abc-_./ ", max_size=20)),
)


@PROPERTY
@given(backup_dir=paths, keep=numbers, timeout=numbers, max_age=st.one_of(st.none(), st.text(max_size=8), numbers))
def test_etcd_snapshot_arguments(capsys, etcdctl, backup_dir, keep, timeout, max_age):
    args: dict[str, Any] = {"endpoints": ["http://127.0.0.1:2379"], "etcdctl": etcdctl["tool"]}
    args.update(backup_dir=backup_dir, keep=keep, timeout=timeout)
    if max_age is not None:
        args["max_age"] = max_age
    existed = os.path.lexists(backup_dir) if backup_dir else True
    result = run_main(capsys, etcd_snapshot, args, check=True)
    if result.get("failed"):
        assert_one_line_naming(result, args)
    if backup_dir and not existed:
        assert not os.path.lexists(backup_dir), "check mode created the backup directory"


@PROPERTY
@given(data_dir=paths, bump=numbers, timeout=numbers, name=names, peers=st.lists(names, max_size=2))
def test_etcd_restore_arguments(capsys, etcdctl, data_dir, bump, timeout, name, peers):
    args: dict[str, Any] = {"path": etcdctl["source"], "data_dir": data_dir, "etcdctl": etcdctl["tool"]}
    args.update(bump_revision=bump, timeout=timeout, name=name)
    if peers:
        args["initial_advertise_peer_urls"] = peers
    existed = os.path.lexists(data_dir) if data_dir else True
    result = run_main(capsys, etcd_restore, args, check=True)
    if result.get("failed"):
        assert_one_line_naming(result, args)
    if data_dir and not existed:
        assert not os.path.lexists(data_dir), "check mode created the data directory"


def test_a_snapshot_path_that_is_a_directory_names_it(capsys, etcdctl):
    args = {"state": "verified", "path": str(etcdctl["base"]), "etcdctl": etcdctl["tool"]}
    result = run_main(capsys, etcd_snapshot, args)
    assert result["failed"] and result["msg"] == f"snapshot {etcdctl['base']} is a directory, not a snapshot file"
