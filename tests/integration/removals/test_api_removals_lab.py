"""api_removals against the lab: what a cluster upgraded for years still holds, and a clean cluster.

A host-mode lab whose components report v1.24.17 is seeded with ``legacy-apis``: a Helm 3 release whose latest
revision uses policy/v1beta1 PodDisruptionBudget, batch/v1beta1 CronJob and extensions/v1beta1 Ingress, objects
whose last-applied-configuration names removed versions, and requests of deprecated APIs. A scan towards v1.26
must find what v1.25 and v1.26 remove, from the Helm release and the annotations; the metric is read too (the
lab's deprecated APIs, v1 ComponentStatus and Endpoints, have no removal release, so it yields none).
"""

from __future__ import annotations

import subprocess
import time

import pytest
from ansible_run import run_module
from lab_handle import LabHandle


@pytest.fixture(scope="module")
def old_lab(tmp_path_factory):
    handle = LabHandle(tmp_path_factory.mktemp("removals-lab"))
    try:
        handle.labctl("up", "--mode", "host", "--nodes", "2", "--version", "1.24.17", timeout=120)
        handle.labctl("seed", "--profile", "base", timeout=180)
        handle.labctl("seed", "--profile", "legacy-apis", timeout=180)
        handle.reload()
        yield handle
    finally:
        handle.labctl("down", check=False, timeout=120)


def scan(lab, target: str, **extra) -> dict:
    return run_module("api_removals", {"kubeconfig": lab.kubeconfig, "target_version": target, **extra})


def test_the_seeded_objects_are_found_for_the_hop_that_removes_them(old_lab):
    started = time.monotonic()
    result = scan(old_lab, "1.26")
    took = time.monotonic() - started
    assert not result.get("failed"), result
    assert result["path"] == ["v1.25.0", "v1.26.0"]
    found = {(f["source"], f["kind"], f["api_version"], f["removed_in"]) for f in result["findings"]}
    assert ("helm", "PodDisruptionBudget", "policy/v1beta1", "v1.25") in found, found
    assert ("helm", "CronJob", "batch/v1beta1", "v1.25") in found, found
    assert ("last_applied", "PodDisruptionBudget", "policy/v1beta1", "v1.25") in found, found
    assert result["counts"] == {"helm": 2, "last_applied": 1, "manifests": 0, "metrics": 0, "total": 3}
    assert all(f["replacement"] for f in result["findings"])
    # The superseded Helm revision (apps/v1beta2 Deployment) does not count: only the latest revision does.
    assert not any(f["source"] == "helm" and f["api_version"] == "apps/v1beta2" for f in result["findings"])
    # Ingress extensions/v1beta1 went in 1.22, before this cluster: already broken, not a finding of the path.
    assert any(f["api_version"] == "extensions/v1beta1" for f in result["already_removed"]), result["already_removed"]
    assert result["sources"]["metrics"]["read"] is True
    assert took < 60


def test_failing_on_findings_names_them_in_one_line(old_lab):
    result = scan(old_lab, "1.26", fail_on_findings=True)
    assert result["failed"] and "\n" not in result["msg"] and "policy/v1beta1 PodDisruptionBudget" in result["msg"]


def test_a_clean_cluster_reports_nothing(lab):
    result = scan(lab, "1.37")
    assert not result.get("failed") and result["findings"] == [] and result["counts"]["total"] == 0, result


def test_kubectl_reads_the_same_release_secret(old_lab, kubectl):
    """The Helm release is a real Secret of type helm.sh/release.v1 with Helm's labels."""
    out = subprocess.run(
        [kubectl, "--kubeconfig", old_lab.kubeconfig, "get", "secrets", "-A", "-l", "owner=helm", "-o", "name"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(out.stdout.split()) == 2  # two revisions
