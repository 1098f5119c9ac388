"""Quantities and pod requests as kube-scheduler counts them."""

from __future__ import annotations

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._rollout.quantity import (
    node_allocatable,
    parse_quantity,
    pod_requests,
)


@pytest.mark.parametrize(
    ("value", "resource", "expected"),
    [
        ("100m", "cpu", 100),
        ("2", "cpu", 2000),
        ("0.5", "cpu", 500),
        ("1.5Gi", "memory", 1610612736),
        ("8046040Ki", "memory", 8046040 * 1024),
        ("1e3", "memory", 1000),
        ("1k", "memory", 1000),
        ("1M", "memory", 1000000),
        ("110", "pods", 110),
        (3, "cpu", 3000),
        ("1n", "cpu", 1),  # rounded up, as MilliValue does
        ("1.1", "memory", 2),
    ],
)
def test_quantities(value, resource, expected):
    assert parse_quantity(value, resource) == expected


@pytest.mark.parametrize("value", ["", "1.2.3", "10 Mi", "Mi", "1ki", True])
def test_a_malformed_quantity_is_refused(value):
    with pytest.raises(InvalidInput, match="is not a quantity"):
        parse_quantity(value, "memory")


def container(cpu: str, memory: str, **extra):
    return {"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}, **extra}


def test_pod_requests_sum_containers_and_sidecars_and_take_the_largest_init_container():
    spec = {
        "containers": [container("1", "1Gi"), container("250m", "256Mi")],
        "initContainers": [
            container("100m", "32Mi", restartPolicy="Always"),  # a sidecar: runs the whole time
            container("3", "64Mi"),  # with the sidecar started before it: 3100m
        ],
        "overhead": {"cpu": "50m"},
    }
    assert pod_requests(spec) == {"cpu": 3150, "memory": (1024 + 256 + 32) * 2**20, "pods": 1}


def test_limits_stand_for_missing_requests_and_empty_pods_take_a_slot_only():
    assert pod_requests({"containers": [{"resources": {"limits": {"cpu": "1"}}}]}) == {"cpu": 1000, "pods": 1}
    assert pod_requests({"containers": [{"name": "c"}]}) == {"pods": 1}


def test_allocatable_falls_back_to_capacity():
    assert node_allocatable({"capacity": {"cpu": "4", "pods": "110"}}) == {"cpu": 4000, "pods": 110}
    assert node_allocatable({"allocatable": {"cpu": "3500m"}, "capacity": {"cpu": "4"}}) == {"cpu": 3500}
