"""The serviceaccount controller and the root CA publisher: what every namespace of a real cluster holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from lab_helpers import wait_for
from labkit.kubeclient import KubeClient, path

SYSTEM = ("default", "kube-system", "kube-public", "kube-node-lease")


@pytest.fixture(scope="module")
def api(lab) -> KubeClient:
    return KubeClient.from_kubeconfig(lab.kubeconfig)


def test_every_namespace_has_the_default_service_account_and_the_root_ca(api, lab):
    ca = (Path(lab.info["pki_dir"]) / "ca.crt").read_text()
    for ns in SYSTEM:
        assert api.get(path("serviceaccounts", ns, "default"))["metadata"]["name"] == "default"
        root = api.get(path("configmaps", ns, "kube-root-ca.crt"))
        assert root["data"] == {"ca.crt": ca}
        assert root["metadata"]["annotations"]["kubernetes.io/description"].startswith(
            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints"
        )
    api.create(path("namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sa-new"}})
    try:
        wait_for("default in a new namespace", lambda: api.get_or_none(path("serviceaccounts", "sa-new", "default")))
        wait_for("kube-root-ca.crt in it", lambda: api.get_or_none(path("configmaps", "sa-new", "kube-root-ca.crt")))
        old = api.get(path("serviceaccounts", "sa-new", "default"))["metadata"]["uid"]
        api.delete(path("serviceaccounts", "sa-new", "default"))
        again = wait_for("default created again", lambda: (sa := api.get_or_none(path(
            "serviceaccounts", "sa-new", "default"))) and sa["metadata"]["uid"] != old and sa)  # fmt: skip
        assert again["metadata"]["name"] == "default"
        api.patch(path("configmaps", "sa-new", "kube-root-ca.crt"), {"data": {"ca.crt": "tampered"}})
        wait_for("the CA put back", lambda: api.get(path("configmaps", "sa-new", "kube-root-ca.crt"))["data"] == {
            "ca.crt": ca})  # fmt: skip
    finally:
        api.delete_ignoring_missing(path("namespaces", name="sa-new"))
