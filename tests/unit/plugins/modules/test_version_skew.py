"""The version_skew module end to end: argument spec, result, failure line, and the live read's wiring."""

from __future__ import annotations

import json
import types

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s import connection
from ansible_collections.cluster_ops.kubeadm.plugins.modules import version_skew
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.modules.module_args import patch_module_args

FACTS_MODULE = "ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.info"


def run(capsys, args):
    """Run the module's main with ``args``; its JSON result."""
    with patch_module_args(args), pytest.raises(SystemExit):
        version_skew.main()
    return json.loads(capsys.readouterr().out)


def control_plane(version):
    return {"kube_apiserver": [version], "kube_controller_manager": [version], "kube_scheduler": [version]}


def test_clean_cluster(capsys):
    result = run(capsys, {"versions": {**control_plane("v1.32.1"), "kubelet": {"w1": "1.32.1-1.1"}}})
    assert result["ok"] is True
    assert result["changed"] is False
    assert result["violations"] == []
    assert result["current"]["kubelet"] == {"w1": "v1.32.1"}
    assert "failed" not in result


def test_target_three_minors_ahead(capsys):
    result = run(
        capsys,
        {
            "versions": control_plane("v1.30.2"),
            "target_version": "v1.33.2",
            "available_versions": ["1.31.4-1.1", "1.31.9-1.1", "1.32.3-1.1", "1.33.2-1.1"],
        },
    )
    assert result["upgrade_path"] == ["v1.31.9", "v1.32.3", "v1.33.2"]
    assert [hop["ok"] for hop in result["checked_hops"]] == [True, True, True]


def test_error_fails_with_one_line_and_the_details(capsys):
    result = run(capsys, {"versions": {**control_plane("v1.32.1"), "kubelet": {"w1": "v1.28.3"}}})
    assert result["failed"] is True
    assert result["msg"] == (
        "version skew: 1 error: kubelet v1.28.3 on node w1 is 4 minors older than kube-apiserver v1.32.1 "
        "(the policy allows 3)"
    )
    assert result["ok"] is False
    assert [v["rule"] for v in result["violations"]] == ["kubelet_skew"]


def test_fail_on_violation_false_reports_without_failing(capsys):
    args = {"versions": {**control_plane("v1.32.1"), "kubelet": {"w1": "v1.28.3"}}, "fail_on_violation": False}
    result = run(capsys, args)
    assert "failed" not in result
    assert result["ok"] is False
    assert result["violations"][0]["node"] == "w1"


def test_warning_does_not_fail(capsys):
    result = run(capsys, {"versions": {**control_plane("v1.32.1"), "kubectl": "v1.29.0"}})
    assert "failed" not in result
    assert result["ok"] is True
    assert [(v["rule"], v["severity"]) for v in result["violations"]] == [("kubectl_skew", "warning")]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"target_version": "1.x", "versions": control_plane("v1.32.1")}, "target_version '1.x'"),
        ({"versions": {**control_plane("v1.32.1"), "kubelets": {"w1": "v1.32.1"}}}, "versions.kubelets"),
        ({"versions": {**control_plane("v1.32.1"), "kubelet": {"w1": "banana"}}}, "versions.kubelet.w1 'banana'"),
        ({"versions": {"kubelet": {"w1": "v1.32.1"}}}, "versions.kube_apiserver is empty"),
        ({"versions": control_plane("v1.32.1"), "available_versions": ["v1.33.0", "next"]}, "'next'"),
    ],
)
def test_bad_input_is_one_line_naming_the_value(capsys, args, needle):
    result = run(capsys, args)
    assert result["failed"] is True
    assert needle in result["msg"]
    assert "\n" not in result["msg"]
    assert "Traceback" not in json.dumps(result)


def test_without_versions_reads_the_cluster(capsys, monkeypatch):
    clients = []

    def skew_versions(api_client):
        clients.append(api_client)
        return {**control_plane("v1.34.4"), "kubelet": {"cp-1": "v1.34.4", "w1": "v1.31.0"}, "kube_proxy": {}}

    monkeypatch.setitem(__import__("sys").modules, FACTS_MODULE, types.SimpleNamespace(skew_versions=skew_versions))
    monkeypatch.setattr(connection, "HAS_KUBERNETES", True)
    monkeypatch.setattr(version_skew, "api_client", lambda params: ("client for", params["kubeconfig"]))
    result = run(capsys, {"kubeconfig": "/tmp/admin.conf", "target_version": "v1.35.1"})
    assert clients == [("client for", "/tmp/admin.conf")]
    assert result["current"]["kubelet"] == {"cp-1": "v1.34.4", "w1": "v1.31.0"}
    assert result["failed"] is True
    assert result["msg"].startswith(
        "version skew: 1 error: during hop 1 of 1 (control plane at v1.35.1): kubelet v1.31.0"
    )


def test_reads_recorded_cluster_json_through_cluster_info(capsys, monkeypatch):
    fake = pytest.importorskip(
        "ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.cluster.cluster_info_fake",
        reason="cluster_info' recorded API fixtures are not there",
    )
    server = fake.FakeApiServer("midupgrade")
    monkeypatch.setattr(version_skew, "api_client", lambda params: server.client())
    result = run(capsys, {"host": "https://10.0.0.11:6443", "api_key": "fixture-token", "fail_on_violation": False})
    assert result["current"]["kube_apiserver"] == ["v1.35.2", "v1.34.4"]
    assert result["cluster_version"] == "v1.34.4"
    # cp-1 already upgraded to 1.35, cp-2 still 1.34: everything on 1.35 is newer than cp-2's apiserver
    assert {(v["rule"], v["node"]) for v in result["violations"]} == {
        ("controller_manager_skew", None),
        ("scheduler_skew", None),
        ("kubelet_skew", "cp-1"),
        ("kube_proxy_skew", "cp-1"),
        ("kube_proxy_skew", "cp-2"),
        ("kube_proxy_skew", "worker-2"),
    }
    assert result["ok"] is False
    assert {request[0] for request in server.requests} == {
        "/api/v1/nodes",
        "/api/v1/namespaces/kube-system/pods",
        "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"target_version": 1.3, "versions": control_plane("v1.30.2")},
            'target_version 1.3 arrived as a number (YAML reads 1.30 as 1.3): quote it, e.g. "1.30"',
        ),
        (
            {"versions": {"kube_apiserver": [1.3]}},
            'versions.kube_apiserver[0] 1.3 arrived as a number (YAML reads 1.30 as 1.3): quote it, e.g. "1.30"',
        ),
        (
            {"versions": {**control_plane("v1.30.2"), "kubectl": 1.3}},
            'versions.kubectl 1.3 arrived as a number (YAML reads 1.30 as 1.3): quote it, e.g. "1.30"',
        ),
        (
            {"versions": control_plane("v1.30.2"), "available_versions": [1.31]},
            'available_versions[0] 1.31 arrived as a number: quote it, e.g. "1.31"',
        ),
        (
            {"versions": control_plane("v1.30.2"), "newest_minor": 1.35},
            'newest_minor 1.35 arrived as a number: quote it, e.g. "1.35"',
        ),
        (
            {"versions": control_plane("v1.30.2"), "target_version": "1.9999"},
            "target_version '1.9999' is 9969 minors ahead of the cluster's v1.30.2: at most 12 hops are planned "
            "at once (upgrade in stages, or check the value)",
        ),
        (
            {"versions": control_plane("v1.34.2"), "target_version": "1.37", "newest_minor": "1.35"},
            "target_version '1.37' is beyond the newest released minor v1.35: no such release exists yet",
        ),
        (
            {"versions": control_plane("v1.34.2"), "repo_base_url": "pkgs.k8s.io"},
            "repo_base_url 'pkgs.k8s.io' is not an http(s) URL: give e.g. 'https://pkgs.k8s.io/core:/stable:'",
        ),
    ],
)
def test_hostile_but_fair_values_are_refused_in_one_line(capsys, args, message):
    result = run(capsys, args)
    assert result["failed"] is True
    assert result["msg"] == message


def test_a_number_is_refused_before_the_cluster_is_read(capsys, monkeypatch):
    monkeypatch.setattr(connection, "HAS_KUBERNETES", True)
    monkeypatch.setattr(version_skew, "cluster_versions", lambda params: pytest.fail("the cluster was read"))
    result = run(capsys, {"kubeconfig": "/tmp/admin.conf", "target_version": 1.3})
    assert result["msg"].startswith("target_version 1.3 arrived as a number")


def test_support_from_a_probe_of_a_local_repository(capsys):
    from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.versions.repo_server import (
        RepoServer,
        serve,
    )

    with serve(RepoServer(range(33, 38))) as repo:
        result = run(
            capsys,
            {
                "versions": control_plane("v1.34.2"),
                "target_version": "1.35",
                "probe_newest_minor": True,
                "repo_base_url": repo.base_url,
                "probe_timeout": 5,
            },
        )
    assert "failed" not in result
    assert result["support"]["newest_minor"] == "v1.37"
    assert result["support"]["summary"] == (
        "v1.34 is no longer supported (since v1.37 was released); 3 minors behind the newest (v1.37), "
        "the supported minors are v1.35, v1.36, v1.37"
    )
    assert result["support"]["supported"] is False
    assert [p["status"] for p in result["support"]["probes"]] == [200, 200, 200, 200, 403]
    assert result["upgrade_path"] == ["v1.35.0"]


def test_no_probe_without_asking(capsys):
    result = run(capsys, {"versions": control_plane("v1.34.2"), "repo_base_url": "http://127.0.0.1:9/core:/stable:"})
    assert result["support"] is None
    assert "failed" not in result
