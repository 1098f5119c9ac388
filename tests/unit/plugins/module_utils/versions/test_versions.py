"""Every version form users meet, the rejected ones, the order and the derived forms."""

from __future__ import annotations

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import Version, compare, parse

# text, canonical, (major, minor, patch, pre, pre_number), apt package version
FORMS = [
    ("v1.30.2", "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
    ("1.30.2", "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
    ("1.30", "v1.30", (1, 30, None, None, None), "1.30.*"),
    ("v1.31.0-rc.1", "v1.31.0-rc.1", (1, 31, 0, "rc", 1), "1.31.0~rc.1-*"),
    ("v1.29.0-alpha.2", "v1.29.0-alpha.2", (1, 29, 0, "alpha", 2), "1.29.0~alpha.2-*"),
    ("v1.32.0-beta.0", "v1.32.0-beta.0", (1, 32, 0, "beta", 0), "1.32.0~beta.0-*"),
    ("1.30.2-1.1", "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
    ("1.27.4-00", "v1.27.4", (1, 27, 4, None, None), "1.27.4-*"),
    ("1.31.0~rc.1-1.1", "v1.31.0-rc.1", (1, 31, 0, "rc", 1), "1.31.0~rc.1-*"),
    ("1.30.2-150500.1.1", "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
    ("registry.k8s.io/kube-apiserver:v1.30.2", "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
    ("localhost:5000/k8s/kube-proxy:v1.29.7", "v1.29.7", (1, 29, 7, None, None), "1.29.7-*"),
    ("registry.k8s.io/kube-scheduler:v1.30.2@sha256:" + "ab" * 32, "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
    ("kube-controller-manager:v1.31.0-rc.1", "v1.31.0-rc.1", (1, 31, 0, "rc", 1), "1.31.0~rc.1-*"),
    ("v1.30.2+k3s1", "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
    (" v1.30.2 ", "v1.30.2", (1, 30, 2, None, None), "1.30.2-*"),
]

REJECTED = [
    "1.x",
    "banana",
    "",
    "v1",
    "1",
    "v1.30.2.1",
    "v1.30.02",
    "V1.30.2",
    "1.30.2-gke.1587003",
    "v1.29.0-eks-5e0fdde",
    "v1.31.0-rc",
    "v1.31.0-gamma.1",
    "v1.31-rc.1",
    "registry.k8s.io/kube-apiserver",
    "registry.k8s.io/kube-apiserver:latest",
    "registry.k8s.io/kube-apiserver@sha256:" + "ab" * 32,
]


@pytest.mark.parametrize(("text", "canonical", "fields", "apt"), FORMS)
def test_every_form_parses(text, canonical, fields, apt):
    version = parse(text)
    assert str(version) == canonical
    assert (version.major, version.minor, version.patch, version.pre, version.pre_number) == fields
    assert version.pkg("apt") == apt
    assert version.raw == text.strip()


@pytest.mark.parametrize("text", REJECTED)
def test_rejected_forms_name_the_value(text):
    with pytest.raises(InvalidInput) as caught:
        parse(text, "target_version")
    assert repr(text) in caught.value.message
    assert caught.value.message.startswith("target_version ")
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("value", [None, 1.3, 130, ["v1.30.2"], {"v": 1}])
def test_non_strings_are_rejected(value):
    with pytest.raises(InvalidInput) as caught:
        parse(value, "versions.kubectl")
    assert caught.value.message.startswith(f"versions.kubectl {value!r} ")


def test_unquoted_yaml_number_gets_a_hint():
    with pytest.raises(InvalidInput, match="quote it"):
        parse(1.3)


def test_order_pre_releases_before_release():
    ordered = [
        "v1.29.9",
        "v1.30.0-alpha.1",
        "v1.30.0-alpha.2",
        "v1.30.0-alpha.10",
        "v1.30.0-beta.0",
        "v1.30.0-rc.0",
        "v1.30.0-rc.1",
        "v1.30.0",
        "v1.30.1",
        "v1.30.10",
        "v1.31.0-alpha.0",
        "v1.31.0",
    ]
    shuffled = list(reversed(ordered))
    assert [str(v) for v in sorted(parse(t) for t in shuffled)] == ordered
    for older, newer in zip(ordered, ordered[1:]):
        assert parse(older) < parse(newer)
        assert parse(newer) > parse(older)
        assert parse(older) != parse(newer)


def test_revision_build_and_form_do_not_change_equality():
    same = ["v1.30.2", "1.30.2", "1.30.2-1.1", "1.30.2-00", "v1.30.2+k3s1", "registry.k8s.io/kube-proxy:v1.30.2"]
    versions = {parse(t) for t in same}
    assert len(versions) == 1
    assert parse("1.30") == parse("v1.30.0")
    assert parse("1.30") < parse("1.30.1")


def test_immutable():
    version = parse("v1.30.2")
    with pytest.raises(AttributeError):
        version.minor = 31
    assert version.minor == 30


@pytest.mark.parametrize(
    ("newer", "older", "distance"),
    [("v1.30.2", "v1.27.9", 3), ("v1.27.0", "v1.30.2", -3), ("1.30.9", "v1.30.0-rc.1", 0), ("1.31", "1.30.5", 1)],
)
def test_minor_distance(newer, older, distance):
    assert parse(newer).minors_newer_than(parse(older)) == distance


def test_minor_distance_across_majors_is_refused():
    with pytest.raises(InvalidInput, match="different majors"):
        parse("v2.0.0").minors_newer_than(parse("v1.30.0"))


def test_derived_forms():
    version = parse("v1.30.2")
    assert version.minor_line == "1.30"
    assert str(version.next_minor()) == "v1.31"
    assert str(version.release_of_minor()) == "v1.30.0"
    assert version.pkg("dnf") == "1.30.2"
    assert version.pkg("yum") == "1.30.2"
    assert parse("v1.31.0-rc.1").pkg("dnf") == "1.31.0~rc.1"
    assert parse("1.30").pkg("dnf") == "1.30.*"
    assert version.is_release
    assert not parse("1.30").is_release
    assert not parse("v1.31.0-rc.1").is_release
    with pytest.raises(InvalidInput, match="'zypper'"):
        version.pkg("zypper")


def test_constructor_checks_pre_release_name():
    with pytest.raises(InvalidInput, match="'gamma'"):
        Version(1, 30, 0, "gamma", 1)


@pytest.mark.parametrize(
    ("left", "operator", "right", "expected"),
    [
        ("v1.30.2", "<", "1.31", True),
        ("v1.30.2", "lt", "1.30.2-1.1", False),
        ("v1.30.2", "<=", "1.30.2-1.1", True),
        ("v1.30.2", "==", "registry.k8s.io/kube-apiserver:v1.30.2", True),
        ("v1.30.2", "eq", "v1.30.3", False),
        ("v1.31.0-rc.1", "<", "v1.31.0", True),
        ("v1.31.0", ">", "v1.31.0-rc.1", True),
        ("v1.31.0", "ge", "v1.31.0", True),
        ("v1.31.0", "!=", "v1.31.0", False),
        ("v1.31.0", "ne", "v1.31.1", True),
    ],
)
def test_compare(left, operator, right, expected):
    assert compare(left, right, operator) is expected


def test_compare_rejects_unknown_operator():
    with pytest.raises(InvalidInput, match="'~='"):
        compare("v1.30.2", "v1.30.2", "~=")
