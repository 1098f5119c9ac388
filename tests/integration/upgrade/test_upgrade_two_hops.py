"""Two minors in one run from the legacy repository, an administrator's cordon kept, check mode, a re-run that
changes nothing, and OS patching with a real reboot, on one control plane and one worker.

The lab starts at v1.34.3 with its packages from the legacy apt.kubernetes.io-style repository.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request

import pytest

from playbooks import playbook, versions

LAB_ARGS = ("--control-planes", "1", "--workers", "1", "--version", "1.34.3", "--legacy-repo")
NODES = ("cp-1", "worker-1")


def apt_state(lab, node: str) -> str:
    return lab.ssh(
        node, "grep -rh '^deb' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; apt-mark showhold"
    ).stdout


class HidingMirror:
    """A mirror of the lab's repository that answers 403 for one minor, as pkgs.k8s.io does for a missing one."""

    def __init__(self, upstream: str, hidden: str) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if f"/v{hidden}/" in self.path:
                    self.send_error(403)
                    return
                try:
                    with urllib.request.urlopen(outer.upstream + self.path, timeout=30) as answer:
                        body, status = answer.read(), answer.status
                except urllib.error.HTTPError as exc:
                    body, status = exc.read(), exc.code
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.upstream = upstream.split("/core:", 1)[0]
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/core:/stable:"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def administrator_cordon(nodes_lab):
    nodes_lab.kubectl("cordon", "worker-1")
    return "worker-1"


def test_a_minor_missing_from_the_repository_cannot_be_skipped(nodes_lab, administrator_cordon):
    before = versions(nodes_lab), {node: apt_state(nodes_lab, node) for node in NODES}
    mirror = HidingMirror(nodes_lab.repo_base(), "1.35")
    try:
        run = playbook(nodes_lab, "upgrade", {"kubernetes_version": "1.36", "preflight_repo_base_url": mirror.base})
    finally:
        mirror.close()
    assert run.returncode != 0
    failures = run.failures()
    assert any("/v1.35/ does not exist (403): no such minor" in failure for failure in failures), failures
    assert any("beyond the newest released minor v1.34" in failure for failure in failures), failures
    assert (versions(nodes_lab), {node: apt_state(nodes_lab, node) for node in NODES}) == before


def test_check_mode_changes_nothing_and_says_what_it_would_do(nodes_lab, administrator_cordon):
    before = versions(nodes_lab), {node: apt_state(nodes_lab, node) for node in NODES}
    run = playbook(nodes_lab, "upgrade", {"kubernetes_version": "1.36"}, check=True)
    assert run.returncode == 0, run.output[-4000:]
    assert "would install kubeadm 1.35.3" in run.output and "would install kubelet, kubectl 1.36.3" in run.output
    assert run.recap["cp-1"]["changed"] > 0  # what a real run would change
    assert (versions(nodes_lab), {node: apt_state(nodes_lab, node) for node in NODES}) == before


def test_two_hops_in_one_run_off_the_legacy_repository(nodes_lab, administrator_cordon):
    assert "apt.kubernetes.io" in apt_state(nodes_lab, "cp-1")
    run = playbook(nodes_lab, "upgrade", {"kubernetes_version": "1.36"})
    assert run.returncode == 0, run.output[-6000:]
    assert "v1.34.3 -> v1.36.3 through v1.35.3 -> v1.36.3" in run.output
    after = versions(nodes_lab)
    assert after["kubelet"] == {"cp-1": "v1.36.3", "worker-1": "v1.36.3"}
    assert after["static_pods"] == ["v1.36.3", "v1.36.3"] and after["kubeadm_config"] == "v1.36.3"
    assert after["kube_proxy"].endswith(":v1.36.3")
    assert after["unschedulable"] == {"cp-1": False, "worker-1": True}  # the administrator's cordon stays
    for node in NODES:
        state = apt_state(nodes_lab, node)
        assert "apt.kubernetes.io" not in state and "/core:/stable:/v1.36/deb/ /" in state, state
        assert {"kubeadm", "kubelet", "kubectl"} <= set(state.split()), state  # held again


def test_a_second_run_changes_nothing(nodes_lab, administrator_cordon):
    run = playbook(nodes_lab, "upgrade", {"kubernetes_version": "1.36"})
    assert run.returncode == 0 and run.changed == 0, (run.recap, run.output[-3000:])


def test_a_node_a_stopped_run_left_cordoned_at_the_target_is_put_back_into_service(nodes_lab, administrator_cordon):
    # What node_drain leaves on a node it cordoned, as a run that stopped after the last node's restart would.
    nodes_lab.kubectl("cordon", "cp-1")
    nodes_lab.kubectl("annotate", "node", "cp-1", "cluster-ops.io/cordoned-by=cluster_ops.kubeadm")
    run = playbook(nodes_lab, "upgrade", {"kubernetes_version": "1.36"})
    assert run.returncode == 0 and run.changed == 1, (run.recap, run.output[-3000:])  # the uncordon
    assert versions(nodes_lab)["unschedulable"] == {"cp-1": False, "worker-1": True}
    assert "cordoned-by" not in str(nodes_lab.get("node", "cp-1")["metadata"].get("annotations"))


def test_os_patching_reboots_when_asked_and_keeps_the_cordon(nodes_lab, administrator_cordon):
    for node in NODES:  # /run is the boot's own: a real reboot empties it
        nodes_lab.ssh(node, "touch /run/before-the-patch")
    run = playbook(nodes_lab, "os_patch")
    assert run.returncode == 0, run.output[-6000:]
    for node in NODES:
        state = nodes_lab.ssh(node, "dpkg-query -W -f '${Version}' lab-kernel; ls /run/before-the-patch 2>&1; true")
        assert state.stdout.startswith("1.1") and "No such file" in state.stdout, state.stdout
    assert versions(nodes_lab)["unschedulable"] == {"cp-1": False, "worker-1": True}
    again = playbook(nodes_lab, "os_patch")
    assert again.returncode == 0 and again.changed == 0, again.recap
