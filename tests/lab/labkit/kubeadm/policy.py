"""kubeadm's version policy for ``upgrade apply`` (cmd/kubeadm/app/phases/upgrade/policy.go), with its messages.

Mandatory errors cannot be forced; skippable ones can with ``--force``. The lab publishes no pre-releases, so
the pre-release exceptions (skipping a minor with an rc) never apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labkit.kubeadm.versions import Version

KUBELET_SKEW = 3  # a kubelet may be this many minors older than the control plane (since 1.29)


@dataclass
class PolicyErrors:
    mandatory: list[str] = field(default_factory=list)
    skippable: list[str] = field(default_factory=list)


def enforce(new: Version, cluster: Version, kubeadm: Version, kubelets: list[str] | None,
            kubelets_error: str | None = None) -> PolicyErrors:  # fmt: skip
    errors = PolicyErrors()
    new_str, cluster_str = new.v, cluster.v
    minimum = Version(kubeadm.major, kubeadm.minor - 1, 0)
    if new < minimum:
        errors.mandatory.append(
            f'Specified version to upgrade to "{new_str}" is equal to or lower than the minimum supported version '
            f'"{cluster_str}". Please specify a higher version to upgrade to'
        )
    if new.minor > cluster.minor + 1:
        errors.mandatory.append(
            f'Specified version to upgrade to "{new_str}" is too high; kubeadm can upgrade only 1 minor version at '
            "a time"
        )
    if new.minor < cluster.minor - 1:
        errors.mandatory.append(
            f'Specified version to downgrade to "{new_str}" is too low; kubeadm can downgrade only 1 minor version at '
            "a time"
        )
    if kubeadm.minor < new.minor:
        errors.mandatory.append(
            f'Specified version to upgrade to "{new_str}" is at least one minor release higher than the kubeadm minor '
            f"release ({new.minor} > {kubeadm.minor}). Such an upgrade is not supported"
        )
    elif kubeadm.minor == new.minor and kubeadm.patch < new.patch:
        errors.skippable.append(
            f'Specified version to upgrade to "{new_str}" is higher than the kubeadm version "{kubeadm.v}". Upgrade '
            "kubeadm first using the tool you used to install kubeadm"
        )
    if kubeadm.minor > new.minor:
        errors.skippable.append(
            f"Kubeadm version {kubeadm.v} can only be used to upgrade to Kubernetes version "
            f"{kubeadm.major}.{kubeadm.minor}"
        )
    if kubelets_error:
        errors.skippable.append(f"Unable to fetch kubelet version: {kubelets_error}")
    else:
        too_old = sorted({k for k in kubelets or [] if Version.parse(k).minor < new.minor - KUBELET_SKEW})
        if too_old:
            errors.skippable.append(
                f"There are kubelets in this cluster that are too old that have these versions [{' '.join(too_old)}]"
            )
    return errors


def format_list(errors: list[str]) -> str:
    """kubeadm's FormatErrMsg: one ``\\t- <error>`` line each."""
    return "".join(f"\t- {error}\n" for error in errors)


def verdict(errors: PolicyErrors, force: bool) -> tuple[str | None, str | None]:
    """(fatal error text, forced-past notice) for ``upgrade apply``."""
    if errors.mandatory:
        return (
            "the version argument is invalid due to these fatal errors:\n\n"
            + format_list(errors.mandatory)
            + "\nPlease fix the misalignments highlighted above and try upgrading again"
        ), None
    if errors.skippable and not force:
        return (
            "the version argument is invalid due to these errors:\n\n"
            + format_list(errors.skippable)
            + "\nCan be bypassed if you pass the --force flag"
        ), None
    if errors.skippable:
        return None, (
            f"[upgrade/version] Found {len(errors.skippable)} potential version compatibility errors but skipping "
            "since the --force flag is set: \n\n" + format_list(errors.skippable)
        )
    return None, None
