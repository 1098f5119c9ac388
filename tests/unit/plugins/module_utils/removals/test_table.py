"""The table of removals, row by row: each is found in a manifest and in the metric at the hop of its release,
not before, and holds together with the guide it comes from."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.findings import Collector, minor
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.scan import Scan, validate
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.table import (
    GUIDE_URL,
    REMOVALS,
    lookup,
    lookup_resource,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.skew import plan
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import Version

ROW_IDS = [f"{row.api_version}-{row.kind}" for row in REMOVALS]

# Counted in the guide, section by section: the kinds of each heading times the API versions it names.
# v1.16: NetworkPolicy 1, DaemonSet 2, Deployment 3, StatefulSet 2, ReplicaSet 3, PodSecurityPolicy 1.
# v1.22: webhooks 2, CRD 1, APIService 1, TokenReview 1, the four access reviews, CSR 1, Lease 1, Ingress 2,
#        IngressClass 1, RBAC 4, PriorityClass 1, storage 4.
# v1.25: CronJob, EndpointSlice, Event, HPA v2beta1, PDB, PSP, RuntimeClass. v1.26: two flow control kinds, HPA
# v2beta2. v1.27: CSIStorageCapacity. v1.29 and v1.32: the two flow control kinds.
GUIDE_COUNTS = {"1.16": 12, "1.22": 23, "1.25": 7, "1.26": 3, "1.27": 1, "1.29": 2, "1.32": 2}


def test_every_release_of_the_guide_is_complete():
    assert Counter(row.removed_in for row in REMOVALS) == GUIDE_COUNTS
    assert len(REMOVALS) == 50


def test_rows_are_unique_by_api_version_and_kind_and_by_resource():
    assert len({(row.api_version, row.kind) for row in REMOVALS}) == len(REMOVALS)
    assert len({(row.group, row.version, row.resource) for row in REMOVALS}) == len(REMOVALS)


@pytest.mark.parametrize("row", REMOVALS, ids=ROW_IDS)
def test_row_holds_together(row):
    release = row.removed_in.replace(".", "")
    assert re.fullmatch(rf"[a-z-]+-v{release}", row.section), "the guide's anchors end with the release"
    assert row.guide == f"{GUIDE_URL}#{row.section}"
    assert row.resource.endswith("s")
    assert row.resource.startswith(row.kind.lower()[:-1])
    assert row.replacement != row.api_version
    if row.replacement is None:
        assert row.migration, "a removal without replacement says what to do instead"
    else:
        assert row.replacement_since is not None
        assert minor(row.replacement_since) <= minor(row.removed_in), "the replacement is served before the removal"
        successor = lookup(row.replacement, row.kind)
        if successor is not None:
            assert minor(successor.removed_in) > minor(row.removed_in), "a replacement outlives what it replaces"
    if row.migration:
        assert "\n" not in row.migration


@pytest.mark.parametrize("row", REMOVALS, ids=ROW_IDS)
def test_row_is_found_in_a_manifest_at_the_hop_of_its_release_only(row, tmp_path):
    removed = minor(row.removed_in)
    before = Version(1, removed.minor - 1, 4)
    manifest = tmp_path / "object.yaml"
    metadata = "metadata:\n  name: thing\n" + ("  namespace: team\n" if row.namespaced else "")
    manifest.write_text(f"# a comment\n---\napiVersion: {row.api_version}\nkind: {row.kind}\n{metadata}")

    def scan(current, target):
        options = validate({"target_version": target, "current_version": current, "manifest_paths": [str(tmp_path)]})
        planned = plan({"kube_apiserver": [options.current]}, options.target)
        collector = Collector(planned.current, planned.hops)
        Scan(options, collector, None, lambda message: None).run()
        return planned, collector

    planned, collector = scan(str(before), f"1.{removed.minor + 1}")
    assert len(collector.findings) == 1
    found = collector.findings[0]
    assert found["hop"] == str(planned.hops[0]) == f"v1.{removed.minor}.0"
    assert (found["api_version"], found["kind"], found["name"]) == (row.api_version, row.kind, "thing")
    assert found["namespace"] == ("team" if row.namespaced else None)
    assert found["replacement"] == row.replacement
    assert found["migration"] == row.migration
    assert (found["file"], found["document"], found["item"]) == (str(manifest), 0, None)
    assert found["guide"].endswith(row.section)

    _planned, later = scan(f"1.{removed.minor}.0", f"1.{removed.minor + 1}")
    assert later.findings == []
    assert [entry["kind"] for entry in later.already_removed] == [row.kind]
    _planned, earlier = scan(str(Version(1, removed.minor - 2, 0)), str(before))
    assert earlier.findings == earlier.already_removed == []


@pytest.mark.parametrize("row", REMOVALS, ids=ROW_IDS)
def test_row_is_found_by_the_resource_the_metric_names(row):
    assert lookup_resource(row.group, row.version, row.resource) is row
    assert lookup(row.api_version, row.kind) is row


@pytest.mark.parametrize(
    ("api_version", "kind", "replacement", "needle"),
    [
        ("extensions/v1beta1", "Ingress", "networking.k8s.io/v1", "spec.backend is renamed to spec.defaultBackend"),
        ("networking.k8s.io/v1beta1", "Ingress", "networking.k8s.io/v1", "pathType"),
        ("policy/v1beta1", "PodSecurityPolicy", None, "Pod Security Admission"),
        ("extensions/v1beta1", "PodSecurityPolicy", "policy/v1beta1", "removed in v1.25"),
        ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "apiextensions.k8s.io/v1", "spec.scope"),
        ("batch/v1beta1", "CronJob", "batch/v1", None),
        ("autoscaling/v2beta1", "HorizontalPodAutoscaler", "autoscaling/v2", "target.averageUtilization"),
        ("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "flowcontrol.apiserver.k8s.io/v1", None),
        ("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io/v1",
         "nominalConcurrencyShares"),
    ],
)  # fmt: skip
def test_what_the_guide_says_about_well_known_removals(api_version, kind, replacement, needle):
    row = lookup(api_version, kind)
    assert row is not None
    assert row.replacement == replacement
    if needle is None:
        assert row.migration is None
    else:
        assert needle in row.migration


SERVED = [
    ("apps/v1", "Deployment"),
    ("policy/v1", "PodDisruptionBudget"),
    ("v1", "Pod"),
    ("networking.k8s.io/v1", "Ingress"),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema"),
]


@pytest.mark.parametrize(("api_version", "kind"), SERVED)
def test_apis_still_served_are_not_in_the_table(api_version, kind):
    assert lookup(api_version, kind) is None
