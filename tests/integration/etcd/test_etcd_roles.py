"""The etcd_backup and etcd_restore roles with ansible-playbook on localhost, against real etcd members
run from static pod manifests by static_pod_runner.py (so moving manifests really stops and starts etcd)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from ansible_run import REPO, ansible_env
from etcdlab import ETCDCTL, Cluster
from labkit.manifests import static_pod
from labkit.net import free_ports

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, pki, items):
    """3 'nodes' (directories with a manifests dir), a stacked etcd member and a stand-in apiserver on each."""
    base = tmp_path_factory.mktemp("nodes")
    cluster = Cluster(base / "cluster", 3, pki)
    readyz = base / "www"
    readyz.mkdir()
    (readyz / "readyz").write_text("ok")
    hosts = {}
    for index, member in enumerate(cluster.members, start=1):
        node = base / f"node{index}"
        manifests = node / "manifests"
        manifests.mkdir(parents=True)
        member.data_dir = node / "var-lib-etcd"
        api_port = free_ports(1)[0]
        apiserver = [
            sys.executable,
            "-m",
            "http.server",
            str(api_port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(readyz),
        ]
        (manifests / "etcd.yaml").write_text(
            yaml.safe_dump(static_pod("etcd", "registry.k8s.io/etcd:3.4.23-0", cluster.command(member)))
        )
        (manifests / "kube-apiserver.yaml").write_text(
            yaml.safe_dump(static_pod("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.35.2", apiserver))
        )
        hosts[f"node{index}"] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "etcd_backup_endpoints": [member.client_url],
            "etcd_backup_cacert": str(pki / "ca.crt"),
            "etcd_backup_cert": str(pki / "healthcheck-client.crt"),
            "etcd_backup_key": str(pki / "healthcheck-client.key"),
            "etcd_backup_dir": str(node / "backups"),
            "etcd_backup_kubeadm_backups_dir": str(node / "kubeadm-tmp"),
            "etcd_restore_manifests_dir": str(manifests),
            "etcd_restore_manifests_aside_dir": str(node / "manifests-aside"),
            "etcd_restore_snapshot_dir": str(node / "restore"),
            "etcd_restore_apiserver_url": f"http://127.0.0.1:{api_port}",
        }
    inventory = base / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"etcd": {"hosts": hosts}}}}))
    logs = base / "logs"
    logs.mkdir()
    runner = subprocess.Popen(
        [sys.executable, str(HERE / "static_pod_runner.py"), "--log-dir", str(logs)]
        + [str(base / f"node{i}" / "manifests") for i in (1, 2, 3)]
    )
    try:
        cluster.wait_healthy(60)
        cluster.put_many(items)
        yield {"base": base, "cluster": cluster, "inventory": inventory}
    finally:
        runner.terminate()
        runner.wait(60)


def playbook(
    name: str, inventory: Path, extra: dict, check: bool = False, fails: bool = False, umask: int = 0o022
) -> str:
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(inventory),
        str(REPO / "playbooks" / name),
    ]
    command += ["-e", json.dumps(extra)] + (["--check"] if check else [])
    env = ansible_env({"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_NOCOLOR": "1"})
    proc = subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        check=False,
        preexec_fn=lambda: os.umask(umask),
    )
    assert (proc.returncode != 0) == fails, (
        f"{name} rc {proc.returncode}:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


def test_backup_then_restore_the_whole_stacked_cluster(nodes, items):
    base, cluster, inventory = nodes["base"], nodes["cluster"], nodes["inventory"]
    fetched = base / "controller"
    backup_vars = {"etcd_backup_fetch": True, "etcd_backup_fetch_dir": str(fetched), "etcd_backup_become": False}

    playbook("etcd_backup.yml", inventory, backup_vars, check=True)
    assert not (base / "node1" / "backups").exists() and not fetched.exists()

    out = playbook("etcd_backup.yml", inventory, backup_vars, umask=0o000)
    snapshots = sorted((base / "node1" / "backups").glob("etcd-snapshot-*.db"))
    assert len(snapshots) == 1 and "verified: revision" in out
    assert not (base / "node2" / "backups").exists()  # only the first member by default
    copy = fetched / "node1" / snapshots[0].name
    sha256 = (fetched / "node1" / f"{snapshots[0].name}.sha256").read_text().split()[0]
    assert copy.read_bytes() == snapshots[0].read_bytes()
    assert sha256 == hashlib.sha256(copy.read_bytes()).hexdigest()
    # Every Secret of the cluster is in there: private on the controller as on the node, whatever the umask.
    modes = {path: oct(path.stat().st_mode & 0o777) for path in (fetched, fetched / "node1", copy)}
    modes[copy.with_name(f"{copy.name}.sha256")] = oct(copy.with_name(f"{copy.name}.sha256").stat().st_mode & 0o777)
    assert list(modes.values()) == ["0o700", "0o700", "0o600", "0o600"], modes

    # the disaster: keys deleted and overwritten after the snapshot
    assert cluster.etcdctl("del", "/registry/test/key-0", "--prefix").returncode == 0
    cluster.put_many({"/registry/test/written-later": "x"})
    assert len(cluster.get_prefix("/registry/test/")) == 1

    restore_vars = {"etcd_restore_snapshot": str(copy), "etcd_restore_become": False, "etcd_restore_wait_timeout": 60}
    playbook("etcd_restore.yml", inventory, restore_vars, check=True)
    assert all((base / f"node{i}" / "manifests" / "etcd.yaml").exists() for i in (1, 2, 3))
    assert len(cluster.get_prefix("/registry/test/")) == 1  # check mode stopped nothing

    out = playbook("etcd_restore.yml", inventory, restore_vars)
    assert "restored" in out and "as member m1" in out
    cluster.wait_healthy(60)
    for member in cluster.members:
        assert cluster.get_prefix_from(member, "/registry/test/") == items
    for i in (1, 2, 3):
        node = base / f"node{i}"
        assert sorted(p.name for p in (node / "manifests").iterdir()) == ["etcd.yaml", "kube-apiserver.yaml"]
        assert list((node / "manifests-aside").iterdir()) == []
        old = list(node.glob("var-lib-etcd.old-*"))
        assert len(old) == 1 and (old[0] / "member").is_dir()  # the old data is kept
        assert oct(os.stat(node / "var-lib-etcd").st_mode & 0o777) == "0o700"


def test_backup_installs_etcdctl_from_a_checked_tarball(nodes, tmp_path):
    tarball = tmp_path / "etcd-v3.4.23-linux-amd64.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(ETCDCTL, arcname="etcd-v3.4.23-linux-amd64/etcdctl")
    tools = tmp_path / "tools"
    extra = {
        "etcd_backup_become": False,
        "etcd_backup_etcdctl_install": "tarball",
        "etcd_backup_etcdctl_tarball_url": f"file://{tarball}",
        "etcd_backup_tools_dir": str(tools),
    }
    out = playbook("etcd_backup.yml", nodes["inventory"], extra, fails=True)
    assert "needs etcd_backup_etcdctl_tarball_url and etcd_backup_etcdctl_tarball_checksum" in out
    extra["etcd_backup_etcdctl_tarball_checksum"] = f"sha256:{hashlib.sha256(tarball.read_bytes()).hexdigest()}"
    out = playbook("etcd_backup.yml", nodes["inventory"], extra)
    assert (tools / "etcdctl").is_file() and "verified: revision" in out


def test_an_unreadable_manifest_fails_naming_it_and_changes_nothing(tmp_path):
    node = tmp_path / "node"
    (node / "manifests" / "etcd.yaml").mkdir(parents=True)  # unreadable as a file, even for root
    inventory = tmp_path / "inventory.yml"
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "etcd_restore_manifests_dir": str(node / "manifests"),
        "etcd_restore_manifests_aside_dir": str(node / "manifests-aside"),
        "etcd_restore_snapshot_dir": str(node / "restore"),
    }
    inventory.write_text(yaml.safe_dump({"all": {"children": {"etcd": {"hosts": {"node1": host}}}}}))
    restore_vars = {"etcd_restore_snapshot": str(tmp_path / "never-read.db"), "etcd_restore_become": False}
    out = playbook("etcd_restore.yml", inventory, restore_vars, fails=True)
    assert f"source is a directory and must be a file: {node / 'manifests' / 'etcd.yaml'}" in out.lower()
    assert sorted(p.name for p in node.iterdir()) == ["manifests"]  # nothing moved, nothing restored
