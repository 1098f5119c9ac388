"""The ClusterRole users apply for AWX (awx/rbac/cluster-ops-kubeadm.yml): every API call the collection makes is
granted, nothing more is (no wildcard, no write but the drain's), and the kinds api_removals lists stay in step
with its table of removals."""

from __future__ import annotations

import pytest
import yaml
from awx_files import REPO

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.table import REMOVALS

RBAC = REPO / "awx" / "rbac" / "cluster-ops-kubeadm.yml"
OLDEST_MINOR = 24  # the oldest pkgs.k8s.io repository: no upgrade starts earlier

# (module, API group, resource, verb, namespace or None for every namespace): the calls of plugins/module_utils.
CALLS = [
    ("cluster_info", "", "nodes", "list", None),
    ("cluster_info", "", "pods", "list", None),
    ("cluster_info", "policy", "poddisruptionbudgets", "list", None),
    ("cluster_info", "apps", "daemonsets", "get", "kube-system"),
    ("cluster_info", "", "configmaps", "get", "kube-system"),
    ("version_skew", "", "nodes", "list", None),
    ("version_skew", "", "pods", "list", "kube-system"),
    ("node_drain", "", "nodes", "get", None),
    ("node_drain", "", "nodes", "patch", None),
    ("node_drain", "", "pods", "list", None),
    ("node_drain", "", "pods", "watch", None),
    ("node_drain", "", "pods", "get", "shop"),
    ("node_drain", "", "pods/eviction", "create", "shop"),
    ("node_drain", "", "pods", "delete", "shop"),
    ("node_drain", "apps", "daemonsets", "get", "monitoring"),
    ("node_drain", "policy", "poddisruptionbudgets", "list", "shop"),
    ("node_drain", "policy", "poddisruptionbudgets", "watch", "shop"),
    ("node_wait", "", "nodes", "get", None),
    ("node_wait", "", "pods", "list", None),
    ("api_removals", "", "secrets", "list", None),
    ("api_removals", "", "secrets", "get", "shop"),
    ("nodes inventory", "", "nodes", "list", None),
    ("nodes inventory", "", "configmaps", "get", "kube-system"),
]
WRITES = {"create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"}


@pytest.fixture(scope="module")
def objects() -> dict[str, dict]:
    documents = yaml.safe_load_all(RBAC.read_text())
    return {f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}": o for o in documents}


def rules(objects: dict[str, dict], namespace: str | None) -> list[dict]:
    """The rules the ServiceAccount holds in ``namespace`` (None: cluster-wide only)."""
    held = list(objects["ClusterRole//cluster-ops:kubeadm"]["rules"])
    if namespace == "kube-system":
        held += objects["Role/kube-system/cluster-ops:kubeadm"]["rules"]
    return held


def allows(held: list[dict], group: str, resource: str, verb: str, name: str | None = None) -> bool:
    return any(
        group in rule.get("apiGroups", [])
        and resource in rule.get("resources", [])
        and verb in rule["verbs"]
        and (not rule.get("resourceNames") or name in rule["resourceNames"])
        for rule in held
    )


def test_the_account_is_bound_to_both_roles(objects):
    subject = {"kind": "ServiceAccount", "name": "cluster-ops-kubeadm", "namespace": "cluster-ops"}
    assert "ServiceAccount/cluster-ops/cluster-ops-kubeadm" in objects
    for binding, role in (("ClusterRoleBinding//cluster-ops:kubeadm", "ClusterRole"),
                          ("RoleBinding/kube-system/cluster-ops:kubeadm", "Role")):  # fmt: skip
        assert objects[binding]["subjects"] == [subject]
        assert objects[binding]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": role,
                                                "name": "cluster-ops:kubeadm"}  # fmt: skip


@pytest.mark.parametrize(("module", "group", "resource", "verb", "namespace"), CALLS)
def test_every_call_of_the_collection_is_granted(objects, module, group, resource, verb, namespace):
    name = "kubeadm-config" if resource == "configmaps" else None
    assert allows(rules(objects, namespace), group, resource, verb, name), (module, group, resource, verb)


def test_the_deprecated_api_metric_is_readable(objects):
    held = rules(objects, None)
    assert any(rule.get("nonResourceURLs") == ["/metrics"] and rule["verbs"] == ["get"] for rule in held)


def test_api_removals_can_list_every_kind_an_upgrade_can_remove(objects):
    held = rules(objects, None)
    wanted = {
        (row.api_version.rpartition("/")[0], row.resource)
        for row in REMOVALS
        if row.persisted and int(row.removed_in.split(".")[1]) > OLDEST_MINOR
    }
    # The kinds are listed at any version the server still serves: the replacement's group counts as well.
    replacements = {
        (row.replacement.rpartition("/")[0], row.resource)
        for row in REMOVALS
        if row.persisted and row.replacement and int(row.removed_in.split(".")[1]) > OLDEST_MINOR
    }
    for group, resource in sorted(wanted | replacements):
        assert allows(held, group, resource, "list"), (group, resource)


def test_nothing_more(objects):
    for key in ("ClusterRole//cluster-ops:kubeadm", "Role/kube-system/cluster-ops:kubeadm"):
        for rule in objects[key]["rules"]:
            assert "*" not in rule["verbs"] + rule.get("resources", []) + rule.get("apiGroups", []), rule
            writes = set(rule["verbs"]) & WRITES
            if writes:  # only the drain writes: cordon (patch nodes), evictions, finished pods
                assert (rule["apiGroups"], rule["resources"], sorted(writes)) in [
                    ([""], ["nodes"], ["patch"]),
                    ([""], ["pods/eviction"], ["create"]),
                    ([""], ["pods"], ["delete"]),
                ], rule
    assert objects["Role/kube-system/cluster-ops:kubeadm"]["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["kubeadm-config"], "verbs": ["get"]}
    ]
