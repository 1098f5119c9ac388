"""A node installed from the legacy apt.kubernetes.io repository (``--legacy-repo``, ``-00`` versions), and the move
to pkgs.k8s.io as kubeadm's "changing the package repository" guide does it."""

from __future__ import annotations

LAB_ARGS = ("--control-planes", "1", "--workers", "0", "--legacy-repo")
LEGACY_SOURCES = (
    "deb [signed-by=/etc/apt/keyrings/kubernetes-archive-keyring.gpg] http://apt.kubernetes.io/ kubernetes-xenial main"
)


def kubelet_started(lab) -> str:
    return lab.ssh("cp-1", "systemctl show -p ExecMainStartTimestamp --value kubelet").stdout.strip()


def test_the_node_starts_on_the_legacy_repository(nodes_lab):
    lab = nodes_lab
    assert lab.ssh("cp-1", "cat /etc/apt/sources.list.d/kubernetes.list").stdout.strip() == LEGACY_SOURCES
    hosts = lab.ssh("cp-1", "getent hosts apt.kubernetes.io packages.cloud.google.com").stdout.split()
    assert hosts.count(f"127.0.{lab.info['block']}.1") == 2
    policy = lab.ssh("cp-1", "apt-cache policy kubeadm").stdout
    assert (
        "Installed: 1.35.2-00" in policy and "http://apt.kubernetes.io kubernetes-xenial/main amd64 Packages" in policy
    )
    dropin = lab.ssh("cp-1", "dpkg -L kubeadm | grep 10-kubeadm.conf").stdout.strip()
    assert dropin == "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"


def test_a_legacy_kubelet_package_restarts_the_kubelet_on_upgrade(nodes_lab):
    lab = nodes_lab
    before = kubelet_started(lab)
    lab.install("cp-1", "kubelet=1.35.3-00")
    assert kubelet_started(lab) != before  # debhelper's postinst: restart on upgrade
    lab.wait("cp-1 at v1.35.3", lambda: lab.kubelet_version("cp-1") == "v1.35.3", timeout=60)


def test_moving_to_pkgs_k8s_io_keeps_the_running_kubelet(nodes_lab):
    lab = nodes_lab
    lab.ssh("cp-1", "rm /etc/apt/sources.list.d/kubernetes.list /etc/apt/keyrings/kubernetes-archive-keyring.gpg")
    lab.use_minor("cp-1", "1.35")
    before = kubelet_started(lab)
    lab.install("cp-1", "kubeadm=1.35.3-1.1", "kubelet=1.35.3-1.1", "kubectl=1.35.3-1.1")
    installed = lab.ssh("cp-1", "dpkg-query -W -f='${Package}=${Version} ' kubeadm kubelet kubectl").stdout.split()
    assert sorted(installed) == ["kubeadm=1.35.3-1.1", "kubectl=1.35.3-1.1", "kubelet=1.35.3-1.1"]
    assert f"{lab.repo_base()}/v1.35/deb  Packages" in lab.ssh("cp-1", "apt-cache policy kubelet").stdout
    assert kubelet_started(lab) == before  # pkgs.k8s.io's kubelet package never restarts the kubelet
    assert lab.ssh("cp-1", "kubeadm version -o short").stdout.strip() == "v1.35.3"
