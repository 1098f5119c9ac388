"""The simulated kubelet runs a Job's pods to completion (the contract with the Job controller): Pending -> Running
-> Succeeded with every container terminated with exit code 0, reason Completed, as the real kubelet reports it."""

from __future__ import annotations

import pytest
from labkit.kubelet import completed_status, running_status, runs_to_completion


def pod(kind: str | None, restart_policy: str = "Never") -> dict:
    meta: dict = {"name": "upgrade-health-check-1-abcde", "namespace": "kube-system", "uid": "u1"}
    if kind:
        meta["ownerReferences"] = [
            {"apiVersion": "batch/v1", "kind": kind, "name": "j", "uid": "o", "controller": True}
        ]
    spec = {"restartPolicy": restart_policy, "nodeName": "worker-1",
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}  # fmt: skip
    return {"metadata": meta, "spec": spec}


@pytest.mark.parametrize(
    ("kind", "policy", "completes"),
    [
        ("Job", "Never", True),
        ("Job", "OnFailure", True),
        ("Job", "Always", False),
        ("ReplicaSet", "Never", False),
        (None, "Never", False),
    ],
)
def test_only_a_jobs_run_to_completion_pods_complete(kind, policy, completes):
    assert runs_to_completion(pod(kind, policy)) is completes


def test_a_completed_pod_reports_what_the_real_kubelet_reports():
    running = running_status(pod("Job"), "127.0.0.11", "10.244.1.7", "2026-01-01T00:00:00Z")
    done = completed_status(running, "2026-01-01T00:00:01Z")
    assert done["phase"] == "Succeeded"
    (container,) = done["containerStatuses"]
    terminated = container["state"]["terminated"]
    assert terminated["exitCode"] == 0 and terminated["reason"] == "Completed"
    assert terminated["startedAt"] == "2026-01-01T00:00:00Z" and terminated["finishedAt"] == "2026-01-01T00:00:01Z"
    assert container["ready"] is False and container["started"] is False
    conditions = {c["type"]: (c["status"], c.get("reason")) for c in done["conditions"]}
    assert conditions["Ready"] == ("False", "PodCompleted")
    assert conditions["ContainersReady"] == ("False", "PodCompleted")
    assert conditions["Initialized"] == ("True", "PodCompleted")
    assert done["podIP"] == "10.244.1.7"
