"""The upgrade the way AWX runs it, on one lab (1 control plane + 1 worker at v1.35.2, upgraded to 1.36), in order:
the inventory source (the nodes plugin) with the documented least-privilege token, a token short of one permission
(one line naming it, nothing changed), a check-mode job (nothing changed), the upgrade job and its artifacts, then the
recovery job of the workflow's failure path on cordons a failed run would leave."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest
from awx_jobs import BIN, REPO, Awx, Job, NodesLab

FROM, TARGET = "v1.35.2", "1.36"
NODES = ("cp-1", "worker-1")
CORDONED_BY = "cluster-ops.io/cordoned-by"


def unwrap(value: Any) -> Any:
    """ansible-inventory's export of untrusted values (``{"__ansible_unsafe": ...}`` on ansible-core 2.19)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def members(listing: dict[str, Any], group: str) -> set[str]:
    """The hosts of a group of ``ansible-inventory --list``, its children's included."""
    entry = listing.get(group) or {}
    found = set(entry.get("hosts") or [])
    for child in entry.get("children") or []:
        found |= members(listing, child)
    return found


def inventory_list(source: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([str(BIN / "ansible-inventory"), "--list", *args, "-i", source], env=env,
                          capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    return unwrap(json.loads(done.stdout))


PACKAGES = "dpkg-query -W kubeadm kubelet kubectl; apt-mark showhold; cat /etc/apt/sources.list.d/kubernetes.list"


def node_state(node: dict[str, Any]) -> tuple[str, bool, str | None]:
    """The kubelet's version, whether the node is cordoned, and by whom."""
    annotations = node["metadata"].get("annotations") or {}
    cordoned = bool(node["spec"].get("unschedulable"))
    return node["status"]["nodeInfo"]["kubeletVersion"], cordoned, annotations.get(CORDONED_BY)


def state(lab: NodesLab) -> dict[str, Any]:
    """What a job could change: the nodes, the control plane's images, kubeadm's version, packages, repositories,
    the etcd snapshots."""
    pods = lab.get("pods", "-n", "kube-system")["items"]
    return {
        "nodes": {node["metadata"]["name"]: node_state(node) for node in lab.get("nodes")["items"]},
        "images": sorted(c["image"] for p in pods for c in p["spec"]["containers"]),
        "kubeadm_config": lab.get("configmap", "-n", "kube-system", "kubeadm-config")["data"]["ClusterConfiguration"],
        "packages": {node: lab.ssh(node, PACKAGES).stdout for node in NODES},
        "snapshots": lab.ssh("cp-1", "ls -A /var/backups/etcd 2>/dev/null || true").stdout,
    }


def assert_successful(job: Job) -> None:
    assert (job.status, job.rc) == ("successful", 0), (job.failures(), job.stdout[-3000:])


@pytest.fixture(scope="module")
def token(awx: Awx) -> str:
    """The documented ServiceAccount's token (TokenRequest), as the bearer token credential holds it."""
    return awx.apply_rbac()


def test_the_inventory_source_lists_the_labs_groups_and_hosts(awx, nodes_lab, token, tmp_path):
    source = tmp_path / "cluster.nodes.yml"
    shutil.copy(REPO / "awx" / "inventory" / "cluster.nodes.yml", source)  # the file the AWX inventory source reads
    (tmp_path / "env").mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("K8S_AUTH_", "KUBECONFIG"))}
    env.update(awx.credential_env(token, tmp_path), ANSIBLE_COLLECTIONS_PATH=str(awx.collections), PYTHONPATH="")
    plugin = inventory_list(str(source), env, "--export")  # what an AWX inventory update runs
    lab = inventory_list(str(nodes_lab.inventory), env)
    print("ansible-inventory --list --export -i cluster.nodes.yml:\n" + json.dumps(plugin, indent=1, sort_keys=True))
    for group in ("k8s_cluster", "kube_control_plane", "kube_node", "etcd"):
        assert members(plugin, group) == members(lab, group), group
    assert members(plugin, "kube_control_plane") == {"cp-1"} and members(plugin, "kube_node") == {"worker-1"}
    assert plugin["etcd"]["children"] == ["kube_control_plane"]  # stacked etcd, as kubespray writes it
    hostvars = plugin["_meta"]["hostvars"]
    for node in NODES:
        assert hostvars[node]["ansible_host"] == lab["_meta"]["hostvars"][node]["ansible_host"]
        assert hostvars[node]["node_name"] == node
        assert hostvars[node]["kubeadm_node"]["kubelet_version"] == FROM
        assert hostvars[node]["kubeadm_node"]["ready"] is True
    assert members(plugin, "not_ready") == set() and members(plugin, "cordoned_by_others") == set()


def test_a_token_without_one_permission_fails_with_one_line_naming_it(awx, nodes_lab):
    limited = awx.apply_rbac(without=("poddisruptionbudgets", "list"), suffix="-no-pdb-list")
    before = state(nodes_lab)
    job = awx.job("upgrade", {"kubernetes_version": TARGET}, limited, name="limited")
    assert job.status == "failed" and job.rc != 0
    failures = job.failures()
    print(f"the job failed ({job.status}, rc {job.rc}): {failures}")
    assert len(failures) == 1, failures
    assert "\n" not in failures[0]
    assert re.search(
        r'poddisruptionbudgets.* is forbidden: User "system:serviceaccount:cluster-ops:'
        r'cluster-ops-kubeadm-no-pdb-list" cannot list resource "poddisruptionbudgets"',
        failures[0],
    )
    assert state(nodes_lab) == before


def test_a_check_mode_job_changes_nothing(awx, nodes_lab, token):
    before = state(nodes_lab)
    job = awx.job("upgrade", {"kubernetes_version": TARGET}, token, cmdline="--check", name="check")
    assert_successful(job)
    predicted = job.stats["artifact_data"]["upgrade"]
    assert predicted["path"] == [predicted["target_version"]] and predicted["target_version"].startswith("v1.36.")
    assert state(nodes_lab) == before


def test_the_upgrade_job_succeeds_and_hands_its_outcome_to_awx(awx, nodes_lab, token):
    job = awx.job("upgrade", {"kubernetes_version": TARGET}, token, name="upgrade")
    assert_successful(job)
    assert (job.artifacts / "status").read_text() == "successful" and (job.artifacts / "rc").read_text() == "0"
    stats = job.stats
    print("playbook_on_stats artifact_data:\n" + json.dumps(stats["artifact_data"]["upgrade"], indent=1))
    assert stats["artifact_data"] == job.stats_file()["artifact_data"]  # the event and the artifacts directory
    assert stats["failures"] == {} and stats["dark"] == {}
    upgrade = stats["artifact_data"]["upgrade"]
    target = upgrade["target_version"]
    assert re.fullmatch(r"v1\.36\.\d+", target) and upgrade["path"] == [target]
    assert upgrade["versions_before"] == dict.fromkeys(NODES, FROM)
    assert upgrade["versions_after"] == dict.fromkeys(NODES, target)
    assert upgrade["nodes_done"] == list(NODES)
    assert upgrade["control_plane_after"]["cp-1"]["kube_apiserver"] == target
    snapshot = upgrade["etcd_snapshot"]
    assert snapshot["path"].startswith("/var/backups/etcd/") and re.fullmatch(r"[0-9a-f]{64}", snapshot["sha256"])
    assert nodes_lab.ssh("cp-1", f"sha256sum {snapshot['path']}").stdout.split()[0] == snapshot["sha256"]
    assert stats["artifact_data"]["preflight"]["problems"] == []
    assert {node: (version, cordoned) for node, (version, cordoned, _by) in state(nodes_lab)["nodes"].items()} == {
        node: (target, False) for node in NODES
    }


def cordon(lab: NodesLab, node: str, by_collection: bool) -> None:
    """The cordon a failed run leaves (the collection's annotation) or an administrator's."""
    lab.kubectl("cordon", node)
    if by_collection:
        lab.kubectl("annotate", "--overwrite", "node", node, f"{CORDONED_BY}=cluster_ops.kubeadm")


def test_the_recovery_uncordons_what_the_collection_cordoned_and_keeps_an_administrators_cordon(awx, nodes_lab, token):
    cordon(nodes_lab, "worker-1", by_collection=True)
    cordon(nodes_lab, "cp-1", by_collection=False)
    job = awx.job("recover", {"recover_wait_timeout": 60}, token, name="recover")
    assert_successful(job)
    recover = job.stats["artifact_data"]["recover"]
    assert recover["uncordoned"] == ["worker-1"]
    assert list(recover["left_cordoned"]) == ["cp-1"]
    assert recover["left_cordoned"]["cp-1"].startswith("cordoned by someone else")
    nodes = state(nodes_lab)["nodes"]
    assert nodes["worker-1"][1:] == (False, None) and nodes["cp-1"][1:] == (True, None)


def test_the_recovery_keeps_the_cordon_of_a_node_not_ready_or_outside_the_skew_policy(awx, nodes_lab, token):
    nodes_lab.kubectl("uncordon", "cp-1")
    cordon(nodes_lab, "cp-1", by_collection=True)
    cordon(nodes_lab, "worker-1", by_collection=True)
    # worker-1's kubelet newer than the control plane, cp-1's kubelet stopped (its static pods keep running)
    nodes_lab.use_minor("worker-1", "1.37")
    nodes_lab.install("worker-1", "kubelet=1.37.0-1.1")
    nodes_lab.ssh("worker-1", "systemctl restart kubelet")
    nodes_lab.wait("worker-1's kubelet at v1.37.0", lambda: nodes_lab.kubelet_version("worker-1") == "v1.37.0")
    nodes_lab.labctl("stop", "kubelet-cp-1")
    nodes_lab.wait("cp-1 NotReady", lambda: not nodes_lab.node_ready("cp-1"), timeout=60)
    # as the workflow's failure path launches it: the job fails after its report, the workflow shows the failure
    job = awx.job("recover", {"recover_wait_timeout": 30, "recover_fail": True}, token, name="recover-kept")
    assert (job.status, job.failures()) == ("failed", ["recovered after a failed run: uncordoned nothing; left "
                                                       "cordoned cp-1, worker-1"])  # fmt: skip
    recover = job.stats["artifact_data"]["recover"]
    assert recover["uncordoned"] == []
    assert recover["left_cordoned"]["cp-1"] == "not Ready"
    kept = recover["left_cordoned"]["worker-1"]
    assert kept.startswith("kubelet outside the skew policy: ") and "v1.37.0" in kept, kept
    nodes = state(nodes_lab)["nodes"]
    assert all(nodes[node][1:] == (True, "cluster_ops.kubeadm") for node in NODES)
