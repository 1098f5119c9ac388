"""Workloads for drain tests and the drain benchmark, created through the API of a lab (plain JSON).

Pods are made to land on one node by cordoning the other workers while they are created; a
``BudgetWatcher`` samples the healthy pods behind each PodDisruptionBudget during a drain and records
the lowest count it saw.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable, Optional

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

TARGET = "worker-1"  # the node drain tests and the benchmark drain


def _json(response: Any) -> dict[str, Any]:
    data = response.data
    return json.loads(data) if data else {}


class Cluster:
    """A thin JSON client for setting up and observing workloads."""

    def __init__(self, kubeconfig: str, pool: int = 16) -> None:
        configuration = k8s_client.Configuration()
        k8s_config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
        configuration.connection_pool_maxsize = pool
        api = k8s_client.ApiClient(configuration)
        self.core = k8s_client.CoreV1Api(api)
        self.apps = k8s_client.AppsV1Api(api)
        self.policy = k8s_client.PolicyV1Api(api)

    # --- reads ---------------------------------------------------------------------------------------------

    def node(self, name: str) -> dict[str, Any]:
        return _json(self.core.read_node(name, _preload_content=False))

    def pods(self, namespace: Optional[str] = None, node: Optional[str] = None, selector: str = "") -> list[dict]:
        kwargs: dict[str, Any] = {"_preload_content": False}
        if node:
            kwargs["field_selector"] = f"spec.nodeName={node}"
        if selector:
            kwargs["label_selector"] = selector
        if namespace:
            return _json(self.core.list_namespaced_pod(namespace, **kwargs)).get("items") or []
        return _json(self.core.list_pod_for_all_namespaces(**kwargs)).get("items") or []

    def pdb(self, namespace: str, name: str) -> dict[str, Any]:
        return _json(self.policy.read_namespaced_pod_disruption_budget(name, namespace, _preload_content=False))

    def pdbs(self, namespace: str) -> list[dict[str, Any]]:
        return _json(self.policy.list_namespaced_pod_disruption_budget(namespace, _preload_content=False))["items"]

    # --- writes --------------------------------------------------------------------------------------------

    def set_unschedulable(self, node: str, value: bool) -> None:
        self.core.patch_node(
            node,
            {"spec": {"unschedulable": True if value else None}},
            _content_type="application/strategic-merge-patch+json",
            _preload_content=False,
        )

    def namespace(self, name: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        self.core.create_namespace(body, _preload_content=False)

    def delete_namespace(self, name: str) -> None:
        try:
            self.core.delete_namespace(name, _preload_content=False)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def deployment(
        self,
        namespace: str,
        name: str,
        replicas: int,
        empty_dir: bool = False,
        grace: int = 5,
        labels: Optional[dict[str, str]] = None,
        requests: Optional[dict[str, str]] = None,
    ) -> None:
        """A Deployment of pause pods labelled ``labels`` (default ``app: name``), requesting ``requests``."""
        labels = labels or {"app": name}
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": pod_template(labels, empty_dir, grace, requests),
            },
        }
        self.apps.create_namespaced_deployment(namespace, body, _preload_content=False)

    def pinned_deployment(
        self,
        namespace: str,
        name: str,
        node: str,
        others: list[str],
        app: str,
        requests: Optional[dict[str, str]] = None,
    ) -> None:
        """A one-replica Deployment (labels ``app``, ``deployment: name``) whose pod runs on ``node``: made while
        the ``others`` are cordoned, so nothing but the scheduler's choice pins it (a drain may move it)."""
        for other in others:
            self.set_unschedulable(other, True)
        try:
            self.deployment(namespace, name, 1, labels={"app": app, "deployment": name}, requests=requests)
            wait_for(f"{name} on {node}", lambda: [
                p for p in self.pods(namespace, node=node, selector=f"deployment={name}")
                if p["status"].get("phase") == "Running"
            ])  # fmt: skip
        finally:
            for other in others:
                self.set_unschedulable(other, False)

    def statefulset(self, namespace: str, name: str, replicas: int, grace: int = 5) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "replicas": replicas,
                "serviceName": name,
                "selector": {"matchLabels": {"app": name}},
                "template": pod_template({"app": name}, False, grace),
            },
        }
        self.apps.create_namespaced_stateful_set(namespace, body, _preload_content=False)

    def daemonset(self, namespace: str, name: str) -> None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": pod_template({"app": name}, False, 1)},
        }
        self.apps.create_namespaced_daemon_set(namespace, body, _preload_content=False)

    def delete_daemonset_orphaning(self, namespace: str, name: str) -> None:
        self.apps.delete_namespaced_daemon_set(
            name, namespace, body={"propagationPolicy": "Orphan"}, _preload_content=False
        )

    def bare_pod(self, namespace: str, name: str, node: str, empty_dir: bool = False, owner=None) -> None:
        """A pod bound to ``node`` with no controller, or with the ``owner`` reference given."""
        template = pod_template({"app": name}, empty_dir, 1)
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, **template["metadata"]},
            "spec": {**template["spec"], "nodeName": node},
        }
        if owner:
            body["metadata"]["ownerReferences"] = [owner]
        self.core.create_namespaced_pod(namespace, body, _preload_content=False)

    def pdb_create(
        self, namespace: str, name: str, app: str, max_unavailable: Optional[int] = None, min_available=None
    ):
        spec: dict[str, Any] = {"selector": {"matchLabels": {"app": app}}}
        if max_unavailable is not None:
            spec["maxUnavailable"] = max_unavailable
        if min_available is not None:
            spec["minAvailable"] = min_available
        body = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
        self.policy.create_namespaced_pod_disruption_budget(namespace, body, _preload_content=False)

    def delete_pods(self, namespace: str, grace: int = 0) -> None:
        for pod in self.pods(namespace):
            try:
                self.core.delete_namespaced_pod(
                    pod["metadata"]["name"], namespace, grace_period_seconds=grace, _preload_content=False
                )
            except ApiException as exc:
                if exc.status != 404:
                    raise


def pod_template(
    labels: dict[str, str], empty_dir: bool, grace: int, requests: Optional[dict[str, str]] = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": grace,
        "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
    }
    if requests:
        spec["containers"][0]["resources"] = {"requests": dict(requests)}
    if empty_dir:
        spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        spec["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def is_ready(pod: dict[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except ApiException as exc:  # the API server may be restarting
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def ready_on(cluster: Cluster, namespace: str, node: str, count: int, timeout: float = 120.0) -> list[dict]:
    """Wait until ``count`` Ready pods of ``namespace`` run on ``node``."""

    def check():
        pods = [p for p in cluster.pods(namespace, node=node) if is_ready(p)]
        return pods if len(pods) >= count else None

    return wait_for(f"{count} ready pods of {namespace} on {node}", check, timeout)


def budgets_settled(cluster: Cluster, namespace: str, timeout: float = 60.0) -> None:
    """Wait until every PDB of the namespace allows its disruptions again (the controller caught up)."""

    def check():
        pdbs = cluster.pdbs(namespace)
        return all((p.get("status") or {}).get("disruptionsAllowed", 0) >= 1 for p in pdbs)

    wait_for(f"the PodDisruptionBudgets of {namespace} to allow disruptions", check, timeout)


class BudgetWatcher:
    """Samples healthy (Ready, not terminating) pods per app label the whole time and keeps the minimum."""

    def __init__(self, cluster: Cluster, namespace: str, required: dict[str, int], interval: float = 0.05) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.required = required  # app label -> minimum healthy pods the budget guarantees
        self.interval = interval
        self.minimum: dict[str, int] = {app: 1 << 30 for app in required}
        self.samples = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="budget-watcher")

    def __enter__(self) -> BudgetWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                pods = self.cluster.pods(self.namespace)
            except Exception:  # the API server may be down on purpose: sample again later
                self.errors += 1
            else:
                healthy: dict[str, int] = dict.fromkeys(self.required, 0)
                for pod in pods:
                    app = ((pod.get("metadata") or {}).get("labels") or {}).get("app")
                    if app in healthy and is_ready(pod):
                        healthy[app] += 1
                for app, count in healthy.items():
                    self.minimum[app] = min(self.minimum[app], count)
                self.samples += 1
            self._stop.wait(self.interval)

    @property
    def violations(self) -> dict[str, tuple[int, int]]:
        """app -> (lowest healthy count seen, required) for every budget that was broken."""
        return {app: (self.minimum[app], need) for app, need in self.required.items() if self.minimum[app] < need}


def mine(pods: list[str], namespace: str) -> list[str]:
    """The ``namespace/name`` entries of one namespace (the lab's own pods may be drained too)."""
    return sorted(p for p in pods if p.startswith(f"{namespace}/"))
