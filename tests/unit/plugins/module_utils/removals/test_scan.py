"""api_removals against a fake API server: the metric, last-applied annotations, Helm releases, the options,
sources that cannot be read, the failure line, and the memory a big cluster costs."""

from __future__ import annotations

import base64
import gzip
import json
import time
import tracemalloc

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError, InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals import helm
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.cluster import (
    METADATA_ONLY,
    parse_deprecated_apis,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.scan import (
    RemovalsFound,
    list_candidates,
    run,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.table import REMOVALS
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import parse
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.removals.removals_fake import (
    FakeApiServer,
    Generated,
    applied,
    helm_secret,
    serve_helm,
)

METRICS = """\
# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="policy",removed_release="1.25",resource="poddisruptionbudgets",subresource="",version="v1beta1"} 1
apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.26",resource="flowschemas",subresource="status",version="v1beta1"} 1
apiserver_requested_deprecated_apis{group="example.com",removed_release="1.25",resource="widgets",subresource="",version="v1alpha1"} 1
apiserver_requested_deprecated_apis{group="batch",removed_release="1.25",resource="cronjobs",subresource="",version="v1beta1"} 0
apiserver_requested_deprecated_apis{group="apps",removed_release="",resource="deployments",subresource="",version="v1"} 1
apiserver_request_total{code="200",group="policy",resource="poddisruptionbudgets",version="v1beta1"} 41
"""  # noqa: E501

PDB_MANIFEST = (
    "---\n# Source: web/templates/pdb.yaml\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\n"
    "metadata:\n  name: web\n---\n# Source: web/templates/hpa.yaml\napiVersion: autoscaling/v2beta2\n"
    "kind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: other\n"
)


def cluster_at(version):
    return {"kube_apiserver": [version], "kube_controller_manager": [version], "kube_scheduler": [version]}


def scan(server, target="1.26", current="v1.24.17", warnings=None, **params):
    return run(
        {"target_version": target, **params},
        warn=(warnings if warnings is not None else []).append,
        connect=lambda _params: server.client(),
        cluster_versions=lambda _client: cluster_at(current),
    )


def test_metric_samples_are_parsed_with_their_labels():
    samples = list(
        parse_deprecated_apis(METRICS + 'apiserver_requested_deprecated_apis{group="a\\"b",version="v1"} 2\n')
    )
    assert len(samples) == 5  # the 0 is left out; another metric is not read
    assert samples[0] == {
        "group": "policy",
        "removed_release": "1.25",
        "resource": "poddisruptionbudgets",
        "subresource": "",
        "version": "v1beta1",
    }
    assert samples[-1]["group"] == 'a"b'


def test_metrics_source_reports_what_clients_still_call():
    server = FakeApiServer(metrics=METRICS)
    result = scan(server, sources=["metrics"])
    found = [(f["api_version"], f["kind"], f["resource"], f["subresource"], f["hop"]) for f in result["findings"]]
    assert found == [
        ("policy/v1beta1", "PodDisruptionBudget", "poddisruptionbudgets", None, "v1.25.0"),
        ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", "flowschemas", "status", "v1.26.0"),
        ("example.com/v1alpha1", None, "widgets", None, "v1.25.0"),  # the API server knows, the table does not
    ]
    unknown = result["findings"][2]
    assert unknown["replacement"] is None and unknown["guide"] is None
    assert unknown["line"] == (
        "metrics: clients still call example.com/v1alpha1 widgets, removed in v1.25: "
        "see the deprecated API migration guide"
    )
    assert result["findings"][1]["replacement_removed_in"] == "v1.29"
    assert result["sources"]["metrics"]["scanned"] == 4
    assert server.paths() == ["/metrics"]


def test_last_applied_lists_only_the_kinds_the_hops_remove_metadata_only():
    server = FakeApiServer()
    server.lists["/apis/policy/v1/poddisruptionbudgets"] = [
        applied("policy/v1beta1", "PodDisruptionBudget", "web", "shop"),
        applied("policy/v1", "PodDisruptionBudget", "db", "shop"),
        {"metadata": {"name": "created-by-helm", "namespace": "shop"}},
    ]
    server.lists["/apis/batch/v1/cronjobs"] = [applied("batch/v1beta1", "CronJob", "report", "shop")]
    server.lists["/api/v1/pods"] = Generated(50_000, lambda i: pytest.fail("pods are never read"))
    result = scan(server, target="1.25", sources=["last_applied"])
    assert [(f["kind"], f["namespace"], f["name"], f["api_version"]) for f in result["findings"]] == [
        ("CronJob", "shop", "report", "batch/v1beta1"),
        ("PodDisruptionBudget", "shop", "web", "policy/v1beta1"),
    ]
    listed = {path.split("/")[-1] for path in server.paths()}
    assert listed == {row.resource for row in REMOVALS if row.removed_in == "1.25"}  # the 1.25 kinds, nothing else
    assert all(accept == METADATA_ONLY for _path, _query, accept in server.requests)
    assert "CronJob (batch/v1)" in result["sources"]["last_applied"]["kinds"]
    assert "RuntimeClass" in result["sources"]["last_applied"]["note"]


def test_last_applied_falls_back_to_an_older_served_version():
    # a v1.22 cluster serves autoscaling/v2beta2 but not yet autoscaling/v2
    server = FakeApiServer()
    server.lists["/apis/autoscaling/v2beta2/horizontalpodautoscalers"] = [
        applied("autoscaling/v2beta1", "HorizontalPodAutoscaler", "web", "shop")
    ]
    result = scan(server, target="1.25", current="v1.22.4", sources=["last_applied"])
    assert [f["name"] for f in result["findings"]] == ["web"]
    hpa = [p for p in server.paths() if p.endswith("/horizontalpodautoscalers")]
    assert hpa == [
        "/apis/autoscaling/v2/horizontalpodautoscalers",
        "/apis/autoscaling/v2beta2/horizontalpodautoscalers",
    ]


def test_list_candidates_skip_versions_the_cluster_no_longer_serves():
    psp = [row for row in REMOVALS if row.kind == "PodSecurityPolicy"]
    assert list_candidates(psp, parse("v1.24.3")) == ["policy/v1beta1"]
    assert list_candidates(psp, parse("v1.15.0")) == ["policy/v1beta1", "extensions/v1beta1"]
    flow = [row for row in REMOVALS if row.kind == "FlowSchema"]
    assert list_candidates(flow, parse("v1.28.0")) == [
        "flowcontrol.apiserver.k8s.io/v1",
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "flowcontrol.apiserver.k8s.io/v1beta2",
    ]


def test_last_applied_of_a_restarted_list_is_reported_once():
    server = FakeApiServer()
    same = applied("batch/v1beta1", "CronJob", "report", "shop")
    server.lists["/apis/batch/v1/cronjobs"] = [same, same]
    result = scan(server, target="1.25", sources=["last_applied"])
    assert len(result["findings"]) == 1


def test_helm_reads_the_latest_revision_of_each_release_only():
    server = FakeApiServer()
    old_manifest = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: ancient\n"
    serve_helm(
        server,
        [
            helm_secret("shop", "web", 9, old_manifest, status="superseded"),
            helm_secret("shop", "web", 10, PDB_MANIFEST),
            helm_secret("shop", "web", 8, old_manifest, status="superseded"),
            helm_secret("blog", "web", 2, old_manifest),
            helm_secret("blog", "notes", 1, PDB_MANIFEST, stored_type="Opaque"),
        ],
    )
    result = scan(server, sources=["helm"])
    found = [(f["release"], f["revision"], f["kind"], f["namespace"], f["template"]) for f in result["findings"]]
    assert found == [
        ("shop/web", 10, "PodDisruptionBudget", "shop", "web/templates/pdb.yaml"),
        ("shop/web", 10, "HorizontalPodAutoscaler", "other", "web/templates/hpa.yaml"),
    ]
    assert result["findings"][0]["chart"] == "web-1.4.2"
    assert result["findings"][0]["document"] == 0
    # blog/web's Ingress: removed in v1.22, before this v1.24 cluster: it breaks the next helm upgrade already
    assert [(f["release"], f["kind"], f["hop"]) for f in result["already_removed"]] == [("blog/web", "Ingress", None)]
    gone = result["already_removed"][0]
    assert gone["line"].endswith(f"already removed in v1.22: use networking.k8s.io/v1; also: {gone['migration']}")
    read = [p for p in server.paths() if p.startswith("/api/v1/namespaces/")]
    assert sorted(read) == [
        "/api/v1/namespaces/blog/secrets/sh.helm.release.v1.notes.v1",
        "/api/v1/namespaces/blog/secrets/sh.helm.release.v1.web.v2",
        "/api/v1/namespaces/shop/secrets/sh.helm.release.v1.web.v10",
    ]
    assert result["sources"]["helm"]["release_secrets"] == 5
    assert result["sources"]["helm"]["scanned"] == 2  # the Opaque secret is not a release


def test_helm_decodes_what_helm_writes_and_refuses_the_rest():
    release = {"name": "web", "manifest": "a: 1"}
    assert helm.decode_release(helm.encode_release(release)) == release
    plain = base64.b64encode(base64.b64encode(json.dumps(release).encode())).decode()
    assert helm.decode_release(plain) == release  # an old Helm: JSON without gzip
    bomb = base64.b64encode(base64.b64encode(gzip.compress(b" " * (helm.MAX_RELEASE_BYTES + 10)))).decode()
    with pytest.raises(helm.BadRelease, match="larger than"):
        helm.decode_release(bomb)
    for bad, needle in [(None, "missing"), ("%%%", "not base64"), (base64.b64encode(b"!!").decode(), "not base64")]:
        with pytest.raises(helm.BadRelease, match=needle):
            helm.decode_release(bad)


def test_a_broken_release_is_skipped_with_a_warning():
    server = FakeApiServer()
    broken = helm_secret("shop", "web", 3, PDB_MANIFEST)
    broken["data"]["release"] = base64.b64encode(b"not helm").decode()
    serve_helm(server, [broken, helm_secret("shop", "api", 1, PDB_MANIFEST)])
    warnings = []
    result = scan(server, sources=["helm"], warnings=warnings)
    assert {f["release"] for f in result["findings"]} == {"shop/api"}
    assert len(warnings) == 1
    assert warnings[0].startswith("api_removals: Helm release shop/web revision 3 skipped: data.release is not base64")


def test_default_sources_skip_what_the_credentials_cannot_read_with_a_warning():
    server = FakeApiServer(metrics=METRICS, forbidden={"/metrics", "/api/v1/secrets"})
    warnings = []
    result = scan(server, warnings=warnings)
    assert result["sources"]["metrics"]["read"] is False
    assert result["sources"]["metrics"]["note"].startswith("reading the API server's /metrics failed: 403 forbidden")
    assert result["sources"]["helm"]["read"] is False
    assert result["sources"]["last_applied"]["read"] is True
    assert result["sources"]["manifests"]["note"] == "not selected"
    assert [w.split(":")[1].strip() for w in warnings] == ["source metrics skipped", "source helm skipped"]


def test_a_named_source_that_cannot_be_read_fails_in_one_line():
    server = FakeApiServer(forbidden={"/metrics"})
    with pytest.raises(ApiError) as caught:
        scan(server, sources=["metrics", "helm"])
    assert caught.value.message.startswith("sources metrics: reading the API server's /metrics failed: 403 forbidden")
    assert "\n" not in caught.value.message


def test_fail_on_findings_names_the_count_and_the_first_few_and_lists_every_object():
    server = FakeApiServer(metrics=METRICS)
    serve_helm(server, [helm_secret("shop", "web", 10, PDB_MANIFEST)])
    with pytest.raises(RemovalsFound) as caught:
        scan(server, fail_on_findings=True, sources=["metrics", "helm"])
    details = caught.value.details
    assert len(details["lines"]) == len(details["findings"]) == 5
    assert all("\n" not in line for line in details["lines"])
    message = caught.value.message
    assert message.startswith("api_removals: 5 objects use API versions removed on the way from v1.24.17 to v1.26.0: ")
    assert message.endswith("; and 2 more (see lines)")
    shown = [line.partition("; also: ")[0] for line in details["lines"]]  # the message leaves out the migrations
    assert shown[0] in message and shown[2] in message and shown[3] not in message
    assert "also:" not in message
    assert "\n" not in message
    clean = scan(FakeApiServer(), fail_on_findings=True, sources=["metrics"])
    assert clean["findings"] == [] and clean["counts"]["total"] == 0


def test_result_shape():
    server = FakeApiServer(metrics=METRICS)
    result = scan(server, target="1.27", sources=["metrics"])
    assert result["path"] == ["v1.25.0", "v1.26.0", "v1.27.0"]
    assert list(result["by_hop"]) == result["path"]
    assert [len(result["by_hop"][hop]) for hop in result["path"]] == [2, 1, 0]
    assert result["counts"] == {"metrics": 3, "last_applied": 0, "helm": 0, "manifests": 0, "total": 3}
    assert result["cluster_version"] == "v1.24.17"
    assert result["changed"] is False
    assert result["duration"] >= 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"target_version": 1.3},
         'target_version 1.3 arrived as a number (YAML reads 1.30 as 1.3): quote it, e.g. "1.30"'),
        ({"target_version": "1.26", "current_version": 1.24, "manifest_paths": ["."]},
         'current_version 1.24 arrived as a number: quote it, e.g. "1.24"'),
        ({"target_version": "1.x"}, "target_version '1.x' is not a Kubernetes version"),
        ({"target_version": None}, "target_version is required"),
        ({"target_version": "1.26", "current_version": "1.24"},
         "current_version '1.24' scans without a cluster, and only manifest_paths are read: give manifest_paths"),
        ({"target_version": "1.26", "current_version": "1.24", "manifest_paths": ["."], "sources": ["metrics"]},
         "sources metrics read the cluster, but current_version '1.24' means no cluster is read"),
        ({"target_version": "1.26", "sources": ["manifests"]}, "sources has manifests but manifest_paths is not given"),
        ({"target_version": "1.26", "sources": ["helm"], "manifest_paths": ["."]},
         "manifest_paths is given but sources ['helm'] leaves out manifests"),
        ({"target_version": "1.26", "sources": []}, "sources [] must be a non-empty list"),
        ({"target_version": "1.26", "sources": ["etcd"]}, "sources[0] 'etcd' is not one of metrics"),
        ({"target_version": "1.26", "fail_on_findings": "yes"}, "fail_on_findings 'yes' is not a boolean"),
    ],
)  # fmt: skip
def test_bad_options_are_refused_before_anything_is_read(params, message):
    server = FakeApiServer()
    with pytest.raises(InvalidInput) as caught:
        run(params, connect=lambda _p: pytest.fail("connected"), cluster_versions=lambda _c: cluster_at("v1.24.1"))
    assert caught.value.message.startswith(message)
    assert server.requests == []


def test_path_bounds_and_downgrades_come_from_the_skew_engine():
    with pytest.raises(InvalidInput, match=r"^target_version '1\.9999' is 9975 minors ahead .* at most 12 hops"):
        scan(FakeApiServer(), target="1.9999")
    with pytest.raises(InvalidInput, match=r"^target_version '1\.20' is older than the control plane's v1\.24\.17"):
        scan(FakeApiServer(), target="1.20")
    same = scan(FakeApiServer(metrics=METRICS), target="1.24", sources=["metrics"])
    assert same["path"] == [] and same["findings"] == [] and same["by_hop"] == {}


def replicasets(count):
    """ReplicaSets as a scale cluster has them, one in a thousand last applied as extensions/v1beta1."""

    def replicaset(index):
        version = "extensions/v1beta1" if index % 1000 == 7 else "apps/v1"
        template = {"spec": {"containers": [{"name": "web", "image": "registry.example/web:1.0"}]}}
        return applied(version, "ReplicaSet", f"web-{index:05}", f"team-{index % 50}", replicas=2, template=template)

    return Generated(count, replicaset)


def scan_replicasets(count):
    server = FakeApiServer(metadata_only=False)  # full objects: the costlier case
    server.lists["/apis/apps/v1/replicasets"] = replicasets(count)
    server.lists["/api/v1/pods"] = Generated(50_000, lambda i: pytest.fail("pods are never read"))
    return scan(server, target="1.16", current="v1.15.12", sources=["last_applied"])


def test_fifty_thousand_objects_take_seconds():
    started = time.process_time()
    result = scan_replicasets(50_000)
    assert time.process_time() - started < 15  # about 1 s of CPU here, most of it the fake's JSON encoding
    assert len(result["findings"]) == 50
    assert result["sources"]["last_applied"]["scanned"] == 50_000


def test_memory_is_one_page_not_the_whole_list():
    """6,000 objects, 12 pages of 500: the peak is that of a page (about 4.5 MB, whatever the count); the
    6,000 objects alone would take 11 MB. (tracemalloc slows everything tenfold, hence not 50,000 here.)"""
    tracemalloc.start()
    try:
        result = scan_replicasets(6_000)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result["findings"]) == 6
    assert peak < 7 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_a_cluster_without_control_plane_pods_is_placed_by_its_version_endpoint():
    server = FakeApiServer(metrics=METRICS)
    server.objects["/version"] = {"major": "1", "minor": "24+", "gitVersion": "v1.24.17-eks-4f4795d"}
    result = run(
        {"target_version": "1.25", "sources": ["metrics"]},
        connect=lambda _params: server.client(),
        cluster_versions=lambda _client: {"kube_apiserver": [], "kubelet": {"ip-10-0-0-1": "v1.24.17-eks-4f4795d"}},
    )
    assert result["cluster_version"] == "v1.24"
    assert result["path"] == ["v1.25.0"]
    assert server.paths() == ["/version", "/metrics"]
