"""On the lab: snapshot its etcd, delete a namespace through the API, restore, the namespace is back."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from ansible_run import run_module

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd import snapshot as etcd_snapshot

NAMESPACE = "etcd-restore-proof"


def kubectl_json(kubectl: str, kubeconfig: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [kubectl, "--kubeconfig", kubeconfig, *args], capture_output=True, text=True, timeout=60, check=False
    )


def wait_for(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(0.5)


def namespace_phase(kubectl: str, kubeconfig: str) -> str | None:
    proc = kubectl_json(kubectl, kubeconfig, "get", "namespace", NAMESPACE, "-o", "json")
    if proc.returncode != 0:
        return "NotFound" if "NotFound" in proc.stderr or "not found" in proc.stderr else None
    return json.loads(proc.stdout).get("status", {}).get("phase", "Active")


def test_lab_restore_brings_a_deleted_namespace_back(lab, kubectl, tmp_path):
    info, kubeconfig = lab.info, lab.kubeconfig
    created = kubectl_json(kubectl, kubeconfig, "create", "namespace", NAMESPACE)
    assert created.returncode == 0, created.stderr
    snapshot = etcd_snapshot.run(
        {
            "endpoints": info["etcd_endpoints"],
            "cacert": info["etcd_cacert"],
            "cert": info["etcd_cert"],
            "key": info["etcd_key"],
            "backup_dir": str(tmp_path / "backups"),
            "timeout": 120,
        }
    )
    deleted = kubectl_json(kubectl, kubeconfig, "delete", "namespace", NAMESPACE, "--wait=false")
    assert deleted.returncode == 0, deleted.stderr
    gone = wait_for(lambda: namespace_phase(kubectl, kubeconfig) in ("NotFound", "Terminating"), "namespace deleted")
    assert gone

    lab.labctl("stop", "apiserver", "etcd")
    new_data_dir = tmp_path / "etcd-restored"
    peer_url = f"https://127.0.0.1:{info['ports']['etcd_peer']}"
    restored = run_module(
        "etcd_restore",
        {
            "path": snapshot["path"],
            "data_dir": str(new_data_dir),
            "name": info["nodes"][0],
            "initial_advertise_peer_urls": [peer_url],
        },
    )
    try:
        assert not restored.get("failed"), restored
        assert restored["revision"] == snapshot["revision"] and (Path(new_data_dir) / "member").is_dir()
    finally:  # the lab must come back for the other tests, restored or not
        data_dir = ["--etcd-data-dir", str(new_data_dir)] if restored.get("changed") else []
        lab.labctl("start", "etcd", *data_dir)
        lab.labctl("start", "apiserver")
        lab.reload()
    assert wait_for(lambda: namespace_phase(kubectl, kubeconfig) == "Active", "namespace back and Active")
