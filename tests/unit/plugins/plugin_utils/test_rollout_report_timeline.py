"""The rollout report: which phase a task is, how tasks become bars, batches and the summary."""

from __future__ import annotations

import json

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.page import render
from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.phases import phase_of
from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.timeline import Timeline


@pytest.mark.parametrize(
    ("action", "args", "name", "role", "phase"),
    [
        ("cluster_ops.kubeadm.node_drain", {"node": "w", "state": "drain"}, "Drain", "node_maintenance", "drain"),
        ("cluster_ops.kubeadm.node_drain", {"node": "w"}, "Drain", "", "drain"),
        ("cluster_ops.kubeadm.node_drain", {"state": "uncordon"}, "Uncordon the node", "node_maintenance", "uncordon"),
        ("cluster_ops.kubeadm.node_wait", {}, "Wait until the node is Ready", "node_maintenance", "wait"),
        ("ansible.builtin.reboot", {}, "Reboot", "os_upgrade", "reboot"),
        ("ansible.builtin.command", {"argv": ["kubeadm"]}, "Run kubeadm upgrade node", "node_upgrade", "kubeadm"),
        ("ansible.builtin.command", {}, "Run kubeadm upgrade apply", "control_plane_upgrade", "kubeadm"),
        ("ansible.builtin.command", {}, "Ask kubeadm for its version", "preflight", None),
        ("ansible.builtin.systemd_service", {"name": "kubelet", "state": "restarted"}, "Restart", "", "restart"),
        ("ansible.builtin.systemd_service", {"name": "etcd", "state": "restarted"}, "Restart", "", None),
        ("ansible.builtin.apt", {"name": ["kubeadm=1.36.3-1.1"]}, "Install", "kubernetes_packages", "packages"),
        ("ansible.builtin.apt", {"upgrade": "dist"}, "Upgrade the packages", "os_upgrade", "packages"),
        ("ansible.builtin.apt", {"update_cache": True}, "Refresh the package lists", "os_upgrade", None),
        ("ansible.builtin.apt", {"name": "htop"}, "Install htop", "", None),
        ("ansible.builtin.set_fact", {}, "Mark kubeadm done", "node_upgrade", None),
    ],
)
def test_the_phase_of_a_task(action, args, name, role, phase):
    assert phase_of(action, args, name, role) == phase


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def step(timeline: Timeline, clock: Clock, host: str, task: str, phase, seconds: float, **kwargs) -> None:
    timeline.task_start(host, task)
    clock.now += seconds
    timeline.task_end(host, task, phase, kwargs.pop("status", "ok"), kwargs.pop("detail", None))


def test_tasks_of_one_phase_in_a_row_are_one_bar_and_skipped_tasks_none():
    clock = Clock()
    timeline = Timeline(clock)
    timeline.play_start("workers")
    step(timeline, clock, "w1", "a", "packages", 2)
    step(timeline, clock, "w1", "b", None, 1)  # a fact between two package tasks
    step(timeline, clock, "w1", "c", "packages", 3)
    step(timeline, clock, "w1", "d", "restart", 1, status="failed")
    timeline.task_start("w1", "e")
    timeline.task_end("w1", "e", None, "skipped")
    assert timeline.nodes["w1"] == [
        {"phase": "packages", "start": 100.0, "end": 106.0, "status": "ok", "segment": 1},
        {"phase": "restart", "start": 106.0, "end": 107.0, "status": "failed", "segment": 1},
    ]


def test_batches_are_the_nodes_drained_within_one_play_start_and_the_summary_counts_the_drains():
    clock = Clock()
    timeline = Timeline(clock)
    drained = {
        "evicted": ["apps/web-1", "kube-system/coredns-1"],
        "retries": {"total": 3, "pdbs": {"apps/web": 3}},
        "timings": {"evict": 1.0},
    }
    for segment, nodes in enumerate((["w2", "w1"], ["w3"]), 1):
        timeline.play_start(f"batch play {segment}")
        for node in nodes:
            step(timeline, clock, node, "drain", "drain", 5, detail=drained)
            step(timeline, clock, node, "up", "uncordon", 1)
    stats = {
        "upgrade": {"versions_before": {"w1": "v1.35.2"}, "versions_after": {"w1": "v1.36.3"}, "duration": 9.5},
        "rollout_plans": [
            {"next": ["w1", "w2"], "budgets": {"apps/web": {"pods": {"w1": 1, "w2": 2, "w3": 1}}}},
            {"next": ["w3"], "budgets": {"apps/web": {"pods": {"w3": 2}}}},
        ],
    }
    report = timeline.report(stats)
    assert [(b["number"], b["nodes"], b["play"]) for b in report["batches"]] == [
        (1, ["w1", "w2"], "batch play 1"),
        (2, ["w3"], "batch play 2"),
    ]
    assert list(report["nodes"]) == ["w2", "w1", "w3"]  # by batch, then by when they started
    summary = report["summary"]
    assert summary["evictions"] == {"w1": 2, "w2": 2, "w3": 2} and summary["evictions_total"] == 6
    assert summary["evictions_by_namespace"] == {"apps": 3, "kube-system": 3}
    assert summary["retries_by_budget"] == {"apps/web": 9}
    assert summary["evictions_by_budget"] == {"apps/web": 5}
    assert summary["versions_after"] == {"w1": "v1.36.3"} and summary["duration"] == 9.5
    page = render(report)
    embedded = page.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded.replace("<\\/", "</")) == json.loads(json.dumps(report))
    assert "<td>apps/web</td><td>5</td><td>9</td>" in page
