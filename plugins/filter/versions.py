# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes version filters for playbooks; their docs are the ``<filter>.yml`` files beside this one."""

from __future__ import annotations

from typing import Any, Callable

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import compare, parse


def _filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the domain error of a bad version into the one line Ansible shows for a failed filter."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InvalidInput as exc:
            raise AnsibleFilterError(f"{function.__name__}: {exc.message}") from None

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


@_filter
def k8s_version(value: Any) -> str:
    """``registry.k8s.io/kube-apiserver:v1.30.2``, ``1.30.2-1.1`` -> ``v1.30.2``."""
    return str(parse(value))


@_filter
def k8s_minor(value: Any) -> str:
    """``v1.30.2`` -> ``1.30``."""
    return parse(value).minor_line


@_filter
def k8s_next_minor(value: Any) -> str:
    """``v1.30.2`` -> ``1.31``."""
    return parse(value).next_minor().minor_line


@_filter
def k8s_pkg_version(value: Any, flavor: str = "apt") -> str:
    """``v1.30.2`` -> ``1.30.2-*`` (apt) or ``1.30.2`` (dnf, yum)."""
    return parse(value).pkg(flavor)


@_filter
def k8s_version_compare(value: Any, other: Any, operator: str = "==") -> bool:
    """``'v1.30.2' | k8s_version_compare('1.31', '<')`` -> ``true``."""
    return compare(value, other, operator)


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {f.__name__: f for f in (k8s_version, k8s_minor, k8s_next_minor, k8s_pkg_version, k8s_version_compare)}
