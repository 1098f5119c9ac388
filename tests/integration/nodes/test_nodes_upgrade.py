"""One control plane and two workers as node containers: SSH and Ansible, real apt against the signed repository,
OS patching with a reboot, then a kubeadm upgrade from v1.35.2 to v1.36.1 with its refusals and its rollback.

The tests run in file order and build on each other (the lab is shared: one upgrade path, as an operator walks it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml
from labkit.nodes.addresses import BLOCKS_DIR
from labkit.nodes.overlay import mounted
from labkit.nodes.processes import processes_inside, stray_processes
from nodes_helpers import REPO

LAB_ARGS = ("--control-planes", "1", "--workers", "2", "--node-version", "worker-2=1.34.3")
KUBEADM_CONFIG_TIMEOUT = (
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: UpgradeConfiguration\ntimeouts:\n  upgradeManifests: 10s\n"
)


def images(lab) -> dict[str, str]:
    pods = lab.get("pods", "-n", "kube-system")["items"]
    return {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in pods}


def server_version(lab) -> str:
    return json.loads(lab.kubectl("get", "--raw", "/version").stdout)["gitVersion"]


def test_up_prints_and_writes_the_inventory_and_kubeconfig(nodes_lab):
    lab = nodes_lab
    assert f"inventory: {lab.inventory}" in lab.up_output
    assert f"kubeconfig: {lab.kubeconfig}" in lab.up_output
    inventory = yaml.safe_load(lab.inventory.read_text())["all"]
    variables = inventory["vars"]
    block = lab.info["block"]
    assert variables["pkgs_repo_base_url"] == f"http://127.0.{block}.1/core:/stable:"
    assert variables["lab_kubeconfig"] == lab.kubeconfig
    assert variables["ansible_user"] == "root" and variables["ansible_python_interpreter"] == "/usr/bin/python3"
    assert "StrictHostKeyChecking=no" in variables["ansible_ssh_common_args"]
    groups = inventory["children"]["k8s_cluster"]["children"]
    assert groups["kube_control_plane"]["hosts"]["cp-1"]["ansible_host"] == f"127.0.{block}.11"
    assert groups["kube_control_plane"]["hosts"]["cp-1"]["etcd_backup_endpoints"] == [f"https://127.0.{block}.11:2379"]
    assert sorted(groups["kube_node"]["hosts"]) == ["worker-1", "worker-2"]
    assert inventory["children"]["etcd"] == {"children": {"kube_control_plane": {}}}
    versions = {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in lab.get("nodes")["items"]}
    assert versions == {"cp-1": "v1.35.2", "worker-1": "v1.35.2", "worker-2": "v1.34.3"}


def test_ansible_reaches_every_node(nodes_lab):
    ansible = REPO / ".venv" / "bin" / "ansible"
    result = subprocess.run([str(ansible), "-i", str(nodes_lab.inventory), "all", "-m", "ping", "-o"],
                            capture_output=True, text=True, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for node in ("cp-1", "worker-1", "worker-2"):
        assert re.search(rf"^{node} \| SUCCESS", result.stdout, re.M), result.stdout


def test_the_etcd_backup_role_runs_on_the_first_control_plane(nodes_lab):
    lab = nodes_lab
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"), "ANSIBLE_NOCOLOR": "1"}
    command = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(lab.inventory),
               str(REPO / "playbooks" / "etcd_backup.yml")]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert f"taken from https://{lab.address('cp-1')}:2379 and verified" in result.stdout
    snapshots = lab.ssh("cp-1", "ls /var/backups/etcd").stdout
    assert re.search(r"^etcd-snapshot-\d{8}T\d{6}Z\.db$", snapshots, re.M), snapshots
    source = lab.ssh("cp-1", "apt-cache policy etcd-client").stdout  # installed by the role from the lab's OS repo
    assert f"http://{lab.info['repo_url'].split('//')[1]}/debian bookworm/main" in source


def test_nodes_are_laid_out_as_kubeadm_lays_them_out(nodes_lab):
    lab = nodes_lab
    control_plane = lab.ssh("cp-1", "ls /etc/kubernetes /etc/kubernetes/manifests /etc/kubernetes/pki "
                                    "/etc/kubernetes/pki/etcd /var/lib/kubelet").stdout.split()  # fmt: skip
    for name in ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf", "kubelet.conf",
                 "etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml",
                 "ca.crt", "ca.key", "apiserver.crt", "apiserver-etcd-client.key", "front-proxy-client.crt", "sa.pub",
                 "server.crt", "peer.key", "healthcheck-client.crt", "config.yaml", "kubeadm-flags.env"):  # fmt: skip
        assert name in control_plane, name
    worker = lab.ssh("worker-1", "ls /etc/kubernetes; ls /etc/kubernetes/manifests | wc -l").stdout.split()
    assert "kubelet.conf" in worker and "admin.conf" not in worker and worker[-1] == "0"
    units = lab.ssh("cp-1", "systemctl cat kubelet | grep -E '^# /|^ExecStart=/usr/bin/kubelet'; "
                            "systemctl is-active kubelet").stdout  # fmt: skip
    assert "/lib/systemd/system/kubelet.service\n" in units
    assert "/lib/systemd/system/kubelet.service.d/10-kubeadm.conf\n" in units
    assert "ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS" in units
    assert units.strip().endswith("active")
    apt = lab.ssh("worker-2", "apt-mark showhold; cat /etc/apt/sources.list.d/kubernetes.list").stdout
    assert apt.split()[:3] == ["kubeadm", "kubectl", "kubelet"]
    assert (f"deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {lab.repo_base()}/v1.34/deb/ /") in apt
    mirror = lab.ssh("worker-2", "grep -rl deb.debian.org /etc/apt", check=False)
    assert mirror.returncode == 1 and mirror.stdout == "", "a node must not have the Debian mirror configured"


def test_the_control_plane_reports_its_manifests_versions(nodes_lab):
    assert server_version(nodes_lab) == "v1.35.2"
    found = images(nodes_lab)
    assert found["kube-apiserver-cp-1"] == "registry.k8s.io/kube-apiserver:v1.35.2"
    assert found["kube-scheduler-cp-1"] == "registry.k8s.io/kube-scheduler:v1.35.2"
    assert found["etcd-cp-1"] == "registry.k8s.io/etcd:3.6.5-0"
    etcd = nodes_lab.ssh("cp-1", "etcd --version | head -1").stdout
    assert "3.4." in etcd  # whatever the tag says, the binary is Debian's etcd 3.4


def test_os_patching_asks_for_a_reboot_and_the_node_comes_back(nodes_lab):
    lab = nodes_lab
    plan = lab.ssh("worker-2", "apt-get update -q >/dev/null && apt-get -s upgrade | grep ^Inst").stdout.splitlines()
    assert [line.split()[1] for line in plan] == ["lab-kernel"], plan
    lab.ssh("worker-2", "DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -q")
    assert lab.ssh("worker-2", "cat /var/run/reboot-required.pkgs").stdout.strip() == "lab-kernel"
    before = lab.node_object("worker-2")["status"]["nodeInfo"]["bootID"]
    lab.ssh("worker-2", "systemctl reboot", check=False)

    def back() -> bool:
        node = lab.node_object("worker-2")
        return node["status"]["nodeInfo"]["bootID"] != before and lab.node_ready("worker-2")

    lab.wait("worker-2 Ready after its reboot", back, timeout=120)
    after = lab.ssh("worker-2", "test -e /var/run/reboot-required && echo pending || echo clear; "
                                "dpkg-query -W -f='${Version}' lab-kernel").stdout.split()  # fmt: skip
    assert after == ["clear", "1.1"]
    assert "boot 2:" in (lab.state_dir / "logs" / "node-worker-2.log").read_text()


def test_apt_installs_from_a_minor_repository_and_refuses_bad_ones(nodes_lab):
    lab = nodes_lab
    in_release = lab.state_dir / "repo" / "core:" / "stable:" / "v1.36" / "deb" / "InRelease"
    signed = in_release.read_text()
    lab.configure_minor("worker-2", "1.36")
    try:
        in_release.write_text(signed.replace("Label: isv:kubernetes", "Label: isv:tampered"))
        tampered = lab.ssh("worker-2", "apt-get update", check=False)
    finally:
        in_release.write_text(signed)
    assert tampered.returncode != 0
    assert "The following signatures were invalid: BADSIG" in tampered.stdout + tampered.stderr
    assert re.search(r"E: The repository '.*/v1\.36/deb  InRelease' is not signed", tampered.stderr), tampered.stderr
    lab.use_minor("worker-2", "1.36")
    madison = lab.ssh("worker-2", "apt-cache madison kubeadm").stdout
    assert [line.split("|")[1].strip() for line in madison.splitlines()] == [f"1.36.{p}-1.1" for p in (3, 2, 1, 0)]
    lab.install("worker-2", "kubeadm=1.36.1-1.1")
    assert lab.ssh("worker-2", "kubeadm version -o short").stdout.strip() == "v1.36.1"
    missing = f"{lab.repo_base()}/v1.38/deb/"
    key = lab.ssh("worker-2", f"curl -fsS {missing}Release.key", check=False)
    assert key.returncode == 22 and "403" in key.stderr
    lab.ssh("worker-2", f"echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {missing} /' "
                        "> /etc/apt/sources.list.d/kubernetes.list")  # fmt: skip
    forbidden = lab.ssh("worker-2", "apt-get update", check=False)
    assert forbidden.returncode != 0
    assert re.search(r"Failed to fetch .*/v1\.38/deb/InRelease\s+403\s+Forbidden", forbidden.stdout + forbidden.stderr)
    lab.use_minor("worker-2", "1.34")


def test_kubectl_on_a_node_is_the_real_one_reporting_its_package_version(nodes_lab):
    client = json.loads(nodes_lab.ssh("cp-1", "kubectl version --client -o json").stdout)["clientVersion"]
    assert client["gitVersion"] == "v1.35.2"
    nodes = nodes_lab.ssh("cp-1", "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name").stdout
    assert nodes.split() == ["node/cp-1", "node/worker-1", "node/worker-2"]


def test_restarting_the_kubelet_leaves_the_static_pods_running(nodes_lab):
    lab = nodes_lab
    pids = "systemctl show -p MainPID --value $(systemctl list-units --plain --no-legend 'kubepod-*' | cut -d' ' -f1)"
    before = lab.ssh("cp-1", pids).stdout.split()
    assert len(before) == 4 and "0" not in before
    lab.labctl("stop", "kubelet-cp-1")
    lab.labctl("start", "kubelet-cp-1")
    assert lab.ssh("cp-1", pids).stdout.split() == before


def test_a_notready_control_plane_is_refused(nodes_lab):
    lab = nodes_lab
    lab.use_minor("cp-1", "1.36")
    lab.install("cp-1", "kubeadm=1.36.1-1.1")
    lab.labctl("stop", "kubelet-cp-1")
    try:
        lab.wait("cp-1 NotReady", lambda: not lab.node_ready("cp-1"), timeout=60)
        result = lab.ssh("cp-1", f"kubeadm upgrade apply v1.36.1 -y {lab.health_flags()}", check=False)
    finally:
        lab.labctl("start", "kubelet-cp-1")
    assert result.returncode == 1
    assert "error: error execution phase preflight: [preflight] Some fatal errors occurred:" in result.stderr
    assert "\t[ERROR ControlPlaneNodesReady]: there are NotReady control-planes in the cluster: [cp-1]" in result.stderr
    assert server_version(lab) == "v1.35.2"


def test_skipping_a_minor_and_a_target_above_kubeadm_are_refused(nodes_lab):
    lab = nodes_lab
    skip = lab.ssh("cp-1", f"kubeadm upgrade apply v1.37.0 -y {lab.health_flags()}", check=False)
    assert skip.returncode == 1
    assert "the version argument is invalid due to these fatal errors:" in skip.stderr
    assert ('\t- Specified version to upgrade to "v1.37.0" is too high; kubeadm can upgrade only 1 minor version at '
            "a time") in skip.stderr  # fmt: skip
    assert ('Specified version to upgrade to "v1.37.0" is at least one minor release higher than the kubeadm minor '
            "release (37 > 36). Such an upgrade is not supported") in skip.stderr  # fmt: skip
    assert "Please fix the misalignments highlighted above and try upgrading again" in skip.stderr
    above = lab.ssh("cp-1", f"kubeadm upgrade apply v1.36.2 -y {lab.health_flags()}", check=False)
    assert above.returncode == 1
    assert ('Specified version to upgrade to "v1.36.2" is higher than the kubeadm version "v1.36.1". Upgrade '
            "kubeadm first using the tool you used to install kubeadm") in above.stderr  # fmt: skip
    assert "Can be bypassed if you pass the --force flag" in above.stderr
    assert "[upgrade/versions] Cluster version: v1.35.2" in above.stdout
    assert server_version(lab) == "v1.35.2"


def test_plan_shows_the_upgrade(nodes_lab):
    lab = nodes_lab
    plan = json.loads(lab.ssh("cp-1", f"kubeadm upgrade plan v1.36.1 -o json {lab.health_flags()}").stdout)
    assert plan["kind"] == "UpgradePlan" and plan["apiVersion"] == "output.kubeadm.k8s.io/v1alpha3"
    (upgrade,) = plan["availableUpgrades"]
    components = {
        (c["name"], c.get("nodeName", "")): (c["currentVersion"], c["newVersion"]) for c in upgrade["components"]
    }
    assert components[("kube-apiserver", "cp-1")] == ("v1.35.2", "v1.36.1")
    assert components[("kubelet", "worker-2")] == ("v1.34.3", "v1.36.1")
    assert components[("etcd", "cp-1")] == ("3.6.5-0", "3.6.6-0")
    text = lab.ssh("cp-1", f"kubeadm upgrade plan v1.36.1 {lab.health_flags()}").stdout
    assert "[upgrade/versions] Cluster version: 1.35.2\n" in text
    # Go's tabwriter: each column as wide as its widest cell plus 3, at least 10; the last column unpadded
    assert "COMPONENT   NODE       CURRENT   TARGET\nkubelet     worker-2   v1.34.3   v1.36.1\n" in text
    header = "COMPONENT                 NODE      CURRENT   TARGET\n"
    assert f"\n{header}kube-apiserver            cp-1      v1.35.2   v1.36.1\n" in text
    assert "\nkube-proxy                          1.35.2    v1.36.1\n" in text
    assert "\tkubeadm upgrade apply v1.36.1\n" in text


def test_a_component_that_does_not_come_up_is_rolled_back(nodes_lab):
    lab = nodes_lab
    config_map = lab.get("configmap", "-n", "kube-system", "kubeadm-config")
    original = config_map["data"]["ClusterConfiguration"]
    broken = yaml.safe_load(original)
    broken["apiServer"] = {"extraArgs": [{"name": "no-such-flag", "value": "1"}]}
    config_map["data"]["ClusterConfiguration"] = yaml.safe_dump(broken)
    subprocess.run([str(REPO / ".venv/bin/kubectl"), "--kubeconfig", lab.kubeconfig, "replace", "-f", "-"],
                   input=json.dumps(config_map), text=True, check=True, capture_output=True)  # fmt: skip
    hash_before = lab.get("pod", "-n", "kube-system", "kube-apiserver-cp-1")["metadata"]["annotations"]
    try:
        lab.ssh("cp-1", f"printf '{KUBEADM_CONFIG_TIMEOUT}' > /root/upgrade.yaml")
        result = lab.ssh("cp-1", f"kubeadm upgrade apply v1.36.1 -y --etcd-upgrade=false --config /root/upgrade.yaml "
                                 f"{lab.health_flags()}", check=False)  # fmt: skip
    finally:
        lab.wait("the API server back", lambda: server_version(lab) == "v1.35.2", timeout=90)
        current = lab.get("configmap", "-n", "kube-system", "kubeadm-config")
        current["data"]["ClusterConfiguration"] = original
        subprocess.run([str(REPO / ".venv/bin/kubectl"), "--kubeconfig", lab.kubeconfig, "replace", "-f", "-"],
                       input=json.dumps(current), text=True, check=True, capture_output=True)  # fmt: skip
    assert result.returncode == 1
    rolled_back = (
        "error: error execution phase control-plane: couldn't complete the static pod upgrade: couldn't upgrade "
        "control plane. kubeadm has tried to recover everything into the earlier state. Errors faced: "
    )
    assert rolled_back in result.stderr
    manifest = lab.ssh("cp-1", "cat /etc/kubernetes/manifests/kube-apiserver.yaml").stdout
    assert "kube-apiserver:v1.35.2" in manifest and "no-such-flag" not in manifest
    journal = lab.ssh(
        "cp-1", "journalctl --no-pager -u 'kubepod-kube-apiserver*' | grep -c 'unknown flag: --no-such-flag'"
    )
    assert int(journal.stdout) >= 1

    def old_mirror_pod() -> bool:
        annotations = lab.get("pod", "-n", "kube-system", "kube-apiserver-cp-1")["metadata"]["annotations"]
        return bool(annotations["kubernetes.io/config.hash"] == hash_before["kubernetes.io/config.hash"])

    lab.wait("the old mirror pod", old_mirror_pod, timeout=60)


def test_upgrade_apply_moves_the_control_plane_and_leaves_its_backups(nodes_lab):
    lab = nodes_lab
    before = lab.get("pod", "-n", "kube-system", "kube-apiserver-cp-1")["metadata"]["annotations"]
    result = lab.ssh("cp-1", f"kubeadm upgrade apply v1.36.1 -y {lab.health_flags()}")
    upgraded_dir = re.search(r'Writing new Static Pod manifests to "([^"]+)"', result.stdout)
    assert upgraded_dir and lab.ssh("cp-1", f"test -e {upgraded_dir[1]}", check=False).returncode == 1
    assert '[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v1.36.1".' in result.stdout
    assert '[upgrade/staticpods] Component "etcd" upgraded successfully!' in result.stdout
    assert "[addons] Applied essential addon: CoreDNS" in result.stdout
    assert server_version(lab) == "v1.36.1"
    found = images(lab)
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert found[f"{component}-cp-1"] == f"registry.k8s.io/{component}:v1.36.1"
    assert found["etcd-cp-1"] == "registry.k8s.io/etcd:3.6.6-0"
    after = lab.get("pod", "-n", "kube-system", "kube-apiserver-cp-1")["metadata"]["annotations"]
    assert after["kubernetes.io/config.hash"] != before["kubernetes.io/config.hash"]
    config = yaml.safe_load(lab.get("configmap", "-n", "kube-system", "kubeadm-config")["data"]["ClusterConfiguration"])
    assert config["kubernetesVersion"] == "v1.36.1"
    proxy = lab.get("daemonset", "-n", "kube-system", "kube-proxy")["spec"]["template"]["spec"]["containers"][0]
    assert proxy["image"] == "registry.k8s.io/kube-proxy:v1.36.1"
    backups = lab.ssh("cp-1", "cd /etc/kubernetes/tmp && ls -d kubeadm-* && ls kubeadm-backup-manifests-*/ "
                              "kubeadm-backup-etcd-*/etcd kubeadm-kubelet-config*/").stdout  # fmt: skip
    assert re.search(r"^kubeadm-backup-etcd-\d{4}(-\d\d){5}$", backups, re.M)
    assert re.search(r"^kubeadm-kubelet-config\d+$", backups, re.M)
    for name in ("etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml",
                 "member", "config.yaml"):  # fmt: skip
        assert re.search(rf"^{name}$", backups, re.M), (name, backups)


def test_the_node_reports_the_new_kubelet_only_once_it_runs(nodes_lab):
    lab = nodes_lab
    lab.install("cp-1", "kubelet=1.36.1-1.1", "kubectl=1.36.1-1.1")
    started = lab.ssh("cp-1", "systemctl show -p ExecMainStartTimestamp --value kubelet").stdout
    lab.ssh("cp-1", "sleep 2")  # several heartbeats of the old kubelet
    assert lab.kubelet_version("cp-1") == "v1.35.2"
    assert lab.ssh("cp-1", "systemctl show -p ExecMainStartTimestamp --value kubelet").stdout == started
    lab.ssh("cp-1", "systemctl daemon-reload && systemctl restart kubelet")
    lab.wait("cp-1 at v1.36.1", lambda: lab.kubelet_version("cp-1") == "v1.36.1", timeout=60)


def test_upgrade_node_on_a_worker(nodes_lab):
    lab = nodes_lab
    lab.use_minor("worker-1", "1.36")
    lab.install("worker-1", "kubeadm=1.36.1-1.1")
    result = lab.ssh("worker-1", "kubeadm upgrade node")
    lines = result.stdout.splitlines()
    assert lines.count("[upgrade] Skipping phase. Not a control plane node.") == 2
    assert "[preflight] Skipping prepull. Not a control plane node." in lines
    assert '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"' in lines
    assert "[upgrade/addon] Skipping addon/kube-proxy phase. Not a control plane node." in lines
    assert lab.ssh("worker-1", "ls /etc/kubernetes/tmp/kubeadm-kubelet-config*/config.yaml").returncode == 0
    lab.install("worker-1", "kubelet=1.36.1-1.1")
    assert lab.kubelet_version("worker-1") == "v1.35.2"
    lab.ssh("worker-1", "systemctl restart kubelet")
    lab.wait("worker-1 at v1.36.1", lambda: lab.kubelet_version("worker-1") == "v1.36.1", timeout=60)


def test_a_stopped_node_goes_notready_and_comes_back(nodes_lab):
    lab = nodes_lab
    stopped = lab.labctl("stop", "node-worker-2")
    assert "node-worker-2: stopped" in stopped.stdout
    assert lab.ssh("worker-2", "true", check=False).returncode != 0
    lab.wait("worker-2 NotReady", lambda: not lab.node_ready("worker-2"), timeout=60)
    lab.labctl("start", "node-worker-2")  # returns once the node is Ready again
    assert lab.node_ready("worker-2") and lab.kubelet_version("worker-2") == "v1.34.3"


def test_down_leaves_nothing_behind(nodes_lab):
    lab = nodes_lab
    result = lab.labctl("down")
    assert "node-cp-1" in result.stdout and "mount cp-1" in result.stdout
    node_dirs = sorted((lab.state_dir / "nodes").iterdir())
    assert node_dirs and not any(mounted(d / "root") for d in node_dirs)
    assert processes_inside(node_dirs) == {}
    assert stray_processes(lab.state_dir) == []
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(lab.state_dir) not in ps
    assert not any(p.read_text().strip() == str(lab.state_dir) for p in BLOCKS_DIR.glob("*"))
