# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dictionary.
      - Falls back to E(K8S_AUTH_KUBECONFIG), then to the first existing file in E(KUBECONFIG),
        then to C(~/.kube/config). Without any of them, inside a pod, the pod's service account is used.
      - Not read when O(host) comes with O(api_key), with O(client_cert) and O(client_key), or with
        O(username) and O(password).
    type: raw
  context:
    description:
      - The kubeconfig context to use. Falls back to E(K8S_AUTH_CONTEXT), then to the kubeconfig's current context.
    type: str
  host:
    description:
      - URL of the Kubernetes API server, for example C(https://10.0.0.10:6443). Falls back to E(K8S_AUTH_HOST).
      - Overrides the kubeconfig's server.
    type: str
  api_key:
    description:
      - Bearer token used to authenticate with the API server. Falls back to E(K8S_AUTH_API_KEY).
    type: str
  username:
    description:
      - User name for HTTP basic authentication. Falls back to E(K8S_AUTH_USERNAME).
      - Kubernetes API servers have not accepted basic authentication since 1.19; the option exists so that
        connection settings written for M(kubernetes.core.k8s) carry over unchanged.
    type: str
  password:
    description:
      - Password for HTTP basic authentication, with O(username). Falls back to E(K8S_AUTH_PASSWORD).
    type: str
  ca_cert:
    description:
      - Path to the CA certificate that signed the API server's certificate.
      - Falls back to E(K8S_AUTH_CA_CERT), then E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate to authenticate with the API server.
      - Falls back to E(K8S_AUTH_CLIENT_CERT), then E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert). Falls back to E(K8S_AUTH_CLIENT_KEY), then E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  validate_certs:
    description:
      - Whether to verify the API server's certificate. When not set, the kubeconfig decides, and it verifies
        unless it sets C(insecure-skip-tls-verify).
      - Falls back to E(K8S_AUTH_VALIDATE_CERTS), then E(K8S_AUTH_VERIFY_SSL).
    type: bool
    aliases: [verify_ssl]
  proxy:
    description:
      - URL of an HTTP proxy to reach the API server through. Falls back to E(K8S_AUTH_PROXY).
      - The usual E(HTTPS_PROXY) environment variable is not read.
    type: str
  no_proxy:
    description:
      - Comma-separated hosts and domains to reach without O(proxy). Falls back to E(K8S_AUTH_NO_PROXY).
    type: str
  proxy_headers:
    description:
      - Headers for the proxy.
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy's basic authentication.
          - Falls back to E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH).
        type: str
      basic_auth:
        description:
          - C(user:password) for basic authentication. Falls back to E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH).
        type: str
      user_agent:
        description:
          - The C(User-Agent) to send. Falls back to E(K8S_AUTH_PROXY_HEADERS_USER_AGENT).
        type: str
  persist_config:
    description:
      - Write refreshed credentials (for example a renewed OIDC token) back to the kubeconfig file.
      - Falls back to E(K8S_AUTH_PERSIST_CONFIG).
    type: bool
  impersonate_user:
    description:
      - Act as this user (the C(Impersonate-User) header); the credentials need the C(impersonate) permission.
      - Falls back to E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description:
      - Act as a member of these groups (one C(Impersonate-Group) header each).
      - Falls back to E(K8S_AUTH_IMPERSONATE_GROUPS), a comma-separated list.
    type: list
    elements: str
requirements:
  - kubernetes >= 24.2.0 (the official Python client) on the host that runs the module or plugin
notes:
  - The connection options, their aliases and their environment variables are those of kubernetes.core,
    so a C(module_defaults) dictionary written for M(kubernetes.core.k8s) works unchanged, and AWX's
    C(OpenShift or Kubernetes API Bearer Token) credential works without extra wiring.
  - For the modules, set them once with C(module_defaults) and the action group C(group/cluster_ops.kubeadm.k8s).
"""
