"""The api_removals module end to end: argument spec, result, warnings, the failure line, the live read's wiring."""

from __future__ import annotations

import json

import pytest

try:
    from ansible.module_utils import _internal as ansible_internal  # ansible-core 2.18 and later
except ImportError:
    ansible_internal = None

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s import connection
from ansible_collections.cluster_ops.kubeadm.plugins.modules import api_removals
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.removals.removals_fake import (
    FakeApiServer,
    applied,
    helm_secret,
    serve_helm,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.modules.module_args import patch_module_args

PDB = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: shop\n"


def run(capsys, args):
    with patch_module_args(args), pytest.raises(SystemExit):
        api_removals.main()
    return json.loads(capsys.readouterr().out)


def warnings_of(result):
    """The warning texts (ansible-core 2.19 returns them as WarningSummary objects, older versions as strings)."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]


@pytest.fixture
def gitops(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "pdb.yaml").write_text(PDB)
    (tmp_path / "shop" / "values.yaml").write_text("replicas: 2\n")
    return tmp_path


def test_a_gitops_checkout_without_a_cluster(capsys, gitops, monkeypatch):
    # Once controller code is imported (the filter tests do), ansible-core 2.19 sends warnings to the display, not
    # the result; earlier releases have no is_controller and always return them in the result.
    if ansible_internal is not None:
        monkeypatch.setattr(ansible_internal, "is_controller", False, raising=False)
    result = run(capsys, {"current_version": "1.24", "target_version": "1.26", "manifest_paths": [str(gitops)]})
    assert "failed" not in result
    assert result["changed"] is False
    assert result["path"] == ["v1.25.0", "v1.26.0"]
    assert [(f["file"], f["document"], f["kind"]) for f in result["findings"]] == [
        (str(gitops / "shop" / "pdb.yaml"), 0, "PodDisruptionBudget")
    ]
    assert result["by_hop"]["v1.25.0"] == result["findings"]
    assert result["counts"]["manifests"] == 1
    assert warnings_of(result) == [
        f"api_removals: ignored in {gitops / 'shop' / 'values.yaml'}: document 0 has no apiVersion and kind"
    ]


def test_fail_on_findings_is_one_line_with_every_object_in_lines(capsys, gitops):
    args = {"current_version": "v1.24.3", "target_version": "1.26", "manifest_paths": [str(gitops)]}
    result = run(capsys, {**args, "fail_on_findings": True})
    assert result["failed"] is True
    assert result["msg"] == (
        "api_removals: 1 object uses API versions removed on the way from v1.24.3 to v1.26.0: "
        + result["lines"][0].partition("; also: ")[0]
    )
    assert result["lines"][0].startswith(
        f"manifests: policy/v1beta1 PodDisruptionBudget shop/web ({gitops / 'shop' / 'pdb.yaml'}, document 0), "
        "removed in v1.25: use policy/v1; also: an empty spec.selector"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"target_version": 1.3, "current_version": "1.29", "manifest_paths": ["."]},
            'target_version 1.3 arrived as a number (YAML reads 1.30 as 1.3): quote it, e.g. "1.30"',
        ),
        (
            {"target_version": "1.33", "current_version": 1.3, "manifest_paths": ["."]},
            'current_version 1.3 arrived as a number (YAML reads 1.30 as 1.3): quote it, e.g. "1.30"',
        ),
        (
            {"target_version": "1.9999", "current_version": "1.30", "manifest_paths": ["."]},
            "target_version '1.9999' is 9969 minors ahead of the cluster's v1.30: at most 12 hops are planned at "
            "once (upgrade in stages, or check the value)",
        ),
        ({"target_version": "1.33", "sources": ["git"]}, "value of sources must be one or more of"),
        ({"current_version": "1.30"}, "missing required arguments: target_version"),
    ],
)
def test_bad_values_fail_in_one_line_naming_them(capsys, args, message):
    result = run(capsys, args)
    assert result["failed"] is True
    assert message in result["msg"]
    assert "\n" not in result["msg"]
    assert "Traceback" not in json.dumps(result)


def test_the_live_scan_reads_versions_then_the_sources(capsys, monkeypatch):
    server = FakeApiServer(metrics="")
    server.lists["/apis/policy/v1/poddisruptionbudgets"] = [applied("policy/v1beta1", "PodDisruptionBudget", "db", "a")]
    serve_helm(server, [helm_secret("shop", "web", 2, "---\n# Source: web/templates/pdb.yaml\n" + PDB)])
    clients = []

    def cluster_versions(client):
        clients.append(client)
        return {"kube_apiserver": ["v1.24.9"], "kubelet": {"w1": "v1.24.9"}}

    monkeypatch.setattr(connection, "HAS_KUBERNETES", True)
    monkeypatch.setattr(api_removals, "api_client", lambda params: server.client())
    monkeypatch.setattr(api_removals, "cluster_versions", cluster_versions)
    result = run(capsys, {"kubeconfig": "/tmp/admin.conf", "target_version": "1.25"})
    assert len(clients) == 1
    assert [(f["source"], f["name"]) for f in result["findings"]] == [("last_applied", "db"), ("helm", "web")]
    assert result["sources"]["metrics"]["read"] is True
    assert result["sources"]["manifests"]["read"] is False
    assert result["findings"][1]["release"] == "shop/web"
    assert result["findings"][1]["revision"] == 2


def test_check_mode_is_the_same_run(capsys, gitops):
    args = {"current_version": "1.24", "target_version": "1.26", "manifest_paths": [str(gitops)]}
    normal = run(capsys, args)
    checked = run(capsys, {**args, "_ansible_check_mode": True})
    assert checked["findings"] == normal["findings"]
    assert checked["changed"] is False
