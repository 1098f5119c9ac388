"""playbooks/upgrade.yml refuses what it must not do, in one line, before anything changes.

The lab: v1.36.1 with worker-1's packages at v1.33.2 (three minors behind: allowed now, not after one more hop).
"""

from __future__ import annotations

import pytest

from playbooks import playbook, versions

LAB_ARGS = ("--control-planes", "1", "--workers", "1", "--version", "1.36.1", "--node-version", "worker-1=1.33.2")


def node_state(lab) -> dict[str, str]:
    """What an upgrade would change on the nodes: the repository, the held packages, the snapshots."""
    script = (
        "cat /etc/apt/sources.list.d/kubernetes.list; apt-mark showhold; "
        "dpkg-query -W kubeadm kubelet kubectl; ls /var/backups/etcd 2>/dev/null; true"
    )
    return {node: lab.ssh(node, script).stdout for node in ("cp-1", "worker-1")}


@pytest.fixture(scope="module")
def before(nodes_lab):
    return versions(nodes_lab), node_state(nodes_lab)


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"kubernetes_version": "1.35"}, "target_version v1.35.0 is older than the control plane's v1.36.1"),
        ({"kubernetes_version": "1.36.9"}, "v1.36.9 is not in the repository http://"),
        (
            {"kubernetes_version": "1.37"},
            "kubelet v1.33.2 on node worker-1 is 4 minors older than kube-apiserver v1.37",
        ),
        (
            {"kubernetes_version": 1.37},
            'kubernetes_version 1.37 is not a Kubernetes version such as "1.36" or "1.36.1"',
        ),
        ({"kubernetes_version": "1.37", "upgrade_serial": 0}, "upgrade_serial 0 is not a number of workers"),
        ({}, "kubernetes_version is required"),
    ],
)
def test_refused_in_one_line_and_nothing_changes(nodes_lab, before, extra, message):
    run = playbook(nodes_lab, "upgrade", extra)
    assert run.returncode != 0, run.output[-3000:]
    failures = run.failures()
    assert any(message in failure for failure in failures), failures
    assert "quote it" in failures[0] or not isinstance(extra.get("kubernetes_version"), float)
    assert (versions(nodes_lab), node_state(nodes_lab)) == before


def test_a_node_not_ready_is_refused(nodes_lab, before):
    nodes_lab.labctl("stop", "kubelet-worker-1")
    try:
        nodes_lab.wait("worker-1 NotReady", lambda: not nodes_lab.node_ready("worker-1"), timeout=60)
        run = playbook(nodes_lab, "upgrade", {"kubernetes_version": "1.36"})
        assert run.returncode != 0 and any("node worker-1 is not Ready" in f for f in run.failures()), run.failures()
    finally:
        nodes_lab.labctl("start", "kubelet-worker-1")
    assert (versions(nodes_lab), node_state(nodes_lab)) == before
