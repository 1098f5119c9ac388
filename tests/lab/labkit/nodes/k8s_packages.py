"""The packages the lab's repositories publish, shaped like the real ones.

pkgs.k8s.io builds its .debs from kubernetes/release's spec files with debbuild: ``kubelet`` ships
``/lib/systemd/system/kubelet.service`` and ``/etc/default/kubelet``, ``kubeadm`` the ``10-kubeadm.conf`` drop-in;
the kubelet's maintainer scripts come from debbuild's systemd macros, which never restart the kubelet: ``postinst``
runs ``systemctl preset``, the old package's ``postrm`` ``systemctl daemon-reload``. So after ``apt-get install
kubelet=<new>`` the old kubelet keeps running until someone restarts it. kubeadm >= 1.32 depends on nothing, the
kubelet on kubernetes-cni, mount and util-linux (and recommends iptables).

The legacy apt.kubernetes.io packages were built with debhelper: their kubelet ``postinst`` restarts a running
kubelet on upgrade, kubeadm depends on kubelet, kubectl, kubernetes-cni and cri-tools, and its drop-in lives in
``/etc/systemd/system/kubelet.service.d``.

The simulated kubeadm and kubelet are Python programs that carry their own copy of labkit in the package
(``/usr/lib/kubeadm``, ``/usr/lib/kubelet``), so upgrading the package really replaces the program. kubectl is a
wrapper around the real kubectl, mounted read-only into every node at ``/usr/lib/cluster-ops-lab/kubectl``.
"""

from __future__ import annotations

from pathlib import Path

from labkit.nodes.catalog import OS_PACKAGE, OS_PACKAGE_INSTALLED, OS_PACKAGE_UPDATE, deb_version
from labkit.nodes.debs import File, Package

LABKIT = Path(__file__).resolve().parents[1]
REAL_KUBECTL = "/usr/lib/cluster-ops-lab/kubectl"

KUBELET_SERVICE = """\
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

KUBEADM_DROPIN = """\
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf \
--kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS \
variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user \
should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be \
sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""

# debbuild's %systemd_post, %systemd_preun and %systemd_postun for kubelet.service
KUBELET_POSTINST = """\
#!/bin/sh
if [ "$1" = "configure" ] ; then
        # Initial installation
        systemctl preset kubelet.service >/dev/null 2>&1 || :
fi
"""
KUBELET_PRERM = """\
#!/bin/sh
if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
        # Package removal, not upgrade
        systemctl --no-reload disable kubelet.service > /dev/null 2>&1 || :
        systemctl stop kubelet.service > /dev/null 2>&1 || :
fi
"""
KUBELET_POSTRM = """\
#!/bin/sh
systemctl daemon-reload >/dev/null 2>&1 || :
"""
# debhelper's dh_installsystemd blocks (enable, then start on install / restart on upgrade), as the legacy packages had
LEGACY_KUBELET_POSTINST = """\
#!/bin/sh
set -e
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || \
[ "$1" = "abort-remove" ] ; then
	deb-systemd-helper unmask 'kubelet.service' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled 'kubelet.service'; then
		deb-systemd-helper enable 'kubelet.service' >/dev/null || true
	else
		deb-systemd-helper update-state 'kubelet.service' >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then
			_dh_action=restart
		else
			_dh_action=start
		fi
		deb-systemd-invoke $_dh_action 'kubelet.service' >/dev/null || true
	fi
fi
"""

ENTRY = """\
#!/usr/bin/python3
# {name} {version} of the cluster-ops lab: a simulation (see docs/lab.md of cluster_ops.kubeadm).
import sys

sys.path.insert(0, "/usr/lib/{name}")
from {module} import main  # noqa: E402

sys.exit(main(version="{version}", argv=sys.argv[1:]))
"""

KUBECTL_WRAPPER = '''\
#!/usr/bin/python3
"""kubectl {version} of the cluster-ops lab: the real kubectl, reporting this package's version as its own."""
import json
import os
import subprocess
import sys

REAL = "{real}"
VERSION = "v{version}"


def client_info():
    real = json.loads(subprocess.run([REAL, "version", "--client", "-o", "json"], capture_output=True,
                                     text=True).stdout or "{{}}")
    info = real.get("clientVersion", {{}})
    major, minor = VERSION[1:].split(".")[:2]
    info.update({{"major": major, "minor": minor, "gitVersion": VERSION}})
    return info, real.get("kustomizeVersion", "")


def main(argv):
    words = [a for a in argv if not a.startswith("-")]
    if not words or words[0] != "version":
        os.execv(REAL, [REAL, *argv])
    output = next((a.split("=", 1)[1] for a in argv if a.startswith(("-o=", "--output="))), None)
    if output is None and ("-o" in argv or "--output" in argv):
        flag = "-o" if "-o" in argv else "--output"
        output = argv[argv.index(flag) + 1] if argv.index(flag) + 1 < len(argv) else None
    client, kustomize = client_info()
    result = {{"clientVersion": client, "kustomizeVersion": kustomize}}
    if "--client" not in argv and "--client=true" not in argv:
        server = subprocess.run([REAL, *[a for a in argv if a not in ("-o", "json", "yaml", "--output")
                                         and not a.startswith(("-o=", "--output="))], "-o", "json"],
                                capture_output=True, text=True)
        if server.returncode != 0:
            sys.stderr.write(server.stderr)
        try:
            result["serverVersion"] = json.loads(server.stdout)["serverVersion"]
        except (ValueError, KeyError):
            pass
    if output == "json":
        print(json.dumps(result, indent=2))
    elif output == "yaml":
        import yaml
        print(yaml.safe_dump(result, sort_keys=False), end="")
    else:
        print(f"Client Version: {{VERSION}}")
        print(f"Kustomize Version: {{kustomize}}")
        if "serverVersion" in result:
            print(f"Server Version: {{result['serverVersion']['gitVersion']}}")
    return 0 if "--client" in argv or "serverVersion" in result else 1


sys.exit(main(sys.argv[1:]))
'''

CRICTL = """\
#!/bin/sh
# crictl {version} of the cluster-ops lab: there is no container runtime in the lab's nodes.
case "$1" in
  --version|-v) echo "crictl version v{version}"; exit 0 ;;
esac
echo "crictl: the lab's nodes have no container runtime (the kubelet runs static pods as systemd units)" >&2
exit 1
"""

CNI_PLUGIN = "#!/bin/sh\necho 'CNI plugin {name} {version}: a placeholder of the cluster-ops lab' >&2\nexit 1\n"


def kubeadm(version: str, legacy: bool) -> Package:
    dropin = "/etc/systemd/system" if legacy else "/lib/systemd/system"
    deps = ["kubelet (>= 1.19.0)", "kubectl (>= 1.19.0)", "kubernetes-cni (>= 1.2.0)", "cri-tools (>= 1.28.0)"]
    return Package(
        "kubeadm",
        deb_version(version, legacy),
        "Command-line utility for administering a Kubernetes cluster",
        depends=deps if legacy else [],
        files={
            "/usr/bin/kubeadm": File(
                ENTRY.format(name="kubeadm", version=version, module="labkit.kubeadm.cli").encode(), 0o755
            ),
            f"{dropin}/kubelet.service.d/10-kubeadm.conf": File(KUBEADM_DROPIN.encode(), conffile=legacy),
        },
        trees={"/usr/lib/kubeadm/labkit": LABKIT},
    )


def kubelet(version: str, legacy: bool) -> Package:
    return Package(
        "kubelet",
        deb_version(version, legacy),
        "Node agent for Kubernetes clusters",
        section="net",
        depends=["kubernetes-cni (>= 1.2.0)", "mount", "util-linux"],
        recommends=["iptables (>= 1.8.4)"],
        files={
            "/usr/bin/kubelet": File(
                ENTRY.format(name="kubelet", version=version, module="labkit.node_kubelet").encode(), 0o755
            ),
            "/lib/systemd/system/kubelet.service": File(KUBELET_SERVICE.encode(), 0o600),
            "/etc/default/kubelet": File(b"KUBELET_EXTRA_ARGS=\n", conffile=True),
            "/var/lib/kubelet/.kubelet-keep": File(b""),
            "/etc/kubernetes/manifests/.kubelet-keep": File(b""),
        },
        trees={"/usr/lib/kubelet/labkit": LABKIT},
        scripts={"postinst": LEGACY_KUBELET_POSTINST}
        if legacy
        else {"postinst": KUBELET_POSTINST, "prerm": KUBELET_PRERM, "postrm": KUBELET_POSTRM},
    )


def kubectl(version: str, legacy: bool) -> Package:
    wrapper = KUBECTL_WRAPPER.format(version=version, real=REAL_KUBECTL)
    return Package(
        "kubectl",
        deb_version(version, legacy),
        "Command-line utility for interacting with a Kubernetes cluster",
        files={"/usr/bin/kubectl": File(wrapper.encode(), 0o755)},
    )


def cri_tools(version: str, legacy: bool) -> Package:
    return Package(
        "cri-tools",
        deb_version(version, legacy),
        "Command-line utility for interacting with a container runtime",
        files={"/usr/bin/crictl": File(CRICTL.format(version=version).encode(), 0o755)},
    )


def kubernetes_cni(version: str, legacy: bool) -> Package:
    plugins = ("bridge", "host-local", "loopback", "portmap")
    return Package(
        "kubernetes-cni",
        deb_version(version, legacy),
        "Binaries required to provision kubernetes container networking",
        section="misc",
        files={f"/opt/cni/bin/{p}": File(CNI_PLUGIN.format(name=p, version=version).encode(), 0o755) for p in plugins},
    )


K8S_PACKAGES = (kubeadm, kubelet, kubectl, cri_tools, kubernetes_cni)


def os_package(version: str) -> Package:
    """A stand-in for a kernel update: installing the update asks for a reboot like Debian's kernel hooks do."""
    postinst = (
        "#!/bin/sh\nset -e\n"
        'if [ "$1" = "configure" ]; then\n'
        "  echo '*** System restart required ***' > /var/run/reboot-required\n"
        f"  echo {OS_PACKAGE} >> /var/run/reboot-required.pkgs\n"
        "fi\n"
    )
    return Package(
        OS_PACKAGE,
        version,
        "Kernel stand-in of the cluster-ops lab (an update asks for a reboot)",
        section="kernel",
        maintainer="cluster-ops lab <lab@cluster-ops.invalid>",
        homepage="",
        files={f"/boot/{OS_PACKAGE}-{version}": File(f"{OS_PACKAGE} {version}\n".encode())},
        scripts={"postinst": postinst} if version == OS_PACKAGE_UPDATE else {},
    )


OS_PACKAGES = (OS_PACKAGE_INSTALLED, OS_PACKAGE_UPDATE)
