# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to reach the Kubernetes API: the shared connection options and the client built from them.

The options and their environment fallbacks are those of kubernetes.core, so AWX's "OpenShift or
Kubernetes API Bearer Token" credential works unchanged.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

from ansible.module_utils.basic import env_fallback

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()

CONNECTION_ARGSPEC: dict[str, dict[str, Any]] = {
    "kubeconfig": {"type": "path", "fallback": (env_fallback, ["K8S_AUTH_KUBECONFIG"])},
    "context": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_CONTEXT"])},
    "host": {"type": "str", "fallback": (env_fallback, ["K8S_AUTH_HOST"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["K8S_AUTH_API_KEY"])},
    "ca_cert": {
        "type": "path",
        "aliases": ["ssl_ca_cert"],
        "fallback": (env_fallback, ["K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_CA_CERT"]),
    },
    "validate_certs": {
        "type": "bool",
        "default": True,
        "aliases": ["verify_ssl"],
        "fallback": (env_fallback, ["K8S_AUTH_VERIFY_SSL", "K8S_AUTH_VALIDATE_CERTS"]),
    },
}

CONNECTION_KEYS = tuple(CONNECTION_ARGSPEC)


def kubeconfig_path(explicit: str | None) -> str | None:
    """The kubeconfig to read: the option, then ``KUBECONFIG`` (first entry), then ``~/.kube/config``."""
    if explicit:
        if not os.path.isfile(explicit):
            raise InvalidInput(f"kubeconfig {explicit!r} does not exist or is not a file")
        return explicit
    env = os.environ.get("KUBECONFIG", "")
    for candidate in env.split(os.pathsep):
        if candidate and os.path.isfile(candidate):
            return candidate
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.isfile(default) else None


def build_configuration(params: dict[str, Any]) -> Any:
    """A ``kubernetes.client.Configuration`` from the connection options (kubeconfig first, then overrides)."""
    configuration = k8s_client.Configuration()
    path = kubeconfig_path(params.get("kubeconfig"))
    if path and not (params.get("host") and params.get("api_key")):
        try:
            k8s_config.load_kube_config(
                config_file=path, context=params.get("context"), client_configuration=configuration
            )
        except (ConfigException, OSError, ValueError, TypeError) as exc:
            raise InvalidInput(f"cannot use kubeconfig {path!r} (context {params.get('context')!r}): {exc}") from exc
    elif not params.get("host"):
        raise InvalidInput(
            "no way to reach the cluster: set kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG) or host and api_key"
        )
    if params.get("host"):
        configuration.host = params["host"]
    if params.get("api_key"):
        configuration.api_key = {"authorization": "Bearer " + params["api_key"]}
    if params.get("ca_cert"):
        if not os.path.isfile(params["ca_cert"]):
            raise InvalidInput(f"ca_cert {params['ca_cert']!r} does not exist or is not a file")
        configuration.ssl_ca_cert = params["ca_cert"]
    if params.get("validate_certs") is False:
        configuration.verify_ssl = False
    return configuration


def api_client(params: dict[str, Any]) -> Any:
    """A ready ``kubernetes.client.ApiClient`` for the connection options."""
    return k8s_client.ApiClient(build_configuration(params))
