"""``--use-service-account-credentials`` (what kubeadm runs kube-controller-manager with): each controller talks to
the API server as its own ServiceAccount in kube-system (``system:serviceaccount:kube-system:job-controller``,
bound to ``system:controller:job-controller`` by the bootstrap policy), with a TokenRequest token renewed
before it expires; the manager's own identity only lists, watches and makes those tokens."""

from __future__ import annotations

import threading
import time

from labkit.kubeclient import ApiError, KubeClient, path

NAMESPACE = "kube-system"
TOKEN_SECONDS = 3600
RENEW_AT = 0.8  # of the token's lifetime


class ServiceAccountToken:
    """A renewing token source for one ServiceAccount (created when missing)."""

    def __init__(self, root: KubeClient, name: str):
        self.root, self.name = root, name
        self.token, self.renew_after = "", 0.0
        self.lock = threading.Lock()

    def invalidate(self) -> None:
        """Make a new token at the next request (the old one was refused: its account was deleted)."""
        with self.lock:
            self.renew_after = 0.0

    def ensure_account(self) -> None:
        if self.root.get_or_none(path("serviceaccounts", NAMESPACE, self.name)) is None:
            try:
                body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": self.name}}
                self.root.create(path("serviceaccounts", NAMESPACE), body)
            except ApiError as exc:
                if exc.status != 409:
                    raise

    def __call__(self) -> str:
        with self.lock:
            if time.monotonic() >= self.renew_after:
                self.ensure_account()
                body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                        "spec": {"expirationSeconds": TOKEN_SECONDS}}  # fmt: skip
                answer = self.root.create(path("serviceaccounts", NAMESPACE, self.name, "token"), body)
                self.token = answer["status"]["token"]
                self.renew_after = time.monotonic() + TOKEN_SECONDS * RENEW_AT
            return self.token


def controller_client(root: KubeClient, service_account: str) -> KubeClient:
    """The controller's client; the first token is made at once, so that a server without TokenRequest
    shows at start (ApiError 404)."""
    source = ServiceAccountToken(root, service_account)
    source()
    return root.with_token(source)
