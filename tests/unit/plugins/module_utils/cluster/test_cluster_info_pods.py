"""Pod classification (versions, drain blockers) and PDB selector matching of cluster_info."""

from __future__ import annotations

import random

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.pods import (
    control_plane_component,
    drain_blocker,
    kube_proxy_version,
    split_image,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._cluster.selectors import (
    Pdb,
    PdbIndex,
    selector_matches,
)

MIRROR = {"kubernetes.io/config.mirror": "0a1b", "kubernetes.io/config.source": "file"}
RS_OWNER = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "controller": True}]
DS_OWNER = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "controller": True}]


def make_pod(
    name="p",
    namespace="app",
    labels=None,
    owners=None,
    annotations=None,
    phase="Running",
    volumes=(),
    image="docker.io/library/nginx:1.27",
    node="worker-1",
    **metadata,
):
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels or {},
            "ownerReferences": owners or [],
            "annotations": annotations or {},
            **metadata,
        },
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": image}], "volumes": list(volumes)},
        "status": {"phase": phase},
    }


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("registry.k8s.io/kube-apiserver:v1.35.2", ("kube-apiserver", "v1.35.2")),
        ("registry.k8s.io/etcd:3.5.15-0", ("etcd", "3.5.15-0")),
        ("localhost:5000/kube-scheduler:v1.34.1", ("kube-scheduler", "v1.34.1")),
        ("registry.k8s.io/kube-proxy:v1.35.2@sha256:" + "a" * 64, ("kube-proxy", "v1.35.2")),
        ("localhost:5000/kube-proxy", ("kube-proxy", None)),
        ("kube-controller-manager:v1.33.0", ("kube-controller-manager", "v1.33.0")),
        ("", ("", None)),
    ],
)
def test_split_image(image, expected):
    assert split_image(image) == expected


def test_control_plane_component_needs_a_mirror_pod_on_a_node():
    image = "registry.k8s.io/kube-controller-manager:v1.35.2"
    assert control_plane_component(make_pod(annotations=MIRROR, image=image, node="cp-1")) == (
        "cp-1",
        "kube_controller_manager",
        "v1.35.2",
    )
    assert control_plane_component(make_pod(image=image)) is None  # not a static pod
    assert control_plane_component(make_pod(annotations=MIRROR, image=image, node=None)) is None
    assert control_plane_component(make_pod(annotations=MIRROR, image="registry.k8s.io/pause:3.10")) is None


def test_kube_proxy_version_needs_the_kube_proxy_label():
    image = "registry.k8s.io/kube-proxy:v1.34.4"
    assert kube_proxy_version(make_pod(labels={"k8s-app": "kube-proxy"}, image=image)) == ("worker-1", "v1.34.4")
    assert kube_proxy_version(make_pod(labels={"app": "kube-proxy"}, image=image)) is None


NO_PDBS = PdbIndex([])
ZERO = PdbIndex([Pdb("app", "web", {"matchLabels": {"app": "web"}}, 0)])
ONE = PdbIndex([Pdb("app", "web", {"matchLabels": {"app": "web"}}, 1)])
EMPTY_DIR = [{"name": "scratch", "emptyDir": {}}]
HOST_PATH = [{"name": "logs", "hostPath": {"path": "/var/log"}}]


@pytest.mark.parametrize(
    ("pod", "pdbs", "reasons"),
    [
        (make_pod(owners=RS_OWNER), NO_PDBS, None),
        (make_pod(), NO_PDBS, ["unmanaged"]),
        (make_pod(owners=[{**RS_OWNER[0], "controller": False}]), NO_PDBS, ["unmanaged"]),  # owner, no controller
        (make_pod(owners=RS_OWNER, volumes=EMPTY_DIR), NO_PDBS, ["emptydir"]),
        (make_pod(owners=RS_OWNER, volumes=HOST_PATH), NO_PDBS, None),
        (make_pod(volumes=EMPTY_DIR, labels={"app": "web"}), ZERO, ["unmanaged", "emptydir", "pdb"]),
        (make_pod(owners=RS_OWNER, labels={"app": "web"}), ONE, None),
        (make_pod(owners=RS_OWNER, labels={"app": "web"}, namespace="other"), ZERO, None),
        (make_pod(owners=RS_OWNER, labels={"app": "web"}, phase="Pending"), ZERO, None),  # PDBs skip Pending
        (make_pod(annotations=MIRROR), ZERO, None),  # mirror pods are skipped by drain
        (make_pod(owners=DS_OWNER, volumes=EMPTY_DIR), NO_PDBS, None),  # --ignore-daemonsets
        (make_pod(phase="Succeeded", volumes=EMPTY_DIR), NO_PDBS, None),
        (make_pod(phase="Failed"), NO_PDBS, None),
        (make_pod(deletionTimestamp="2026-11-25T15:59:01Z"), NO_PDBS, None),
    ],
)
def test_drain_blocker(pod, pdbs, reasons):
    blocker = drain_blocker(pod, pdbs)
    assert (blocker or {}).get("reasons") == reasons
    if blocker:
        assert (blocker["namespace"], blocker["name"]) == ("app", "p")


def test_two_pdbs_selecting_a_pod_block_its_eviction_even_when_both_allow_disruptions():
    pdbs = PdbIndex([Pdb("app", "b", {"matchLabels": {"app": "web"}}, 3), Pdb("app", "a", {}, 1)])
    blocker = drain_blocker(make_pod(owners=RS_OWNER, labels={"app": "web"}), pdbs)
    assert blocker == {"namespace": "app", "name": "p", "reasons": ["multiple_pdbs"], "pdbs": ["a", "b"]}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        (None, {"app": "web"}, False),
        ({}, {}, True),
        ({}, {"app": "web"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "web", "x": "1"}, True),
        ({"matchLabels": {"app": "web"}}, {"app": "db"}, False),
        ({"matchLabels": {"app": "web", "tier": "fe"}}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "db"]}]}, {"app": "db"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, {}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {"app": "db"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"app": ""}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"ap": "x"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, {"app": "x"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}, {"app": "2"}, False),
        (
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "track", "operator": "In", "values": ["c"]}]},
            {"app": "web"},
            False,
        ),
    ],
)
def test_selector_matches(selector, labels, expected):
    assert selector_matches(selector, labels) is expected


def test_pdb_index_finds_exactly_what_checking_every_pdb_finds():
    rng = random.Random(7)
    keys, values = ["app", "tier", "track", "team"], ["a", "b", "c"]
    operators = ["In", "NotIn", "Exists", "DoesNotExist"]

    def random_selector():
        if rng.random() < 0.1:
            return rng.choice([None, {}])
        selector = {}
        if rng.random() < 0.7:
            selector["matchLabels"] = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(1, 2))}
        if rng.random() < 0.5:
            selector["matchExpressions"] = [
                {"key": rng.choice(keys), "operator": rng.choice(operators), "values": rng.sample(values, 2)}
            ]
        return selector

    pdbs = [Pdb(rng.choice(["ns1", "ns2"]), f"pdb{i}", random_selector(), 0) for i in range(60)]
    index = PdbIndex(pdbs)
    matched_some = 0
    for _attempt in range(500):
        namespace = rng.choice(["ns1", "ns2", "ns3"])
        labels = {k: rng.choice(values) for k in rng.sample(keys, rng.randint(0, 4))}
        expected = {p.name for p in pdbs if p.namespace == namespace and selector_matches(p.selector, labels)}
        found = [p.name for p in index.matching(namespace, labels)]
        assert len(found) == len(set(found)) and set(found) == expected
        matched_some += bool(expected)
    assert matched_some > 100  # the comparison is not vacuous
