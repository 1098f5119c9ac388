# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options: kubernetes.core's names, aliases, environment variables and precedence."""

from __future__ import annotations

import http.server
import threading

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s import connection

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "lab", "cluster": {"server": "https://10.0.0.10:6443", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "admin", "user": {"token": "from-kubeconfig"}}],
    "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "admin"}}],
    "current-context": "lab",
}


def params(**given):
    """The options as a module would receive them (every option present, None when not given)."""
    return {name: None for name in connection.CONNECTION_ARGSPEC} | given


def validated(env: dict[str, str], monkeypatch, **given):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(connection.CONNECTION_ARGSPEC).validate(given)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_host_and_token_read_no_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    configuration = connection.build_configuration(params(host="https://10.0.0.10:6443/", api_key="t0ken"))
    assert configuration.host == "https://10.0.0.10:6443"
    assert configuration.api_key == {"authorization": "Bearer t0ken"}


def test_kubeconfig_as_a_dict_and_overrides(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("not read here")
    configuration = connection.build_configuration(
        params(kubeconfig=KUBECONFIG, ca_cert=str(ca), proxy="http://p:3128")
    )
    assert configuration.host == "https://10.0.0.10:6443"
    assert list(configuration.api_key.values()) == ["Bearer from-kubeconfig"]
    assert configuration.ssl_ca_cert == str(ca) and configuration.proxy == "http://p:3128"
    assert configuration.verify_ssl is False  # the kubeconfig says so, and validate_certs was not given
    assert connection.build_configuration(params(kubeconfig=KUBECONFIG, validate_certs=True)).verify_ssl is True


def test_kubeconfig_file_and_context(tmp_path):
    config = dict(KUBECONFIG, contexts=[*KUBECONFIG["contexts"], {"name": "other", "context": {"cluster": "lab"}}])
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    configuration = connection.build_configuration(params(kubeconfig=str(path), context="other"))
    assert not configuration.api_key  # the other context has no user


@pytest.mark.parametrize(
    "given, message",
    [
        ({"kubeconfig": "/nonexistent/config"}, "kubeconfig '/nonexistent/config' does not exist or is not a file"),
        ({"host": "https://h", "api_key": "t", "ca_cert": "/nonexistent/ca"}, "ca_cert '/nonexistent/ca' does not"),
        ({"kubeconfig": KUBECONFIG, "context": "nope"}, "cannot use the kubeconfig given as a dict (context 'nope')"),
    ],
)
def test_bad_input_is_one_line_naming_the_value(given, message):
    with pytest.raises(InvalidInput) as raised:
        connection.build_configuration(params(**given))
    assert message in raised.value.message and "\n" not in raised.value.message


def test_not_yaml_is_one_line(tmp_path):
    path = tmp_path / "config"
    path.write_text("clusters: [unclosed\n  - {")
    with pytest.raises(InvalidInput) as raised:
        connection.build_configuration(params(kubeconfig=str(path)))
    problem = "expected ',' or ']', but got '{' at line 2, column 5"
    assert raised.value.message == f"cannot use kubeconfig {str(path)!r}: it is not valid YAML ({problem})"


def test_nothing_to_connect_with(monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(InvalidInput, match="no way to reach the cluster"):
        connection.build_configuration(params())


@pytest.mark.parametrize(
    "env, option, expected",
    [
        ({"K8S_AUTH_KUBECONFIG": "/etc/k.conf"}, "kubeconfig", "/etc/k.conf"),
        ({"K8S_AUTH_VERIFY_SSL": "no"}, "validate_certs", False),
        ({"K8S_AUTH_VALIDATE_CERTS": "yes"}, "validate_certs", True),
        ({"K8S_AUTH_SSL_CA_CERT": "/ca"}, "ca_cert", "/ca"),
        ({"K8S_AUTH_CERT_FILE": "/c.crt"}, "client_cert", "/c.crt"),
        ({"K8S_AUTH_CLIENT_KEY": "/c.key"}, "client_key", "/c.key"),
        ({"K8S_AUTH_PROXY": "http://p:3128"}, "proxy", "http://p:3128"),
        ({"K8S_AUTH_NO_PROXY": "10.0.0.0/8"}, "no_proxy", "10.0.0.0/8"),
        ({"K8S_AUTH_IMPERSONATE_USER": "bob"}, "impersonate_user", "bob"),
        ({"K8S_AUTH_IMPERSONATE_GROUPS": "a,b"}, "impersonate_groups", ["a", "b"]),
        ({"K8S_AUTH_PERSIST_CONFIG": "true"}, "persist_config", True),
        ({"K8S_AUTH_USERNAME": "u"}, "username", "u"),
    ],
)
def test_environment_variables_of_kubernetes_core(monkeypatch, env, option, expected):
    assert validated(env, monkeypatch)[option] == expected


def test_aliases_of_kubernetes_core(monkeypatch):
    values = validated({}, monkeypatch, verify_ssl=False, ssl_ca_cert="/ca", cert_file="/c", key_file="/k")
    assert (values["validate_certs"], values["ca_cert"], values["client_cert"], values["client_key"]) == (
        False,
        "/ca",
        "/c",
        "/k",
    )


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        Recorder.seen.append(list(self.headers.items()))
        body = b'{"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_impersonation_sends_one_header_per_group():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        options = params(
            host=f"http://127.0.0.1:{server.server_address[1]}",
            api_key="t",
            impersonate_user="jane",
            impersonate_groups=["devs", "ops"],
        )
        client = connection.api_client(options)
        from kubernetes import client as k8s_client

        k8s_client.CoreV1Api(client).list_node(_preload_content=False).read()
    finally:
        server.shutdown()
    headers = Recorder.seen[-1]
    assert ("Impersonate-User", "jane") in headers
    assert [value for name, value in headers if name.lower() == "impersonate-group"] == ["devs", "ops"]
