"""Fixtures for the drain tests: a namespace per test on the shared lab, workloads placed on one worker."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import TARGET, Cluster, budgets_settled, ready_on


@pytest.fixture(scope="session")
def cluster(lab) -> Cluster:
    return Cluster(lab.kubeconfig)


@pytest.fixture(scope="session")
def workers(lab) -> list[str]:
    return [n for n in lab.info["nodes"] if n not in lab.info.get("control_plane_nodes", ["cp-1"])]


@pytest.fixture
def ns(cluster, workers, request):
    """A namespace of its own; afterwards every worker is schedulable again and the namespace is gone."""
    name = "drain-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:50].strip("-")
    cluster.namespace(name)
    yield name
    for node in workers:
        cluster.set_unschedulable(node, False)
    cluster.delete_namespace(name)


@pytest.fixture
def place(cluster, workers):
    """``place(namespace, create, pods)``: run ``create()`` with only the target worker schedulable, wait
    until ``pods`` pods of the namespace are Ready on it and its budgets allow disruptions, reopen the rest."""

    def _place(namespace: str, create: Callable[[], Any], pods: int, budgets: bool = True) -> list[dict]:
        others = [n for n in workers if n != TARGET]
        for node in others:
            cluster.set_unschedulable(node, True)
        cluster.set_unschedulable(TARGET, False)
        try:
            create()
            ready = ready_on(cluster, namespace, TARGET, pods)
            if budgets:
                budgets_settled(cluster, namespace)
        finally:
            for node in others:
                cluster.set_unschedulable(node, False)
        return ready

    return _place


@pytest.fixture
def drain_args(lab):
    def _args(**options: Any) -> dict[str, Any]:
        return {"kubeconfig": lab.kubeconfig, "node": TARGET, "ignore_daemonsets": True, "timeout": 60, **options}

    return _args
