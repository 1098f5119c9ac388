"""The skew policy row by row, the upgrade path, and the judgement during each hop."""

from __future__ import annotations

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.skew import (
    MAX_HOPS,
    SKEW_POLICY,
    SkewViolation,
    check,
    enforce,
    plan,
    read_versions,
    run,
    summary,
    upgrade_path,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import parse


def cluster(apiservers, controller_managers=None, schedulers=None, **rest):
    """Versions of a cluster; the controller-managers and schedulers default to the apiservers."""
    apiservers = apiservers if isinstance(apiservers, list) else [apiservers]
    return {
        "kube_apiserver": apiservers,
        "kube_controller_manager": apiservers if controller_managers is None else controller_managers,
        "kube_scheduler": apiservers if schedulers is None else schedulers,
        **rest,
    }


def found(result):
    return {(v["rule"], v["component"], v["node"], v["severity"]) for v in result["violations"]}


# id, versions, expected violations (rule, component, node, severity) of the current state
POLICY_TABLE = [
    ("clean", cluster("v1.30.2", kubelet={"w1": "v1.30.2"}, kube_proxy={"w1": "v1.30.2"}), set()),
    # kube-apiserver (HA): within 1 minor of each other
    ("ha-apiservers-1-apart", cluster(["v1.31.1", "v1.30.2"], ["v1.30.2"], ["v1.30.2"]), set()),
    (
        "ha-apiservers-2-apart",
        cluster(["v1.31.1", "v1.29.4", "v1.31.1"], [], []),
        {("apiserver_ha_skew", "kube_apiserver", None, "error")},
    ),
    # kube-controller-manager, kube-scheduler: never newer than any apiserver, up to 1 older
    ("controller-manager-1-older", cluster("v1.30.2", ["v1.29.9"], ["v1.29.9"]), set()),
    (
        "controller-manager-2-older",
        cluster("v1.30.2", ["v1.28.9"]),
        {("controller_manager_skew", "kube_controller_manager", None, "error")},
    ),
    (
        "controller-manager-newer-than-one-ha-apiserver",
        cluster(["v1.31.1", "v1.30.2"], ["v1.31.1", "v1.30.2"], ["v1.30.2"]),
        {("controller_manager_skew", "kube_controller_manager", None, "error")},
    ),
    (
        "scheduler-newer",
        cluster("v1.30.2", schedulers=["v1.31.0"]),
        {("scheduler_skew", "kube_scheduler", None, "error")},
    ),
    (
        "scheduler-2-older",
        cluster("v1.30.2", schedulers=["v1.28.0"]),
        {("scheduler_skew", "kube_scheduler", None, "error")},
    ),
    # kubelet: never newer, up to 3 older; older than 1.25: up to 2
    ("kubelet-3-older", cluster("v1.30.2", kubelet={"w1": "v1.27.16"}), set()),
    ("kubelet-4-older", cluster("v1.30.2", kubelet={"w1": "v1.26.3"}), {("kubelet_skew", "kubelet", "w1", "error")}),
    ("kubelet-newer", cluster("v1.30.2", kubelet={"w1": "v1.31.0"}), {("kubelet_skew", "kubelet", "w1", "error")}),
    ("kubelet-same-minor-newer-patch", cluster("v1.30.2", kubelet={"w1": "v1.30.9"}), set()),
    (
        "kubelet-newer-than-one-ha-apiserver",
        cluster(["v1.31.1", "v1.30.2"], ["v1.30.2"], ["v1.30.2"], kubelet={"w1": "v1.31.1", "w2": "v1.30.0"}),
        {("kubelet_skew", "kubelet", "w1", "error")},
    ),
    (
        "kubelet-3-older-than-newest-ha-apiserver",
        cluster(["v1.31.1", "v1.30.2"], ["v1.30.2"], ["v1.30.2"], kubelet={"w1": "v1.28.1", "w2": "v1.27.0"}),
        {("kubelet_skew", "kubelet", "w2", "error")},
    ),
    ("kubelet-pre-1.25-2-older", cluster("v1.26.1", kubelet={"w1": "v1.24.17"}), set()),
    (
        "kubelet-pre-1.25-3-older",
        cluster("v1.27.1", kubelet={"w1": "v1.24.17"}),
        {("kubelet_skew", "kubelet", "w1", "error")},
    ),
    ("kubelet-1.25-3-older", cluster("v1.28.1", kubelet={"w1": "v1.25.0"}), set()),
    # kube-proxy: never newer, up to 3 older (pre-1.25: 2), within 3 of its node's kubelet (pre-1.25: 2)
    ("kube-proxy-3-older", cluster("v1.30.2", kubelet={"w1": "v1.28.0"}, kube_proxy={"w1": "v1.27.0"}), set()),
    (
        "kube-proxy-4-older",
        cluster("v1.30.2", kubelet={"w1": "v1.30.0"}, kube_proxy={"w1": "v1.26.0"}),
        {("kube_proxy_skew", "kube_proxy", "w1", "error"), ("kube_proxy_kubelet_skew", "kube_proxy", "w1", "error")},
    ),
    (
        "kube-proxy-newer",
        cluster("v1.30.2", kubelet={"w1": "v1.30.0"}, kube_proxy={"w1": "v1.31.0"}),
        {("kube_proxy_skew", "kube_proxy", "w1", "error")},
    ),
    (
        "kube-proxy-pre-1.25-3-older",
        cluster("v1.27.2", kubelet={"w1": "v1.25.0"}, kube_proxy={"w1": "v1.24.0"}),
        {("kube_proxy_skew", "kube_proxy", "w1", "error")},
    ),
    (
        "kube-proxy-3-newer-than-kubelet",
        cluster("v1.30.2", kubelet={"w1": "v1.27.0"}, kube_proxy={"w1": "v1.30.2"}),
        set(),
    ),
    (
        "kube-proxy-4-newer-than-kubelet",
        cluster("v1.30.2", kubelet={"w1": "v1.26.0"}, kube_proxy={"w1": "v1.30.2"}),
        {("kubelet_skew", "kubelet", "w1", "error"), ("kube_proxy_kubelet_skew", "kube_proxy", "w1", "error")},
    ),
    (
        "kube-proxy-pre-1.25-2-newer-than-kubelet",
        cluster("v1.24.2", kubelet={"w1": "v1.22.0"}, kube_proxy={"w1": "v1.24.2"}),
        set(),
    ),
    (
        "kube-proxy-pre-1.25-3-newer-than-kubelet",
        cluster("v1.24.2", kubelet={"w1": "v1.21.0"}, kube_proxy={"w1": "v1.24.2"}),
        {("kubelet_skew", "kubelet", "w1", "error"), ("kube_proxy_kubelet_skew", "kube_proxy", "w1", "error")},
    ),
    (
        "kube-proxy-without-kubelet-on-its-node",
        cluster("v1.30.2", kubelet={"w1": "v1.30.0"}, kube_proxy={"w2": "v1.30.0"}),
        set(),
    ),
    # kubectl: within 1 minor, older or newer: a warning
    ("kubectl-1-newer", cluster("v1.30.2", kubectl="v1.31.0"), set()),
    ("kubectl-1-older", cluster("v1.30.2", kubectl="v1.29.0"), set()),
    ("kubectl-2-newer", cluster("v1.30.2", kubectl="v1.32.0"), {("kubectl_skew", "kubectl", None, "warning")}),
    ("kubectl-2-older", cluster("v1.30.2", kubectl="v1.28.0"), {("kubectl_skew", "kubectl", None, "warning")}),
    (
        "kubectl-newer-than-older-ha-apiserver",
        cluster(["v1.31.1", "v1.30.2"], ["v1.30.2"], ["v1.30.2"], kubectl="v1.32.0"),
        {("kubectl_skew", "kubectl", None, "warning")},
    ),
    # kubeadm: at the control plane's minor or one ahead: a warning
    ("kubeadm-same", cluster("v1.30.2", kubeadm="v1.30.2"), set()),
    ("kubeadm-1-newer", cluster("v1.30.2", kubeadm="v1.31.0"), set()),
    ("kubeadm-older", cluster("v1.30.2", kubeadm="v1.29.5"), {("kubeadm_skew", "kubeadm", None, "warning")}),
    ("kubeadm-2-newer", cluster("v1.30.2", kubeadm="v1.32.0"), {("kubeadm_skew", "kubeadm", None, "warning")}),
]


@pytest.mark.parametrize(("versions", "expected"), [row[1:] for row in POLICY_TABLE], ids=[r[0] for r in POLICY_TABLE])
def test_policy_table(versions, expected):
    result = check(versions)
    assert found(result) == expected
    assert result["ok"] is not any(severity == "error" for *_rest, severity in expected)
    assert result["upgrade_path"] == []
    for item in result["violations"]:
        assert item["hop"] is None
        assert item["version"] in item["message"]
        assert "the policy allows" in item["message"]


def test_every_policy_rule_is_in_the_table():
    covered = {violation[0] for row in POLICY_TABLE for violation in row[2]}
    assert covered == {rule.name for rule in SKEW_POLICY}


def test_messages_say_what_and_how_far():
    result = check(cluster("v1.27.1", kubelet={"old": "v1.24.17", "new": "v1.28.0"}))
    messages = sorted(v["message"] for v in result["violations"])
    assert messages == [
        "kubelet v1.24.17 on node old is 3 minors older than kube-apiserver v1.27.1 "
        "(the policy allows 2 for versions older than 1.25)",
        "kubelet v1.28.0 on node new is 1 minor newer than kube-apiserver v1.27.1 (the policy allows none)",
    ]


def test_cluster_version_is_the_oldest_apiserver_and_current_is_canonical():
    result = check(cluster(["1.31.1-1.1", "registry.k8s.io/kube-apiserver:v1.30.2"], [], [], kubelet={"w": "1.30.0"}))
    assert result["cluster_version"] == "v1.30.2"
    assert result["current"] == {
        "kube_apiserver": ["v1.31.1", "v1.30.2"],
        "kube_controller_manager": [],
        "kube_scheduler": [],
        "kubelet": {"w": "v1.30.0"},
        "kube_proxy": {},
        "kubectl": None,
        "kubeadm": None,
    }


# -- upgrade path --------------------------------------------------------------------------------------------

PATHS = [
    # current, target, available, path
    ("v1.30.2", "v1.30.2", None, []),
    ("v1.30.2", "v1.30.5", None, ["v1.30.5"]),
    ("v1.30.2", "v1.31.3", None, ["v1.31.3"]),
    ("v1.30.2", "v1.33.1", None, ["v1.31.0", "v1.32.0", "v1.33.1"]),
    (
        "v1.30.2",
        "v1.33.1",
        ["1.31.0-1.1", "1.31.7-1.1", "1.31.12-1.1", "1.32.4", "v1.32.5-rc.0", "v1.33.0", "v1.33.1", "v1.34.0"],
        ["v1.31.12", "v1.32.4", "v1.33.1"],
    ),
    ("v1.30.2", "v1.31.0-rc.1", None, ["v1.31.0-rc.1"]),
    ("v1.30.0-rc.1", "v1.30.0", None, ["v1.30.0"]),
]


@pytest.mark.parametrize(("current", "target", "available", "path"), PATHS)
def test_upgrade_path(current, target, available, path):
    hops = upgrade_path(parse(current), parse(target), [parse(v) for v in available] if available else None)
    assert [str(h) for h in hops] == path


def test_path_never_goes_below_a_running_instance():
    hops = upgrade_path(parse("v1.30.2"), parse("v1.32.1"), None, (parse("v1.30.2"), parse("v1.31.4")))
    assert [str(h) for h in hops] == ["v1.31.4", "v1.32.1"]


def test_path_across_majors_is_refused():
    with pytest.raises(InvalidInput, match=r"v2\.0\.0"):
        upgrade_path(parse("v1.30.2"), parse("v2.0.0"))


@pytest.mark.parametrize(
    ("target", "available", "resolved", "path"),
    [
        (
            "1.33",
            ["1.31.2", "1.32.5", "1.33.0", "1.33.4-1.1", "1.33.2", "1.34.0"],
            "v1.33.4",
            ["v1.31.2", "v1.32.5", "v1.33.4"],
        ),
        ("1.33", None, "v1.33.0", ["v1.31.0", "v1.32.0", "v1.33.0"]),
        ("1.30", None, "v1.30.2", []),
        ("1.30", ["1.30.1", "1.30.6"], "v1.30.6", ["v1.30.6"]),
        ("1.30", ["1.30.0", "1.30.1"], "v1.30.2", []),
    ],
)
def test_minor_line_target(target, available, resolved, path):
    result = check(cluster("v1.30.2"), target, available)
    assert result["ok"] is True
    assert result["target_version"] == resolved
    assert result["upgrade_path"] == path


def test_three_minors_ahead_three_hops_each_judged():
    result = check(cluster("v1.30.2", kubelet={"w1": "v1.30.2"}), "v1.33.2", ["1.31.5", "1.32.3", "1.33.2"])
    assert result["upgrade_path"] == ["v1.31.5", "v1.32.3", "v1.33.2"]
    assert result["checked_hops"] == [
        {"version": "v1.31.5", "ok": True, "errors": 0},
        {"version": "v1.32.3", "ok": True, "errors": 0},
        {"version": "v1.33.2", "ok": True, "errors": 0},
    ]
    assert result["ok"] is True
    assert result["violations"] == []


@pytest.mark.parametrize(
    ("apiservers", "target"),
    [("v1.30.2", "v1.29.8"), ("v1.30.5", "v1.30.2"), ("v1.30.2", "v1.30.0-rc.1"), (["v1.30.2", "v1.31.0"], "v1.30.9")],
)
def test_downgrade_is_an_error(apiservers, target):
    result = check(cluster(apiservers, [], []), target)
    assert found(result) >= {("no_downgrade", "kube_apiserver", None, "error")}
    assert result["upgrade_path"] == []
    assert result["ok"] is False
    assert "downgrades are not supported" in summary(result)


def test_minor_line_target_is_never_a_downgrade_of_a_newer_instance():
    result = check(cluster(["v1.30.2", "v1.30.4"], ["v1.30.5"]), "1.30", ["1.30.3"])
    assert result["target_version"] == "v1.30.5"
    assert result["upgrade_path"] == ["v1.30.5"]
    assert [v["rule"] for v in result["violations"]] == ["hop_available"]


def test_downgrade_below_a_newer_controller_manager_is_an_error():
    result = check(cluster("v1.30.2", ["v1.30.6"]), "v1.30.4")
    assert ("no_downgrade", "kube_apiserver", None, "error") in found(result)


def test_hop_missing_from_available_versions():
    result = check(cluster("v1.30.2"), "v1.32.1", ["1.30.2", "1.32.1"])
    assert result["upgrade_path"] == ["v1.31.0", "v1.32.1"]
    assert found(result) == {("hop_available", "kube_apiserver", None, "error")}
    assert "no release of 1.31" in result["violations"][0]["message"]
    assert result["checked_hops"][0]["ok"] is False


def test_target_missing_from_available_versions():
    result = check(cluster("v1.30.2"), "v1.31.9", ["1.31.0", "1.31.2"])
    assert [v["version"] for v in result["violations"]] == ["v1.31.9"]
    assert result["ok"] is False


# -- judged during each hop ----------------------------------------------------------------------------------


def test_kubelet_left_too_far_behind_by_the_first_hop_is_an_error_now():
    result = check(cluster("v1.30.2", kubelet={"old": "v1.27.3", "ok": "v1.29.0"}), "v1.31.2")
    assert result["upgrade_path"] == ["v1.31.2"]
    assert result["checked_hops"] == [{"version": "v1.31.2", "ok": False, "errors": 1}]
    (item,) = result["violations"]
    assert (item["rule"], item["node"], item["version"], item["hop"]) == ("kubelet_skew", "old", "v1.27.3", "v1.31.2")
    assert item["message"].startswith("during hop 1 of 1 (control plane at v1.31.2): kubelet v1.27.3 on node old")
    assert result["ok"] is False


def test_later_hops_see_nodes_upgraded_by_the_previous_hop():
    versions = cluster("v1.30.2", kubelet={"w1": "v1.28.0"}, kube_proxy={"w1": "v1.30.2"}, kubectl="v1.30.0")
    result = check(versions, "v1.32.1")
    # hop 1: kubelet 3 behind (allowed), kubectl 1 behind; hop 2: both at v1.31.0, 1 behind
    assert result["checked_hops"] == [
        {"version": "v1.31.0", "ok": True, "errors": 0},
        {"version": "v1.32.1", "ok": True, "errors": 0},
    ]
    assert result["violations"] == []


def test_kube_proxy_moves_with_the_control_plane():
    versions = cluster("v1.30.2", kubelet={"w1": "v1.27.0"}, kube_proxy={"w1": "v1.27.0"})
    result = check(versions, "v1.31.0")
    assert {(v["rule"], v["hop"]) for v in result["violations"]} == {
        ("kubelet_skew", "v1.31.0"),
        ("kube_proxy_kubelet_skew", "v1.31.0"),
    }
    proxy = next(v for v in result["violations"] if v["component"] == "kube_proxy")
    assert proxy["version"] == "v1.31.0"


def test_kubeadm_moves_with_the_control_plane():
    result = check(cluster("v1.30.2", kubeadm="v1.30.2"), "v1.32.0")
    assert result["violations"] == []


def test_a_problem_is_reported_once_not_per_hop():
    result = check(cluster("v1.30.2", kubelet={"w1": "v1.26.0"}), "v1.33.0")
    assert [(v["rule"], v["hop"]) for v in result["violations"]] == [("kubelet_skew", None)]
    assert [h["errors"] for h in result["checked_hops"]] == [1, 0, 0]


def test_ha_control_plane_is_whole_during_a_hop():
    result = check(cluster(["v1.31.1", "v1.30.2"], ["v1.30.2"], ["v1.30.2"]), "v1.32.0")
    assert result["upgrade_path"] == ["v1.31.1", "v1.32.0"]
    assert result["violations"] == []


# -- input and failing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("versions", "needle"),
    [
        ({"kube_apiserver": ["v1.30.2"], "kubelets": {}}, "unknown key 'kubelets'"),
        ({"kube_apiserver": []}, "versions.kube_apiserver is empty"),
        ({"kube_controller_manager": ["v1.30.2"]}, "versions.kube_apiserver is empty"),
        ({"kube_apiserver": ["v1.30.2"], "kubelet": {"w1": "banana"}}, "versions.kubelet.w1 'banana'"),
        ({"kube_apiserver": ["v1.30.2", "1.x"]}, "versions.kube_apiserver[1] '1.x'"),
        ({"kube_apiserver": ["v1.30.2"], "kubelet": ["v1.30.2"]}, "versions.kubelet ['v1.30.2'] is not a dict"),
        ({"kube_apiserver": {"a": "v1.30.2"}}, "versions.kube_apiserver {'a': 'v1.30.2'} is not a list"),
        ({"kube_apiserver": ["v1.30.2"], "kubectl": "v1.3O.0"}, "versions.kubectl 'v1.3O.0'"),
        ("v1.30.2", "versions 'v1.30.2' is not a dict"),
    ],
)
def test_bad_versions_name_the_value(versions, needle):
    with pytest.raises(InvalidInput) as caught:
        read_versions(versions)
    assert needle in caught.value.message


def test_a_single_string_is_one_instance():
    assert read_versions({"kube_apiserver": "v1.30.2"})["kube_apiserver"] == [(None, parse("v1.30.2"))]


@pytest.mark.parametrize(
    ("target", "available", "needle"),
    [("1.x", None, "target_version '1.x'"), ("v1.31.0", ["1.31.0", "soon"], "available_versions[1] 'soon'")],
)
def test_bad_target_or_available_name_the_value(target, available, needle):
    with pytest.raises(InvalidInput) as caught:
        check(cluster("v1.30.2"), target, available)
    assert needle in caught.value.message


def test_enforce_fails_on_errors_with_one_line_and_the_result():
    result = check(cluster("v1.30.2", kubelet={"w1": "v1.26.0"}, kubectl="v1.33.0"))
    with pytest.raises(SkewViolation) as caught:
        enforce(result)
    message = caught.value.message
    assert message == (
        "version skew: 1 error: kubelet v1.26.0 on node w1 is 4 minors older than kube-apiserver v1.30.2 "
        "(the policy allows 3)"
    )
    assert caught.value.details["ok"] is False
    assert len(caught.value.details["violations"]) == 2
    assert "changed" not in caught.value.details


def test_enforce_ignores_warnings_and_can_be_turned_off():
    warned = check(cluster("v1.30.2", kubectl="v1.33.0"))
    assert warned["ok"] is True
    assert enforce(warned) is warned
    failed = check(cluster("v1.30.2", kubelet={"w1": "v1.26.0"}))
    assert enforce(failed, fail_on_violation=False) is failed


def test_summary_shows_the_first_errors_and_counts_the_rest():
    kubelets = {f"w{i}": "v1.25.0" for i in range(5)}
    line = summary(check(cluster("v1.30.2", kubelet=kubelets)))
    assert line.startswith("version skew: 5 errors: kubelet v1.25.0 on node w0 ")
    assert line.count("kubelet v1.25.0") == 3
    assert line.endswith("; and 2 more (see violations)")


# -- bounds and hostile-but-fair input -----------------------------------------------------------------------


def test_the_longest_path_allowed_is_max_hops():
    target = f"1.{30 + MAX_HOPS}"
    result = check(cluster("v1.30.2"), target)
    assert len(result["upgrade_path"]) == MAX_HOPS
    assert result["upgrade_path"][-1] == f"v1.{30 + MAX_HOPS}.0"


@pytest.mark.parametrize("target", [f"1.{31 + MAX_HOPS}", "1.9999", "v1.9999.0", "1." + "9" * 200])
def test_a_target_too_far_ahead_is_refused_in_one_line_naming_it(target):
    with pytest.raises(InvalidInput) as caught:
        check(cluster("v1.30.2"), target)
    message = caught.value.message
    assert message.startswith(f"target_version {target!r} is ")
    assert f"minors ahead of the cluster's v1.30.2: at most {MAX_HOPS} hops" in message
    assert "\n" not in message


def test_upgrade_path_itself_never_builds_more_than_max_hops():
    with pytest.raises(InvalidInput, match=f"at most {MAX_HOPS} hops"):
        upgrade_path(parse("v1.30.2"), parse("v1.99999999.0"))


def test_a_target_beyond_the_newest_minor_is_refused():
    with pytest.raises(InvalidInput) as caught:
        check(cluster("v1.34.2"), "v1.36.0", newest=parse("1.35"))
    assert caught.value.message == (
        "target_version 'v1.36.0' is beyond the newest released minor v1.35: no such release exists yet"
    )
    assert check(cluster("v1.34.2"), "v1.35.1", newest=parse("1.35"))["upgrade_path"] == ["v1.35.1"]


def test_a_target_of_another_major_is_refused_naming_it():
    with pytest.raises(InvalidInput, match=r"^target_version '2\.0' is not of major 1"):
        check(cluster("v1.34.2"), "2.0")


def test_plan_is_the_path_api_removals_reuses():
    planned = plan(cluster(["v1.31.2", "v1.30.4"]), "1.33")
    assert str(planned.current) == "v1.30.4"
    assert [str(h) for h in planned.hops] == ["v1.31.2", "v1.32.0", "v1.33.0"]
    assert planned.downgrade is False
    assert plan(cluster("v1.31.2"), "1.30").downgrade is True


@pytest.mark.parametrize(
    ("versions", "target", "available", "needle"),
    [
        (
            cluster("v1.30.2"),
            1.3,
            None,
            'target_version 1.3 arrived as a number (YAML reads 1.30 as 1.3): quote it, e.g. "1.30"',
        ),
        (cluster("v1.30.2"), 1.31, None, 'target_version 1.31 arrived as a number: quote it, e.g. "1.31"'),
        (cluster("v1.30.2"), 2, None, "target_version 2 arrived as a number"),
        (cluster("v1.30.2"), "1.31", [1.31], "available_versions[0] 1.31 arrived as a number"),
        ({"kube_apiserver": [1.3]}, None, None, "versions.kube_apiserver[0] 1.3 arrived as a number"),
        ({"kube_apiserver": ["v1.30.2"], "kubelet": {"w1": 1.3}}, None, None, "versions.kubelet.w1 1.3 arrived"),
        ({"kube_apiserver": ["v1.30.2"], "kubectl": 1.3}, None, None, "versions.kubectl 1.3 arrived as a number"),
    ],
)
def test_numbers_get_the_quote_it_hint(versions, target, available, needle):
    with pytest.raises(InvalidInput) as caught:
        check(versions, target, available)
    assert needle in caught.value.message


def test_run_checks_every_option_before_reading_the_cluster():
    reads = []

    def read_cluster():
        reads.append(True)
        return cluster("v1.30.2")

    for params in (
        {"target_version": "1.x"},
        {"available_versions": ["soon"]},
        {"newest_minor": 1.35},
        {"repo_base_url": "file:///etc/passwd"},
        {"probe_timeout": -1},
    ):
        with pytest.raises(InvalidInput):
            run(params, read_cluster)
    assert reads == []


def test_run_refuses_a_far_target_before_any_probe():
    asked = []

    def opener(url, timeout):
        asked.append(url)
        return 200

    with pytest.raises(InvalidInput, match="9969 minors ahead"):
        run({"target_version": "1.9999", "probe_newest_minor": True}, lambda: cluster("v1.30.2"), opener)
    assert asked == []


def test_run_probes_only_when_asked_and_reports_the_support_window():
    asked = []

    def opener(url, timeout):
        asked.append(url)
        return 200 if "/v1.34/" in url or "/v1.35/" in url else 403

    offline = run({"target_version": "1.35"}, lambda: cluster("v1.34.2"), opener)
    assert offline["support"] is None
    assert asked == []
    probed = run({"target_version": "1.35", "probe_newest_minor": True}, lambda: cluster("v1.34.2"), opener)
    assert len(asked) == 3  # v1.34, v1.35, and v1.36: the first 403
    assert (
        probed["support"]["summary"] == "v1.34 is supported until v1.37 is released; 1 minor behind the newest (v1.35)"
    )
    assert probed["support"]["source"] == "probe"
    assert probed["support"]["target_supported"] is True
    with pytest.raises(InvalidInput, match=r"'1\.36' is beyond the newest released minor v1\.35"):
        run({"target_version": "1.36", "probe_newest_minor": True}, lambda: cluster("v1.34.2"), opener)


def test_newest_minor_skips_the_probe():
    def opener(url, timeout):
        raise AssertionError("no probe when newest_minor is given")

    result = run({"newest_minor": "1.35", "probe_newest_minor": True}, lambda: cluster("v1.31.2"), opener)
    assert result["support"]["source"] == "newest_minor"
    assert result["support"]["supported"] is False
    assert result["support"]["minors_behind"] == 4
