"""The version filters, called the way Jinja calls them, and their errors."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster_ops.kubeadm.plugins.filter.versions import FilterModule

FILTERS = FilterModule().filters()


def test_the_filters_are_registered():
    assert sorted(FILTERS) == ["k8s_minor", "k8s_next_minor", "k8s_pkg_version", "k8s_version", "k8s_version_compare"]


@pytest.mark.parametrize(
    ("name", "value", "args", "expected"),
    [
        ("k8s_version", "registry.k8s.io/kube-apiserver:v1.30.2", (), "v1.30.2"),
        ("k8s_version", "1.27.4-00", (), "v1.27.4"),
        ("k8s_version", "1.31.0~rc.1-1.1", (), "v1.31.0-rc.1"),
        ("k8s_minor", "v1.30.2", (), "1.30"),
        ("k8s_minor", "1.30.2-1.1", (), "1.30"),
        ("k8s_minor", "1.30", (), "1.30"),
        ("k8s_next_minor", "v1.30.2", (), "1.31"),
        ("k8s_next_minor", "v1.31.0-rc.1", (), "1.32"),
        ("k8s_pkg_version", "v1.30.2", (), "1.30.2-*"),
        ("k8s_pkg_version", "v1.30.2", ("apt",), "1.30.2-*"),
        ("k8s_pkg_version", "v1.30.2", ("dnf",), "1.30.2"),
        ("k8s_pkg_version", "v1.30.2", ("yum",), "1.30.2"),
        ("k8s_pkg_version", "v1.31.0-rc.1", (), "1.31.0~rc.1-*"),
        ("k8s_pkg_version", "1.30", ("dnf",), "1.30.*"),
        ("k8s_version_compare", "v1.30.2", ("1.31", "<"), True),
        ("k8s_version_compare", "v1.30.2", ("1.30.2-1.1",), True),
        ("k8s_version_compare", "v1.31.0-rc.1", ("v1.31.0", "ge"), False),
        ("k8s_version_compare", "v1.31.0", ("v1.31.0-rc.1", "gt"), True),
    ],
)
def test_filters(name, value, args, expected):
    assert FILTERS[name](value, *args) == expected


@pytest.mark.parametrize(
    ("name", "value", "args", "needle"),
    [
        ("k8s_minor", "1.x", (), "k8s_minor: version '1.x' is not a Kubernetes version"),
        ("k8s_version", "banana", (), "'banana'"),
        ("k8s_next_minor", None, (), "None"),
        ("k8s_pkg_version", "v1.30.2", ("zypper",), "'zypper'"),
        ("k8s_version_compare", "v1.30.2", ("1.31", "~="), "'~='"),
        ("k8s_version_compare", "v1.30.2", ("1.x", "<"), "'1.x'"),
    ],
)
def test_bad_values_fail_with_one_line_naming_them(name, value, args, needle):
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS[name](value, *args)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)
