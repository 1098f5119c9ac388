"""v1.35 to v1.36 on three control planes behind haproxy and two workers running workloads behind budgets.

No budget is ever broken and every Deployment keeps its available replicas (sampled the whole time); a worker
whose kubelet does not come back stops the rollout, named, and stays cordoned; once the fault is cleared a re-run
completes, and a third changes nothing.
"""

from __future__ import annotations

import pytest

from playbooks import REPO, playbook, versions

LAB_ARGS = ("--control-planes", "3", "--workers", "2", "--version", "1.35.2")
FAULT = "/etc/systemd/system/kubelet.service.d/90-lab-fault.conf"
# The apps profile's budgets: the fewest Ready pods each allows (minAvailable, or replicas - maxUnavailable).
REQUIRED = {"web": 2, "api": 3, "cache": 1, "queue": 1, "db": 2}


@pytest.fixture(scope="module")
def workloads(nodes_lab):
    nodes_lab.labctl("seed", "--profile", "apps", timeout=300)
    nodes_lab.kubectl("delete", "pod", "-n", "apps", "standalone", "--wait=true")  # nothing would recreate it
    import sys

    sys.path.insert(0, str(REPO / "tests" / "integration" / "drain"))
    from workload import BudgetWatcher, Cluster

    with BudgetWatcher(Cluster(nodes_lab.kubeconfig), "apps", REQUIRED, interval=0.2) as watcher:
        yield watcher
    assert watcher.samples > 100


UPGRADE = {"kubernetes_version": "1.36", "upgrade_delete_emptydir_data": True}


def test_a_kubelet_that_does_not_come_back_stops_the_rollout_naming_it(nodes_lab, workloads):
    # A drop-in the next start of the kubelet trips over, as a broken configuration would.
    drop_in = "[Service]\\nExecStartPre=/bin/false\\n"
    nodes_lab.ssh("worker-1", f"mkdir -p {FAULT.rsplit('/', 1)[0]} && printf '{drop_in}' > {FAULT}")
    run = playbook(nodes_lab, "upgrade", UPGRADE)
    assert run.returncode != 0
    assert any(f.startswith('worker-1 stays cordoned: "Restart the kubelet') for f in run.failures()), run.failures()
    state = versions(nodes_lab)
    assert state["static_pods"] == ["v1.36.3"] * 6  # the control planes were done first
    assert state["unschedulable"]["worker-1"] is True, state
    assert state["kubelet"]["worker-2"] == "v1.35.2", run.output[-8000:]  # the rollout stopped at worker-1
    assert workloads.violations == {}, workloads.minimum


def test_once_the_fault_is_cleared_a_re_run_completes(nodes_lab, workloads):
    nodes_lab.ssh("worker-1", f"rm {FAULT} && systemctl daemon-reload && systemctl restart kubelet")
    run = playbook(nodes_lab, "upgrade", UPGRADE)
    assert run.returncode == 0, run.output[-6000:]
    state = versions(nodes_lab)
    assert set(state["kubelet"].values()) == {"v1.36.3"} and state["kubeadm_config"] == "v1.36.3"
    assert state["kube_proxy"].endswith(":v1.36.3") and not any(state["unschedulable"].values()), state
    coredns = nodes_lab.get("deployment", "-n", "kube-system", "coredns")
    assert coredns["status"]["availableReplicas"] == coredns["spec"]["replicas"]
    assert workloads.violations == {}, workloads.minimum


def test_a_third_run_changes_nothing(nodes_lab, workloads):
    run = playbook(nodes_lab, "upgrade", UPGRADE)
    assert run.returncode == 0 and run.changed == 0, run.recap
    assert workloads.violations == {}, workloads.minimum
