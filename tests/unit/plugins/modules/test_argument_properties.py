"""Property-based tests of the argument handling of version_skew and api_removals, through their ``main()``.

For any generated input (valid versions, near misses, garbage and unicode, huge numbers, YAML's floats and ints,
odd node names and option values) the module either succeeds - with an upgrade path of at most MAX_HOPS hops -
or fails with one line that names the option; never with a traceback, and within the deadline.

Examples per test (this file runs in about 2 s here, the property tests of the filters in 2 s more; the whole
property set stays well under 20 s):
  test_version_skew_never_crashes: 300
  test_version_skew_target_bounds: 150
  test_api_removals_never_crashes: 200
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.skew import MAX_HOPS
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import parse
from ansible_collections.cluster_ops.kubeadm.plugins.modules import api_removals, version_skew
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.versions.strategies import (
    ANY_VALUE,
    NAMES,
    NINES,
    VERSION_INPUTS,
    valid_versions,
    version_shaped,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.modules.module_args import patch_module_args

DEADLINE = timedelta(seconds=2)  # one run of a module takes milliseconds; 1.9999 once took seconds and gigabytes
# derandomize: the same examples on every run (no flaky CI, no example database written into the checkout)
PROPERTY = settings(deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None)


def call(main, args):
    """Run a module's ``main`` with ``args``; its JSON result and how long it took."""
    out = io.StringIO()
    started = time.monotonic()
    with patch_module_args(args), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main()
    return json.loads(out.getvalue()), time.monotonic() - started


def assert_one_line_naming(result, names, legit_prefixes=()):
    text = json.dumps(result)
    assert "Traceback" not in text
    assert "exception" not in result, result.get("exception")
    message = result["msg"]
    assert isinstance(message, str) and message
    assert "\n" not in message, message
    if message.startswith(legit_prefixes):
        return
    assert any(name in message for name in names), f"{message!r} names none of {names}"


def drop_none(args):
    return {key: value for key, value in args.items() if value is not None}


CLUSTER = {"kube_apiserver": ["v1.30.2"]}
MOSTLY_VALID = st.one_of(valid_versions(), valid_versions(), valid_versions(), VERSION_INPUTS)
VERSIONS_DICTS = st.fixed_dictionaries(
    {"kube_apiserver": st.lists(MOSTLY_VALID, min_size=0, max_size=3)},
    optional={
        "kube_controller_manager": st.lists(MOSTLY_VALID, max_size=2),
        "kubelet": st.dictionaries(NAMES, MOSTLY_VALID, max_size=3),
        "kube_proxy": st.dictionaries(NAMES, ANY_VALUE, max_size=2),
        "kubectl": VERSION_INPUTS,
        "kubeadm": ANY_VALUE,
    },
)


@settings(PROPERTY, max_examples=300)
@given(
    versions=VERSIONS_DICTS,
    target=VERSION_INPUTS,
    available=st.one_of(st.none(), st.lists(VERSION_INPUTS, max_size=4)),
    newest=st.one_of(st.none(), VERSION_INPUTS),
    fail=st.sampled_from([None, True, False, "yes", "banana", 3]),
    timeout=st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 10**6)),
)
@example(versions=CLUSTER, target="1.9999", available=None, newest=None, fail=None, timeout=None)
@example(versions=CLUSTER, target="1." + "9" * 5000, available=None, newest=None, fail=None, timeout=None)
@example(versions=CLUSTER, target=1.3, available=None, newest=None, fail=None, timeout=None)
def test_version_skew_never_crashes(versions, target, available, newest, fail, timeout):
    args = drop_none(
        {
            "versions": versions,
            "target_version": target,
            "available_versions": available,
            "newest_minor": newest,
            "fail_on_violation": fail,
            "probe_timeout": timeout,
        }
    )
    result, elapsed = call(version_skew.main, args)
    assert elapsed < DEADLINE.total_seconds()
    if result.get("failed"):
        assert_one_line_naming(result, list(args), legit_prefixes=("version skew: ",))
        return
    assert len(result["upgrade_path"]) <= MAX_HOPS
    for hop in result["upgrade_path"]:
        parse(hop)
    assert isinstance(result["ok"], bool)
    if target is not None and result["upgrade_path"]:
        assert result["upgrade_path"][-1] == result["target_version"]


@settings(PROPERTY, max_examples=150)
@given(current=valid_versions(), target=st.one_of(valid_versions(), valid_versions(), version_shaped(), NINES))
def test_version_skew_target_bounds(current, target):
    """A target either plans at most MAX_HOPS hops or is refused naming target_version (or another bad value)."""
    result, _elapsed = call(version_skew.main, {"versions": {"kube_apiserver": [current]}, "target_version": target})
    if result.get("failed"):
        assert_one_line_naming(result, ["target_version", "versions"], legit_prefixes=("version skew: ",))
        too_far = "hops are planned at once" in result["msg"]
        if too_far:
            assert result["msg"].startswith(f"target_version {target!r} is ")
        return
    hops = [parse(hop) for hop in result["upgrade_path"]]
    assert len(hops) <= MAX_HOPS
    minors = [hop.minor for hop in hops]
    if minors:  # one hop per minor, none skipped, ending at the target's
        assert minors == list(range(minors[0], minors[0] + len(minors)))
        assert minors[0] in (parse(current).minor, parse(current).minor + 1)
        assert minors[-1] == parse(target).minor


@pytest.fixture(scope="module")
def gitops(tmp_path_factory):
    root = tmp_path_factory.mktemp("gitops")
    (root / "ingress.yaml").write_text("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\n")
    (root / "values.yaml").write_text("replicas: 2\n")
    return str(root)


@settings(PROPERTY, max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    target=VERSION_INPUTS,
    current=st.one_of(valid_versions(), VERSION_INPUTS.filter(lambda v: v is not None)),
    sources=st.one_of(st.none(), st.lists(st.sampled_from(["manifests", "metrics", "helm", "git", ""]), max_size=3)),
    fail=st.sampled_from([None, True, False, "maybe"]),
    paths=st.sampled_from(["gitops", "missing", "empty"]),
)
def test_api_removals_never_crashes(gitops, target, current, sources, fail, paths):
    manifest_paths = {"gitops": [gitops], "missing": ["/nonexistent/dir"], "empty": []}[paths]
    args = drop_none(
        {
            "target_version": target,
            "current_version": current,
            "manifest_paths": manifest_paths,
            "sources": sources,
            "fail_on_findings": fail,
        }
    )
    result, elapsed = call(api_removals.main, args)
    assert elapsed < DEADLINE.total_seconds()
    if result.get("failed"):
        assert_one_line_naming(result, [*args, "target_version"], legit_prefixes=("api_removals: ",))
        return
    assert len(result["path"]) <= MAX_HOPS
    assert sorted(result["by_hop"]) == sorted(result["path"])
    assert result["counts"]["total"] == len(result["findings"]) == len(result["lines"])
    assert all(f["hop"] in result["path"] for f in result["findings"])
