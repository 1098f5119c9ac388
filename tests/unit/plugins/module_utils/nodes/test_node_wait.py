# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_wait on a fake API and a fake clock: what it waits for, and what its failure says."""

from __future__ import annotations

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import (
    ApiError,
    InvalidInput,
    OperationTimeout,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.wait import (
    NodeWait,
    WaitOptions,
    normalize_version,
)
from ansible_collections.cluster_ops.kubeadm.tests.unit.plugins.module_utils.nodes.drain_fake import make_pod


def node(
    ready="True", version="v1.35.2", reason="KubeletReady", message="kubelet is posting ready status", boot="boot-1"
):
    return {
        "metadata": {"name": "worker-1"},
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": ready, "reason": reason, "message": message}],
            "nodeInfo": {"kubeletVersion": version, "bootID": boot},
        },
    }


class ScriptedApi:
    """Answers reads from a script: one entry per poll (the last one repeats)."""

    def __init__(self, nodes, pods=None):
        self.nodes = list(nodes)
        self.pods = list(pods or [[]])
        self.reads = 0

    def get_node(self, name):
        answer = self.nodes[min(self.reads, len(self.nodes) - 1)]
        self.reads += 1
        if isinstance(answer, Exception):
            raise answer
        return answer

    def list_pods(self, node_name, selector):
        return self.pods[min(self.reads - 1, len(self.pods) - 1)], "1"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def wait(api, **options):
    clock = Clock()
    options.setdefault("timeout", 10)
    options = WaitOptions.from_params({"node": "worker-1", **options})
    return NodeWait(api, options, clock=clock, sleep=clock.sleep).run()


def test_ready_node_returns_at_once():
    result = wait(ScriptedApi([node()]))
    assert result["ready"] and result["polls"] == 1 and result["kubelet_version"] == "v1.35.2"
    assert result["changed"] is False


def test_waits_through_missing_node_api_outage_and_not_ready():
    missing = ApiError("read node worker-1 failed: 404 not found", status=404)
    outage = ApiError("read node worker-1 failed: connection refused", status=0)
    result = wait(ScriptedApi([missing, outage, node("False", reason="KubeletNotReady"), node()]))
    assert result["ready"] and result["polls"] == 4 and result["elapsed"] == 3.0


def test_kubelet_version_with_or_without_v():
    api = ScriptedApi([node(version="v1.34.3"), node(version="v1.35.2")])
    assert wait(api, kubelet_version="1.35.2")["polls"] == 2
    assert normalize_version("1.35.2") == normalize_version("v1.35.2") == "v1.35.2"


@pytest.mark.parametrize("bad", ["banana", "1.35", ""])
def test_a_bad_kubelet_version_is_refused_naming_it(bad):
    with pytest.raises(InvalidInput, match=repr(bad)):
        normalize_version(bad)


def test_timeout_says_what_was_last_seen():
    api = ScriptedApi([node("False", version="v1.34.3", reason="KubeletNotReady", message="runtime is down")])
    with pytest.raises(OperationTimeout) as failure:
        wait(api, timeout=5, kubelet_version="v1.35.2")
    assert failure.value.message == (
        "node worker-1 was not ready within 5s; last seen: Ready is not True (KubeletNotReady: runtime is down); "
        "kubelet v1.34.3, want v1.35.2"
    )
    assert failure.value.details["polls"] == 6  # at 0, 1, ..., 5 s


def test_daemonset_pods_must_be_running():
    pending = make_pod("proxy-a", owner="DaemonSet", phase="Pending", namespace="kube-system")
    running = make_pod("proxy-a", owner="DaemonSet", phase="Running", namespace="kube-system")
    other = make_pod("web-0", phase="Pending")  # not a DaemonSet pod: not waited for
    api = ScriptedApi([node()], pods=[[pending, other], [running, other]])
    result = wait(api, daemonsets_running=True)
    assert result["polls"] == 2 and result["daemonset_pods_not_running"] == []

    api = ScriptedApi([node()], pods=[[pending]])
    with pytest.raises(OperationTimeout, match=r"DaemonSet pods not Running: kube-system/proxy-a \(Pending\)"):
        wait(api, daemonsets_running=True, timeout=3)


def test_missing_node_at_the_timeout():
    api = ScriptedApi([ApiError("404", status=404)])
    with pytest.raises(OperationTimeout, match="last seen: node 'worker-1' does not exist"):
        wait(api, timeout=2)


@pytest.mark.parametrize("options", [{"timeout": 0}, {"kubelet_version": " "}, {"interval": 0}])
def test_bad_options(options):
    with pytest.raises(InvalidInput):
        WaitOptions.from_params({"node": "worker-1", "timeout": 5, **options})


def test_after_a_reboot_a_stale_ready_is_not_enough_the_boot_id_must_change():
    # Ready stays True from before the reboot until the kubelet of the new boot reports its new boot ID.
    result = wait(ScriptedApi([node(), node(), node(boot="boot-2")]), previous_boot_id="boot-1")
    assert result["polls"] == 3 and result["boot_id"] == "boot-2"


def test_a_kubelet_that_never_reports_after_the_reboot_times_out_naming_the_boot_id():
    with pytest.raises(OperationTimeout) as failure:
        wait(ScriptedApi([node()]), previous_boot_id="boot-1", timeout=5)
    assert "boot ID boot-1 is still the one before the reboot" in failure.value.message
    assert failure.value.details["last_seen"]["ready"] is True


def test_an_empty_previous_boot_id_is_refused():
    with pytest.raises(InvalidInput, match="previous_boot_id must be the boot ID a node reported"):
        wait(ScriptedApi([node()]), previous_boot_id=" ")
