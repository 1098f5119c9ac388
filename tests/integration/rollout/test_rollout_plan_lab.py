"""rollout_plan against the session's host-mode lab (cp-1, worker-1, worker-2), as users run it (ad hoc).

Namespace ``plan-it``: one pod of app ``web`` on each worker (each Deployment created while the other worker is
cordoned, so the pods may run anywhere later) behind a budget of maxUnavailable 1, so the two workers conflict and
are planned apart.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
from ansible_run import comparable, run_module

NAMESPACE = "plan-it"


def run_kubectl(lab: Any, kubectl_bin: str, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [kubectl_bin, "--kubeconfig", lab.kubeconfig, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def deployment(node: str) -> dict[str, Any]:
    labels = {"app": "web", "first": node}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"web-{node}", "namespace": NAMESPACE},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10"}]},
            },
        },
    }


@pytest.fixture(scope="module")
def budgeted(lab, kubectl):
    def create(*objects: dict[str, Any]) -> None:
        document = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)})
        run_kubectl(lab, kubectl, "create", "--validate=false", "-f", "-", stdin=document)

    def running_on(node: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pods = json.loads(
                run_kubectl(lab, kubectl, "get", "pods", "-n", NAMESPACE, "-l", f"first={node}", "-o", "json")
            )
            if any(p["spec"].get("nodeName") == node and p["status"].get("phase") == "Running" for p in pods["items"]):
                return
            time.sleep(0.3)
        raise AssertionError(f"no web pod running on {node}")

    create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    for node, other in (("worker-1", "worker-2"), ("worker-2", "worker-1")):
        run_kubectl(lab, kubectl, "cordon", other)
        try:
            create(deployment(node))
            running_on(node)
        finally:
            run_kubectl(lab, kubectl, "uncordon", other)
    create(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": NAMESPACE},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}},
        }
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pdb = json.loads(run_kubectl(lab, kubectl, "get", "pdb", "-n", NAMESPACE, "web", "-o", "json"))
        if (pdb.get("status") or {}).get("disruptionsAllowed") == 1:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"budget web never allowed a disruption: {pdb.get('status')}")
    yield
    run_kubectl(lab, kubectl, "delete", "namespace", NAMESPACE, "--wait=false")


def test_two_workers_behind_one_budget_are_planned_apart_and_check_mode_is_the_same(lab, budgeted):
    args = {"kubeconfig": lab.kubeconfig, "pod_ready_seconds": 5}
    real = run_module("rollout_plan", args)
    predicted = run_module("rollout_plan", args, check=True)
    assert not real.get("failed"), real
    assert real["changed"] is False
    assert comparable(predicted, {"duration"}) == comparable(real, {"duration"})
    assert sorted(name for batch in real["batches"] for name in batch) == ["worker-1", "worker-2"]
    assert len(real["batches"]) == 2  # never both at once
    assert real["budgets"][f"{NAMESPACE}/web"]["pods"] == {"worker-1": 1, "worker-2": 1}
    assert real["splits"][0]["reason"] == "budget" and real["splits"][0]["after"] == 1
    assert real["unplaced"] == {}
    assert real["estimate"] >= 10  # two batches, each at least one link of 5 s


def test_an_administrators_cordon_leaves_the_node_out_named(lab, kubectl, budgeted):
    run_kubectl(lab, kubectl, "cordon", "worker-2")
    try:
        result = run_module("rollout_plan", {"kubeconfig": lab.kubeconfig, "nodes": ["worker-1", "worker-2"]})
    finally:
        run_kubectl(lab, kubectl, "uncordon", "worker-2")
    assert result["excluded"] == {"worker-2": "cordoned by an administrator"}
    assert result["batches"] == [["worker-1"]] and result["splits"] == []


def test_a_node_that_does_not_exist_fails_naming_it(lab):
    result = run_module("rollout_plan", {"kubeconfig": lab.kubeconfig, "nodes": ["worker-1", "worker-9"]})
    assert result["failed"] and result["msg"] == "nodes not found in the cluster: worker-9"
