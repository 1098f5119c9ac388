"""upgrade_serial: auto on one control plane and three workers: batches planned from the budgets, planned again
before each batch, no budget ever broken, the rollout report drawn; then os_patch_serial: auto, whose first batch
fails and stops the rollout.

Workloads (namespace ``auto``): app ``tight`` has one pod on worker-1 and one on worker-2 (two Deployments, each made
while the other workers were cordoned) behind a budget of maxUnavailable 1; ``free`` has three pods and no budget.
So worker-1 and worker-2 conflict, worker-3 conflicts with nothing: the plan is worker-1 with worker-3, then
worker-2 (the greedy order takes the most conflicting nodes first, by name).
"""

from __future__ import annotations

import json
import sys
import time

import pytest

from playbooks import REPO, playbook, versions

sys.path.insert(0, str(REPO / "tests" / "integration" / "drain"))
sys.path.insert(0, str(REPO / "tests" / "integration" / "report"))

from chromium_page import check_page
from workload import BudgetWatcher, Cluster, wait_for

LAB_ARGS = ("--control-planes", "1", "--workers", "3", "--version", "1.35.2")
WORKERS = ["worker-1", "worker-2", "worker-3"]
FAULT = "/etc/systemd/system/kubelet.service.d/90-lab-fault.conf"


@pytest.fixture(scope="module")
def workloads(nodes_lab):
    cluster = Cluster(nodes_lab.kubeconfig)
    cluster.namespace("auto")
    for name, node in (("tight-a", "worker-1"), ("tight-b", "worker-2")):
        cluster.pinned_deployment("auto", name, node, [w for w in WORKERS if w != node], app="tight")
    cluster.pdb_create("auto", "tight", "tight", max_unavailable=1)
    cluster.deployment("auto", "free", 3)
    wait_for("the budget to allow one", lambda: cluster.pdb("auto", "tight")["status"].get("disruptionsAllowed") == 1)
    with BudgetWatcher(cluster, "auto", {"tight": 1}, interval=0.2) as watcher:
        yield watcher
    assert watcher.samples > 50


def test_auto_rolls_the_workers_in_planned_batches_and_draws_the_report(nodes_lab, workloads, tmp_path):
    report_dir = tmp_path / "report"
    artifacts = tmp_path / "artifacts"
    env = {
        "ANSIBLE_CALLBACKS_ENABLED": "cluster_ops.kubeadm.rollout_report",
        "CLUSTER_OPS_ROLLOUT_REPORT_DIR": str(report_dir),
        "AWX_ISOLATED_DATA_DIR": str(artifacts),  # as ansible-runner sets it
    }
    started = time.monotonic()
    run = playbook(nodes_lab, "upgrade", {"kubernetes_version": "1.36", "upgrade_serial": "auto"}, env=env)
    assert run.returncode == 0, run.output[-6000:]
    state = versions(nodes_lab)
    assert set(state["kubelet"].values()) == {"v1.36.3"} and not any(state["unschedulable"].values())
    assert workloads.violations == {}, workloads.minimum

    report = json.loads((report_dir / "rollout-report.json").read_text())
    assert json.loads((artifacts / "rollout_report.json").read_text()) == report
    plans = report["summary"]["plans"]
    assert plans[0]["batches"] == [["worker-1", "worker-3"], ["worker-2"]]
    assert plans[0]["splits"][0]["reason"] == "budget" and plans[0]["splits"][0]["by"] == "auto/tight"
    assert [plan["next"] for plan in plans] == [["worker-1", "worker-3"], ["worker-2"]]  # planned again, in between
    workers = [batch["nodes"] for batch in report["batches"] if batch["nodes"] != ["cp-1"]]
    assert workers == [["worker-1", "worker-3"], ["worker-2"]]
    drains = {node: next(e for e in report["nodes"][node] if e["phase"] == "drain") for node in WORKERS}
    assert (
        drains["worker-1"]["start"] < drains["worker-3"]["end"]
        and drains["worker-3"]["start"] < drains["worker-1"]["end"]
    )
    for node in WORKERS:
        phases = [entry["phase"] for entry in report["nodes"][node]]
        assert phases == ["drain", "packages", "kubeadm", "packages", "restart", "wait", "uncordon"], (node, phases)
    assert report["summary"]["versions_after"] == {name: "v1.36.3" for name in ["cp-1", *WORKERS]}
    assert report["summary"]["etcd_snapshot"]["sha256"]
    assert report["ok"] is True and report["duration"] <= time.monotonic() - started
    check_page(report, report_dir / "rollout-report.html", tmp_path / "report.png")


def test_os_patching_in_planned_batches_stops_at_a_failing_batch(nodes_lab, workloads, tmp_path):
    """Every node has an OS update (the lab's lab-kernel 1.1, which asks for a reboot); the workers' kubelets will not
    start again after theirs, so the first planned batch fails waiting for its nodes and nothing else is touched."""
    drop_in = "[Service]\\nExecStartPre=/bin/false\\n"
    for node in WORKERS:  # whichever batch comes first fails
        nodes_lab.ssh(node, f"mkdir -p {FAULT.rsplit('/', 1)[0]} && printf '{drop_in}' > {FAULT}")
    env = {
        "ANSIBLE_CALLBACKS_ENABLED": "cluster_ops.kubeadm.rollout_report",
        "CLUSTER_OPS_ROLLOUT_REPORT_DIR": str(tmp_path),
    }
    extra = {"os_patch_serial": "auto", "os_upgrade_wait_timeout": 15}
    run = playbook(nodes_lab, "os_patch", extra, env=env)
    assert run.returncode != 0
    failures = run.failures()
    assert any("stays cordoned" in f for f in failures), failures
    report = json.loads((tmp_path / "rollout-report.json").read_text())
    plans = report["summary"]["plans"]
    first = plans[0]["next"]
    assert report["ok"] is False and len(plans) == 1 and len(first) >= 1  # never planned again
    assert [p["rollout"] for p in plans] == ["os-patch"]
    for node in first:
        assert [e["phase"] for e in report["nodes"][node]] == ["drain", "packages", "reboot", "wait"], report["nodes"][
            node
        ]
        assert report["nodes"][node][-1]["status"] == "failed"
    state = versions(nodes_lab)
    assert sorted(n for n in WORKERS if state["unschedulable"][n]) == first  # the first batch stays cordoned
    for node in set(WORKERS) - set(first):  # the rest never started
        patched = nodes_lab.ssh(node, "dpkg-query -W -f '${Version}' lab-kernel").stdout
        assert not patched.startswith("1.1") and not state["unschedulable"][node], (node, patched)
    assert "PLAY [Report]" not in run.output
    assert workloads.violations == {}, workloads.minimum
