"""version_skew run ad hoc the way users run it (``ansible localhost -m``), on offline versions."""

from __future__ import annotations

import pytest
from ansible_run import run_module

CONTROL_PLANE = {
    "kube_apiserver": ["v1.32.1", "v1.32.1"],
    "kube_controller_manager": ["v1.32.1", "v1.32.1"],
    "kube_scheduler": ["v1.32.1", "v1.32.1"],
}


def test_a_clean_cluster_is_ok():
    versions = {
        **CONTROL_PLANE,
        "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.31.4"},
        "kube_proxy": {"cp-1": "v1.32.1", "worker-1": "v1.32.1"},
        "kubectl": "v1.32.0",
        "kubeadm": "v1.32.1",
    }
    result = run_module("version_skew", {"versions": versions})
    assert (result.get("failed"), result["ok"], result["violations"]) == (None, True, [])


def test_a_target_three_minors_ahead_is_three_judged_hops():
    versions = {**CONTROL_PLANE, "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.30.9"}}
    available = ["1.33.0-1.1", "1.33.7-1.1", "1.34.3-1.1", "1.34.4-1.1", "1.35.0-1.1", "1.35.2-1.1"]
    args = {"versions": versions, "target_version": "v1.35.2", "available_versions": available}
    result = run_module("version_skew", {**args, "fail_on_violation": False})
    assert result["upgrade_path"] == ["v1.33.7", "v1.34.4", "v1.35.2"] and result["ok"] is True, result


def test_a_kubelet_the_first_hop_leaves_too_far_behind_is_refused_before_anything():
    versions = {**CONTROL_PLANE, "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.29.8"}}
    args = {"versions": versions, "target_version": "1.33", "available_versions": ["1.33.0-1.1", "1.33.7-1.1"]}
    result = run_module("version_skew", args)
    assert result["failed"] is True and result["msg"].startswith("version skew: 1 error: during hop 1 of 1"), result
    assert "kubelet v1.29.8 on node worker-1 is 4 minors older" in result["msg"]


@pytest.mark.parametrize(
    "args, message",
    [
        (
            {"versions": {**CONTROL_PLANE, "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.28.15"}}},
            "kubelet v1.28.15 on node worker-1 is 4 minors older than kube-apiserver v1.32.1 (the policy allows 3)",
        ),
        (
            {"versions": CONTROL_PLANE, "target_version": "v1.31.4"},
            "target_version v1.31.4 is older than the control plane's v1.32.1: downgrades are not supported",
        ),
        ({"versions": CONTROL_PLANE, "target_version": "1.x"}, "target_version '1.x' is not a Kubernetes version"),
        ({"versions": {**CONTROL_PLANE, "kubelet": {"worker-1": "banana"}}}, "versions.kubelet.worker-1 'banana'"),
    ],
)
def test_refusals_are_one_line_naming_the_value(args, message):
    result = run_module("version_skew", args)
    assert result["failed"] is True and message in result["msg"] and "\n" not in result["msg"], result
