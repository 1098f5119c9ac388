"""Eviction as the real API server does it (the table in docs/drain.md): one test a row, and the PDB bookkeeping."""

from __future__ import annotations

import concurrent.futures

pytest_plugins = ["apiserver_fixture"]


def evict(apiserver, ns: str, name: str, **delete_options):
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
    if delete_options:
        body["deleteOptions"] = delete_options
    return apiserver.post(f"/api/v1/namespaces/{ns}/pods/{name}/eviction", body)


def pdb_status(apiserver, ns: str, name: str = "web") -> dict:
    return apiserver.ok("GET", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}")["status"]


def setup_node(apiserver, ns: str) -> str:
    node = f"ev-{ns}"
    apiserver.node(node)
    return node


def test_gone_pod_is_404(apiserver, ns):
    code, err = evict(apiserver, ns, "ghost")
    assert (code, err["reason"], err["message"]) == (404, "NotFound", 'pods "ghost" not found')


def test_allowed_eviction_spends_the_budget_and_deletes_gracefully(apiserver, ns):
    node = setup_node(apiserver, ns)
    apiserver.pod(ns, "p", node=node, spec={"terminationGracePeriodSeconds": 30})
    apiserver.pdb(ns, "web", allowed=1)
    code, status = evict(apiserver, ns, "p", gracePeriodSeconds=7)
    assert (code, status["kind"], status["status"]) == (201, "Status", "Success")
    pod = apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/p")
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 7  # the Eviction's DeleteOptions are honoured
    target = [c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert target and target[0]["reason"] == "EvictionByEvictionAPI"
    status = pdb_status(apiserver, ns)
    assert status["disruptionsAllowed"] == 0 and list(status["disruptedPods"]) == ["p"]


def test_budget_at_zero_is_429_with_disruption_budget_cause(apiserver, ns):
    node = setup_node(apiserver, ns)
    apiserver.pod(ns, "p", node=node)
    apiserver.pdb(ns, "web", allowed=0, healthy=(2, 2))
    code, err = evict(apiserver, ns, "p")
    assert (code, err["reason"], err["code"]) == (429, "TooManyRequests", 429)
    assert err["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert err["details"]["causes"] == [
        {"reason": "DisruptionBudget", "message": "The disruption budget web needs 2 healthy pods and has 2 currently"}
    ]
    assert "deletionTimestamp" not in apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/p")["metadata"]


def test_several_pdbs_is_500(apiserver, ns):
    node = setup_node(apiserver, ns)
    apiserver.pod(ns, "p", node=node)
    apiserver.pdb(ns, "web", allowed=1)
    apiserver.pdb(ns, "web2", allowed=1)
    code, err = evict(apiserver, ns, "p")
    assert code == 500 and err["kind"] == "Status"
    assert (
        err["message"]
        == "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    )


def test_terminal_pending_and_terminating_pods_skip_the_pdb(apiserver, ns):
    node = setup_node(apiserver, ns)
    apiserver.pdb(ns, "web", allowed=0)
    apiserver.pod(ns, "succeeded", node=node, phase="Succeeded", ready=False)
    apiserver.pod(ns, "failed", node=node, phase="Failed", ready=False)
    apiserver.pod(ns, "pending", node=node, phase="Pending", ready=False)
    apiserver.pod(ns, "terminating", node=node)
    apiserver.ok("DELETE", f"/api/v1/namespaces/{ns}/pods/terminating")
    for name in ("succeeded", "failed", "pending", "terminating"):
        code, status = evict(apiserver, ns, name)
        assert code == 201 and status["status"] == "Success", (name, status)
    for name in ("succeeded", "failed"):  # terminal: removed at once
        assert apiserver.get(f"/api/v1/namespaces/{ns}/pods/{name}")[0] == 404
    assert apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/pending")["metadata"]["deletionTimestamp"]
    assert pdb_status(apiserver, ns)["disruptionsAllowed"] == 0 and "disruptedPods" not in pdb_status(apiserver, ns)


def test_terminating_namespace_is_403(apiserver):
    ns = apiserver.namespace("evterm")
    node = setup_node(apiserver, ns)
    apiserver.pod(ns, "p", node=node, metadata={"finalizers": ["example.com/hold"]})
    apiserver.ok("DELETE", f"/api/v1/namespaces/{ns}")
    code, err = evict(apiserver, ns, "p")
    assert (code, err["reason"]) == (403, "Forbidden")
    cause = err["details"]["causes"][0]
    assert (cause["reason"], cause["field"]) == ("NamespaceTerminating", "metadata.namespace")
    assert f"unable to create new content in namespace {ns} because it is being terminated" in err["message"]
    apiserver.ok("PATCH", f"/api/v1/namespaces/{ns}/pods/p", {"metadata": {"finalizers": None}})


def test_unready_pod_does_not_spend_the_budget(apiserver, ns):
    node = setup_node(apiserver, ns)
    apiserver.pod(ns, "sick", node=node, ready=False)
    apiserver.pdb(ns, "web", allowed=0, healthy=(3, 2))  # healthy enough without the sick pod
    code, _ = evict(apiserver, ns, "sick")
    assert code == 201
    assert pdb_status(apiserver, ns)["disruptionsAllowed"] == 0


def test_stale_pdb_is_429_still_processing(apiserver, ns):
    node = setup_node(apiserver, ns)
    apiserver.pod(ns, "p", node=node)
    apiserver.pdb(ns, "web", allowed=1)
    apiserver.ok("PATCH", f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/web", {"spec": {"minAvailable": 1}})
    code, err = evict(apiserver, ns, "p")
    assert code == 429
    assert err["details"]["causes"][0]["message"] == "The disruption budget web is still being processed by the server."


def test_concurrent_evictions_never_overspend_the_budget(apiserver, ns):
    node = setup_node(apiserver, ns)
    for i in range(12):
        apiserver.pod(ns, f"p{i}", node=node)
    apiserver.pdb(ns, "web", allowed=5, healthy=(12, 7))
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda i: evict(apiserver, ns, f"p{i}")[0], range(12)))
    assert sorted(codes) == [201] * 5 + [429] * 7
    status = pdb_status(apiserver, ns)
    assert status["disruptionsAllowed"] == 0 and len(status["disruptedPods"]) == 5


def test_dry_run_changes_nothing(apiserver, ns):
    node = setup_node(apiserver, ns)
    apiserver.pod(ns, "p", node=node)
    apiserver.pdb(ns, "web", allowed=1)
    code, _ = evict(apiserver, ns, "p", dryRun=["All"])
    assert code == 201
    assert pdb_status(apiserver, ns)["disruptionsAllowed"] == 1
    assert "deletionTimestamp" not in apiserver.ok("GET", f"/api/v1/namespaces/{ns}/pods/p")["metadata"]
