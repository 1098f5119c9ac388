"""Property-based tests of the version filters: for any value a playbook can pass (valid versions, near misses,
garbage and unicode, huge numbers, YAML's floats), a filter returns its documented type or fails with one line
that names the filter; never another exception, and quickly.

Examples per test (about 2 s together here):
  test_single_value_filters: 400 (k8s_version, k8s_minor, k8s_next_minor, k8s_pkg_version drawn in turn)
  test_k8s_version_compare: 300
  test_valid_versions_round_trip: 200
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.cluster_ops.kubeadm.plugins.filter.versions import FilterModule
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import parse
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.versions.strategies import (
    ANY_VALUE,
    VERSION_INPUTS,
    valid_versions,
)

FILTERS = FilterModule().filters()
DEADLINE = timedelta(milliseconds=500)
PROPERTY = settings(deadline=DEADLINE, derandomize=True, database=None)
OPERATORS = st.sampled_from(["<", "<=", "==", "!=", "gt", "ge", "eq", "ne", "~=", "", "<<"])


def call(name, *args):
    """The filter's value, or its one-line error; any other exception fails the test."""
    started = time.monotonic()
    try:
        value, error = FILTERS[name](*args), None
    except AnsibleFilterError as exc:
        value, error = None, str(exc)
    assert time.monotonic() - started < DEADLINE.total_seconds()
    if error is not None:
        assert error.startswith(f"{name}: ")
        assert "\n" not in error
    return value, error


@settings(PROPERTY, max_examples=400)
@given(
    name=st.sampled_from(["k8s_version", "k8s_minor", "k8s_next_minor", "k8s_pkg_version"]),
    value=st.one_of(VERSION_INPUTS, ANY_VALUE),
    flavor=st.sampled_from(["apt", "dnf", "yum", "zypper", "", "APT"]),
)
@example(name="k8s_version", value="1." + "9" * 1_000_000, flavor="apt")
@example(name="k8s_next_minor", value="v1." + "9" * 250, flavor="apt")
@example(name="k8s_minor", value=1.3, flavor="apt")
def test_single_value_filters(name, value, flavor):
    args = (value, flavor) if name == "k8s_pkg_version" else (value,)
    result, error = call(name, *args)
    if error is None:
        assert isinstance(result, str)
        if name == "k8s_version":
            assert parse(result) == parse(value)
        elif name in ("k8s_minor", "k8s_next_minor"):
            major, minor = result.split(".")
            assert int(major) == parse(value).major
            assert int(minor) == parse(value).minor + (name == "k8s_next_minor")
    elif isinstance(value, float):
        assert "arrived as a number" in error


@settings(PROPERTY, max_examples=300)
@given(left=VERSION_INPUTS, right=VERSION_INPUTS, operator=OPERATORS)
def test_k8s_version_compare(left, right, operator):
    result, error = call("k8s_version_compare", left, right, operator)
    if error is None:
        assert isinstance(result, bool)


@settings(PROPERTY, max_examples=200)
@given(left=valid_versions(), right=valid_versions())
def test_valid_versions_round_trip(left, right):
    canonical, error = call("k8s_version", left)
    assert error is None
    assert call("k8s_version", canonical) == (canonical, None)
    less, _none = call("k8s_version_compare", left, right, "<")
    more, _none = call("k8s_version_compare", left, right, ">")
    same, _none = call("k8s_version_compare", left, right, "==")
    assert [less, more, same].count(True) == 1


def test_the_filters_under_test_are_all_of_them():
    assert set(FILTERS) == {"k8s_version", "k8s_minor", "k8s_next_minor", "k8s_pkg_version", "k8s_version_compare"}
    with pytest.raises(AnsibleFilterError, match=r"^k8s_version: version 1\.3 arrived as a number"):
        FILTERS["k8s_version"](1.3)
