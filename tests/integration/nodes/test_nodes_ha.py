"""Three stacked control planes behind haproxy: kubeadm's HA layout, then an upgrade of each control plane in
turn (``apply`` on the first, ``upgrade node`` on the others) with the addons moving only after the last one."""

from __future__ import annotations

import json
import subprocess

import yaml

LAB_ARGS = ("--control-planes", "3", "--workers", "0")
CONTROL_PLANES = ("cp-1", "cp-2", "cp-3")


def apiserver_images(lab) -> dict[str, str]:
    pods = lab.get("pods", "-n", "kube-system", "-l", "component=kube-apiserver")["items"]
    return {p["spec"]["nodeName"]: p["spec"]["containers"][0]["image"] for p in pods}


def coredns_image(lab) -> str:
    deployment = lab.get("deployment", "-n", "kube-system", "coredns")
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def test_clients_reach_the_api_servers_through_the_load_balancer(nodes_lab):
    lab = nodes_lab
    balancer = lab.info["load_balancer"]
    assert balancer == f"127.0.{lab.info['block']}.2"
    kubeconfig = yaml.safe_load((lab.state_dir / "admin.conf").read_text())
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{balancer}:6443"
    config = yaml.safe_load(lab.get("configmap", "-n", "kube-system", "kubeadm-config")["data"]["ClusterConfiguration"])
    assert config["controlPlaneEndpoint"] == f"{balancer}:6443"
    status = json.loads(lab.labctl("status", "--json").stdout)
    assert status["components"]["loadbalancer"]["running"]
    assert lab.ssh("cp-2", f"grep -c https://{balancer}:6443 /etc/kubernetes/kubelet.conf").stdout.strip() == "1"


def test_etcd_is_stacked_with_one_member_per_control_plane(nodes_lab):
    lab = nodes_lab
    info = lab.info
    result = subprocess.run(
        ["etcdctl", f"--endpoints={info['etcd_endpoints'][0]}", f"--cacert={info['etcd_cacert']}",
         f"--cert={info['etcd_cert']}", f"--key={info['etcd_key']}", "member", "list", "-w", "json"],
        capture_output=True, text=True, timeout=30, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    members = sorted(m["name"] for m in json.loads(result.stdout)["members"])
    assert members == list(CONTROL_PLANES)
    joined = lab.ssh("cp-3", "grep -E 'initial-cluster(-state)?=' /etc/kubernetes/manifests/etcd.yaml").stdout
    assert "--initial-cluster-state=existing" in joined and joined.count("https://") == 3


def test_one_controller_manager_and_one_scheduler_lead(nodes_lab):
    leases = {item["metadata"]["name"]: item["spec"]["holderIdentity"]
              for item in nodes_lab.get("leases", "-n", "kube-system")["items"]}  # fmt: skip
    assert leases["kube-controller-manager"].split("_")[0] in CONTROL_PLANES
    assert leases["kube-scheduler"].split("_")[0] in CONTROL_PLANES


def test_control_planes_upgrade_one_at_a_time_and_the_addons_follow_the_last(nodes_lab):
    lab = nodes_lab
    flags = lab.health_flags()
    for node in CONTROL_PLANES:
        lab.use_minor(node, "1.36")
        lab.install(node, "kubeadm=1.36.1-1.1")
    coredns_before = coredns_image(lab)
    first = lab.ssh("cp-1", f"kubeadm upgrade apply v1.36.1 -y {flags}").stdout
    skipped = (
        "[upgrade/addon] Skipping upgrade of addons because control plane instances [cp-2 cp-3] have not been upgraded"
    )
    assert first.splitlines().count(skipped) == 2
    assert '[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v1.36.1".' in first
    assert "[apiclient] Found 3 Pods for label selector component=kube-apiserver" in first
    assert coredns_image(lab) == coredns_before
    images = apiserver_images(lab)
    assert images["cp-1"].endswith(":v1.36.1") and images["cp-2"].endswith(":v1.35.2")
    second = lab.ssh("cp-2", "kubeadm upgrade node").stdout
    assert (
        '[upgrade/control-plane] Upgrading your Static Pod-hosted control plane instance to version "v1.36.1"...'
        in second
    )
    assert (
        "[upgrade/addon] Skipping upgrade of addons because control plane instances [cp-3] have not been upgraded"
        in second
    )
    last = lab.ssh("cp-3", "kubeadm upgrade node").stdout
    assert (
        "[addons] Applied essential addon: CoreDNS" in last and "[addons] Applied essential addon: kube-proxy" in last
    )
    assert set(apiserver_images(lab).values()) == {"registry.k8s.io/kube-apiserver:v1.36.1"}
    assert coredns_image(lab) == "registry.k8s.io/coredns/coredns:v1.13.1"
    assert json.loads(lab.kubectl("get", "--raw", "/version").stdout)["gitVersion"] == "v1.36.1"
