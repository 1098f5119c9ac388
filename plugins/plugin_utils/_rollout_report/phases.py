# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which phase of a node's rollout a task is, from its module, its arguments and its name (docs/rollout.md)."""

from __future__ import annotations

from typing import Any, Optional

PHASES = ("drain", "packages", "kubeadm", "restart", "reboot", "wait", "uncordon")
PACKAGE_MODULES = frozenset({"apt", "dnf", "yum", "package"})
SERVICE_MODULES = frozenset({"systemd", "systemd_service", "service"})
COMMAND_MODULES = frozenset({"command", "shell"})
PACKAGE_ROLES = frozenset({"kubernetes_packages", "os_upgrade"})
UPGRADE_ROLES = frozenset({"node_upgrade", "control_plane_upgrade"})


def short_name(action: str) -> str:
    """``ansible.builtin.apt`` -> ``apt``, ``cluster_ops.kubeadm.node_drain`` -> ``node_drain``."""
    return action.rsplit(".", 1)[-1]


def phase_of(action: str, args: dict[str, Any], name: str, role: str) -> Optional[str]:
    """The phase of a task, or None for tasks that are none (reads, facts, checks).

    - ``node_drain``: ``state: uncordon`` is *uncordon*, ``drain`` (the default) and ``cordon`` are *drain*
    - ``node_wait``: *wait*; ``reboot``: *reboot*
    - ``command``/``shell`` named after kubeadm (``Run kubeadm upgrade node``) in the roles ``node_upgrade`` and
      ``control_plane_upgrade``: *kubeadm* (the preflight's own kubeadm calls are no phase)
    - ``systemd``/``service`` restarting the kubelet: *restart*
    - ``apt``/``dnf``/``yum``/``package`` installing or upgrading (not only refreshing the lists) in the roles
      ``kubernetes_packages`` and ``os_upgrade``: *packages*
    """
    module = short_name(action)
    state = str(args.get("state") or "")
    if module == "node_drain":
        return "uncordon" if state == "uncordon" else "drain"
    if module == "node_wait":
        return "wait"
    if module == "reboot":
        return "reboot"
    if module in COMMAND_MODULES and role in UPGRADE_ROLES and "kubeadm" in name.lower():
        return "kubeadm"
    if module in SERVICE_MODULES and str(args.get("name")) == "kubelet" and state in ("restarted", "reloaded"):
        return "restart"
    if module in PACKAGE_MODULES and role in PACKAGE_ROLES:
        changes = args.get("name") or args.get("upgrade") or args.get("pkg") or args.get("deb")
        return "packages" if changes else None
    return None
