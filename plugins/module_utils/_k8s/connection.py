# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to reach the Kubernetes API: the shared connection options and the client built from them.

The options, their aliases, their environment variables and the order in which credentials are found
are those of kubernetes.core's shared authentication options, so a ``module_defaults`` dict written for
kubernetes.core works unchanged here and AWX's "OpenShift or Kubernetes API Bearer Token" credential
needs no extra wiring.
"""

from __future__ import annotations

import os
import traceback
from typing import Any, Optional

from ansible.module_utils.basic import env_fallback

try:
    import yaml
except ImportError:  # a requirement of the kubernetes client, which run_module reports when missing

    class yaml:  # type: ignore[no-redef]
        class YAMLError(Exception):
            pass


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


def _env(*names: str) -> tuple[Any, list[str]]:
    return (env_fallback, list(names))


PROXY_HEADERS_ARGSPEC: dict[str, dict[str, Any]] = {
    "proxy_basic_auth": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH")},
    "basic_auth": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_PROXY_HEADERS_BASIC_AUTH")},
    "user_agent": {"type": "str", "fallback": _env("K8S_AUTH_PROXY_HEADERS_USER_AGENT")},
}

CONNECTION_ARGSPEC: dict[str, dict[str, Any]] = {
    # A path, or the kubeconfig itself as a dict (kubernetes.core accepts both).
    "kubeconfig": {"type": "raw", "fallback": _env("K8S_AUTH_KUBECONFIG")},
    "context": {"type": "str", "fallback": _env("K8S_AUTH_CONTEXT")},
    "host": {"type": "str", "fallback": _env("K8S_AUTH_HOST")},
    "api_key": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_API_KEY")},
    "username": {"type": "str", "fallback": _env("K8S_AUTH_USERNAME")},
    "password": {"type": "str", "no_log": True, "fallback": _env("K8S_AUTH_PASSWORD")},
    "validate_certs": {
        "type": "bool",
        "aliases": ["verify_ssl"],
        "fallback": _env("K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"),
    },
    "ca_cert": {
        "type": "path",
        "aliases": ["ssl_ca_cert"],
        "fallback": _env("K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"),
    },
    "client_cert": {
        "type": "path",
        "aliases": ["cert_file"],
        "fallback": _env("K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"),
    },
    "client_key": {
        "type": "path",
        "aliases": ["key_file"],
        "fallback": _env("K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"),
    },
    "proxy": {"type": "str", "fallback": _env("K8S_AUTH_PROXY")},
    "no_proxy": {"type": "str", "fallback": _env("K8S_AUTH_NO_PROXY")},
    "proxy_headers": {"type": "dict", "options": PROXY_HEADERS_ARGSPEC},
    "persist_config": {"type": "bool", "fallback": _env("K8S_AUTH_PERSIST_CONFIG")},
    "impersonate_user": {"type": "str", "fallback": _env("K8S_AUTH_IMPERSONATE_USER")},
    "impersonate_groups": {"type": "list", "elements": "str", "fallback": _env("K8S_AUTH_IMPERSONATE_GROUPS")},
}

CONNECTION_KEYS = tuple(CONNECTION_ARGSPEC)


class RepeatedHeader(str):
    """A header name that can stand in a dict more than once (one ``Impersonate-Group`` per group)."""

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def lower(self) -> str:
        # urllib3 keys its header dict by the lowered name: the lowered form must stay this occurrence's own.
        lowered = self.__dict__.get("lowered")
        if lowered is None:
            lowered = self.__dict__["lowered"] = RepeatedHeader(str.lower(self))
            lowered.__dict__["lowered"] = lowered
        return lowered


def kubeconfig_source(explicit: Any) -> Optional[Any]:
    """The kubeconfig to read: the option (a path or a dict), else ``KUBECONFIG``'s first existing file, else
    ``~/.kube/config``; None when there is none."""
    if isinstance(explicit, dict):
        return explicit
    if explicit:
        path = os.path.expanduser(str(explicit))
        if not os.path.isfile(path):
            raise InvalidInput(f"kubeconfig {explicit!r} does not exist or is not a file")
        return path
    for candidate in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if candidate and os.path.isfile(candidate):
            return candidate
    default = os.path.expanduser("~/.kube/config")
    return default if os.path.isfile(default) else None


def _self_sufficient(params: dict[str, Any]) -> bool:
    """The options alone authenticate (kubernetes.core's rule): no kubeconfig and no in-cluster config is read."""
    host = params.get("host")
    return bool(
        host
        and (
            params.get("api_key")
            or (params.get("username") and params.get("password"))
            or (params.get("client_cert") and params.get("client_key"))
        )
    )


def _load_kubeconfig(source: Any, params: dict[str, Any], configuration: Any) -> None:
    options = {
        "context": params.get("context"),
        "client_configuration": configuration,
        "persist_config": bool(params.get("persist_config")),
    }
    where = "the kubeconfig given as a dict" if isinstance(source, dict) else f"kubeconfig {source!r}"
    try:
        if isinstance(source, dict):
            k8s_config.load_kube_config_from_dict(config_dict=source, **options)
        else:
            k8s_config.load_kube_config(config_file=source, **options)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"cannot use {where}: it is not valid YAML ({yaml_problem(exc)})") from exc
    except (ConfigException, OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InvalidInput(f"cannot use {where} (context {params.get('context')!r}): {first_line}") from exc


def yaml_problem(exc: Exception) -> str:
    """A YAML parser's complaint in one line: what it found and where."""
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else problem


def _in_cluster(configuration: Any) -> bool:
    """The pod's service account (AWX container groups), when running in a pod."""
    if not os.environ.get("KUBERNETES_SERVICE_HOST"):
        return False
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
    except ConfigException:
        return False
    return True


def _check_file(option: str, value: Optional[str]) -> None:
    if value and not os.path.isfile(value):
        raise InvalidInput(f"{option} {value!r} does not exist or is not a file")


def build_configuration(params: dict[str, Any]) -> Any:
    """A ``kubernetes.client.Configuration``: the kubeconfig (or the pod's service account) first, then every
    option given overrides what it says."""
    for option in ("ca_cert", "client_cert", "client_key"):
        _check_file(option, params.get(option))
    configuration = k8s_client.Configuration()
    if not _self_sufficient(params):
        source = kubeconfig_source(params.get("kubeconfig"))
        if source is not None:
            _load_kubeconfig(source, params, configuration)
        elif not (params.get("host") or _in_cluster(configuration)):
            raise InvalidInput(
                "no way to reach the cluster: set kubeconfig (or K8S_AUTH_KUBECONFIG / KUBECONFIG), "
                "or host with api_key, client_cert and client_key, or username and password"
            )
    if params.get("host"):
        configuration.host = params["host"].rstrip("/")
    if params.get("api_key"):
        configuration.api_key = {"authorization": "Bearer " + params["api_key"]}
    for option, attribute in (
        ("username", "username"),
        ("password", "password"),
        ("ca_cert", "ssl_ca_cert"),
        ("client_cert", "cert_file"),
        ("client_key", "key_file"),
        ("proxy", "proxy"),
        ("no_proxy", "no_proxy"),
    ):
        if params.get(option):
            setattr(configuration, attribute, params[option])
    if params.get("validate_certs") is not None:
        configuration.verify_ssl = bool(params["validate_certs"])
    headers = {k: v for k, v in (params.get("proxy_headers") or {}).items() if v is not None}
    if headers:
        import urllib3

        configuration.proxy_headers = urllib3.util.make_headers(**headers)
    return configuration


def impersonation_headers(params: dict[str, Any]) -> list[tuple[str, str]]:
    """``Impersonate-User`` and one ``Impersonate-Group`` per group, as kubernetes.core sends them."""
    headers = []
    if params.get("impersonate_user"):
        headers.append(("Impersonate-User", params["impersonate_user"]))
    groups = params.get("impersonate_groups") or []
    if isinstance(groups, str):  # from K8S_AUTH_IMPERSONATE_GROUPS: a comma-separated list
        groups = [group for group in groups.split(",") if group]
    headers.extend(("Impersonate-Group", group) for group in groups)
    return headers


def apply_headers(client: Any, params: dict[str, Any]) -> Any:
    """Set the impersonation headers of the options on an ``ApiClient``; returns it."""
    for name, value in impersonation_headers(params):
        client.set_default_header(RepeatedHeader(name) if name == "Impersonate-Group" else name, value)
    return client


def api_client(params: dict[str, Any], configuration: Any = None) -> Any:
    """A ready ``kubernetes.client.ApiClient`` for the connection options."""
    return apply_headers(k8s_client.ApiClient(configuration or build_configuration(params)), params)
