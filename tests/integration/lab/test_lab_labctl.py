"""labctl's own behaviour: status, a refused option, stop/start, and a down that leaves nothing running."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from labkit.lab import stray_pids

LABCTL = Path(__file__).resolve().parents[2] / "lab" / "labctl"


def labctl(state_dir, *args, check=True):
    result = subprocess.run([str(LABCTL), *args, "--state-dir", str(state_dir)], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_status_reports_components_and_nodes(lab):
    status = json.loads(lab.labctl("status", "--json").stdout)
    components = status["components"]
    for name in ("etcd", "apiserver", "controllers", "scheduler", "kubelet-cp-1", "kubelet-worker-1"):
        assert components[name]["running"], name
        assert Path(f"/proc/{components[name]['pid']}").exists()
    assert {n: s["ready"] for n, s in status["nodes"].items()} == {"cp-1": "True", "worker-1": "True",
                                                                   "worker-2": "True"}  # fmt: skip
    info = lab.reload()
    for key in ("apiserver_url", "etcd_endpoints", "etcd_cacert", "etcd_cert", "etcd_key", "etcd_data_dir",
                "nodes", "pod_ready_delay", "time_factor", "version", "pids"):  # fmt: skip
        assert key in info, key
    assert info["nodes"] == ["cp-1", "worker-1", "worker-2"]


def test_mode_nodes_refuses_the_host_mode_node_count(tmp_path):
    result = labctl(tmp_path / "state", "up", "--mode", "nodes", "--nodes", "2", check=False)
    assert result.returncode == 1
    assert "--nodes 2 is a host-mode option: --mode nodes takes --control-planes and --workers" in result.stderr
    assert not (tmp_path / "state" / "lab.json").exists()


def test_unknown_component_is_named(lab):
    result = lab.labctl("stop", "kubelet-nope", check=False)
    assert result.returncode == 1
    assert "unknown component 'kubelet-nope'" in result.stderr


def test_one_node_lab_restarts_its_control_plane_and_leaves_nothing_behind(tmp_path):
    state = tmp_path / "lab"
    try:
        up = labctl(state, "up", "--mode", "host", "--nodes", "1")
        assert "1 nodes Ready" in up.stdout
        assert (state / "admin.conf").exists()
        info = json.loads((state / "lab.json").read_text())
        assert info["nodes"] == ["cp-1"]
        labctl(state, "stop", "apiserver", "etcd")
        assert (
            json.loads(labctl(state, "status", "--json", check=False).stdout)["components"]["etcd"]["running"] is False
        )
        labctl(state, "start", "etcd", "apiserver")
        status = json.loads(labctl(state, "status", "--json").stdout)
        assert status["nodes"]["cp-1"]["ready"] == "True", "the outage must not make the node look dead"
        labctl(state, "stop", "kubelet-cp-1")  # and the node lifecycle controller still watches after it
        deadline = time.monotonic() + 20
        while json.loads(labctl(state, "status", "--json", check=False).stdout)["nodes"]["cp-1"]["ready"] == "True":
            assert time.monotonic() < deadline, "cp-1 still Ready 20 s after its kubelet stopped"
            time.sleep(0.5)
    finally:
        down = labctl(state, "down")
    assert "etcd" in down.stdout and "controllers" in down.stdout
    assert stray_pids(state) == []
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(state) not in ps


def test_a_kubelet_restarted_with_another_version_reports_it(lab, kubectl):
    version = lab.info["version"]

    def kubelet_version() -> str:
        jsonpath = "jsonpath={.status.nodeInfo.kubeletVersion}"
        command = [kubectl, "--kubeconfig", lab.kubeconfig, "get", "node", "worker-1", "-o", jsonpath]
        return subprocess.run(command, capture_output=True, text=True).stdout

    lab.labctl("stop", "kubelet-worker-1")
    try:
        lab.labctl("start", "kubelet-worker-1", "--kubelet-version", "1.34.3")
        assert kubelet_version() == "v1.34.3"
        assert lab.reload()["kubelet_versions"] == {"worker-1": "1.34.3"}
    finally:
        lab.labctl("stop", "kubelet-worker-1")
        lab.labctl("start", "kubelet-worker-1", "--kubelet-version", version)
    assert kubelet_version() == f"v{version}"


def test_legacy_apis_profile_leaves_what_a_removed_api_scan_must_find(lab):
    import base64
    import gzip

    from labkit.kubeclient import KubeClient, path

    lab.labctl("seed", "--profile", "legacy-apis", timeout=120)
    api = KubeClient.from_kubeconfig(lab.kubeconfig)
    secrets = {
        s["metadata"]["name"]: s for s in api.get(path("secrets", "legacy"), labelSelector="owner=helm")["items"]
    }
    assert sorted(secrets) == ["sh.helm.release.v1.shop.v1", "sh.helm.release.v1.shop.v2"]
    latest = secrets["sh.helm.release.v1.shop.v2"]
    assert latest["type"] == "helm.sh/release.v1"
    assert {k: latest["metadata"]["labels"][k] for k in ("name", "owner", "status", "version")} == {
        "name": "shop", "owner": "helm", "status": "deployed", "version": "2"}  # fmt: skip
    assert secrets["sh.helm.release.v1.shop.v1"]["metadata"]["labels"]["status"] == "superseded"
    release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(latest["data"]["release"]))))
    assert (release["name"], release["version"], release["info"]["status"]) == ("shop", 2, "deployed")
    for removed in ('apiVersion": "extensions/v1beta1', 'apiVersion": "policy/v1beta1', 'apiVersion": "batch/v1beta1'):
        assert removed in release["manifest"], removed
    assert "apps/v1beta2" not in release["manifest"]  # only the superseded revision used it
    catalog = api.get(path("deployments", "legacy", "catalog"))
    applied = json.loads(catalog["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert applied["apiVersion"] == "extensions/v1beta1" and catalog["apiVersion"] == "apps/v1"
    metrics = api.request("GET", "/metrics")["text"]
    assert 'apiserver_requested_deprecated_apis{group="",removed_release="",resource="componentstatuses"' in metrics
