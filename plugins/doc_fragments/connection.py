# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file.
      - Falls back to E(K8S_AUTH_KUBECONFIG), then to the first existing file in E(KUBECONFIG),
        then to C(~/.kube/config).
    type: path
  context:
    description:
      - The kubeconfig context to use. Falls back to E(K8S_AUTH_CONTEXT), then to the kubeconfig's current context.
    type: str
  host:
    description:
      - URL of the Kubernetes API server, for example C(https://10.0.0.10:6443). Falls back to E(K8S_AUTH_HOST).
      - With O(api_key) no kubeconfig is read.
    type: str
  api_key:
    description:
      - Bearer token used to authenticate with the API server. Falls back to E(K8S_AUTH_API_KEY).
    type: str
  ca_cert:
    description:
      - Path to the CA certificate that signed the API server's certificate.
      - Falls back to E(K8S_AUTH_SSL_CA_CERT), then E(K8S_AUTH_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether to verify the API server's certificate.
      - Falls back to E(K8S_AUTH_VERIFY_SSL), then E(K8S_AUTH_VALIDATE_CERTS).
    type: bool
    default: true
    aliases: [verify_ssl]
requirements:
  - kubernetes >= 24.2.0 (the official Python client) on the host that runs the module
notes:
  - The connection options and their environment variables are those of kubernetes.core, so AWX's
    C(OpenShift or Kubernetes API Bearer Token) credential works without extra wiring.
  - Set them once for every module of the collection with C(module_defaults) and the action group
    C(group/cluster_ops.kubeadm.k8s).
"""
