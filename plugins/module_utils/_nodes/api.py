# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few API calls a drain or a node wait makes, as plain JSON: the ``NodeApi`` protocol and its
implementation over the official client.

Reads retry transient errors (``_k8s.api.call_json``); evictions and deletions raise the client's
ApiException untouched, because the eviction engine decides per status what a failure means.
Unit tests use an in-memory fake that mypy checks against the protocol.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any, Optional, Protocol

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ApiError
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.api import REQUEST_TIMEOUT, call_json, list_all

try:
    from kubernetes import client as k8s_client
except ImportError:  # reported by run_module(needs_kubernetes=True)
    k8s_client = None  # type: ignore[assignment]

STRATEGIC_MERGE = "application/strategic-merge-patch+json"
# Set on a node the collection cordoned, removed when it uncordons it: a later run can tell its own cordon from an
# administrator's, which it must keep.
CORDONED_BY = "cluster-ops.io/cordoned-by"
CORDONED_BY_VALUE = "cluster_ops.kubeadm"
WATCH_SECONDS = 30  # the server ends each watch after this; the watcher reconnects from the last resourceVersion


class Stream:
    """The events of one watch request; ``close()`` from another thread ends the iteration."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def __iter__(self) -> Iterator[dict[str, Any]]:
        buffer = b""
        response = self._response
        chunks = (
            response.stream(None, decode_content=False)
            if getattr(response, "chunked", False)
            else iter(lambda: response.read1(65536), b"")
        )
        for chunk in chunks:
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        # Shut the socket down first: closing a response another thread is reading from waits for that read.
        connection = getattr(self._response, "connection", None)
        sock = getattr(connection, "sock", None)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            self._response.close()
        except (OSError, ValueError):
            pass  # already closed or broken: nothing left to release


class EventStream(Protocol):
    """The events of one watch; ``close()`` from another thread ends the iteration."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Each event as sent (``type``, ``object``)."""

    def close(self) -> None:
        """End the watch."""


class NodeApi(Protocol):
    """What the drain, the eviction engine and the node wait ask of the API."""

    deadline: Optional[float]  # transient errors of reads are retried until then (monotonic clock)

    def get_node(self, name: str) -> dict[str, Any]:
        """The Node."""

    def set_unschedulable(self, name: str, value: bool) -> dict[str, Any]:
        """Cordon (True) or uncordon (False) the node; the Node after the patch."""

    def list_pods(self, node: str, selector: Optional[str]) -> tuple[list[dict[str, Any]], str]:
        """Every pod bound to the node (matching the label selector) and the list's resourceVersion."""

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        """The Pod."""

    def daemonset_exists(self, namespace: str, name: str) -> bool:
        """Whether the DaemonSet exists."""

    def evict(self, namespace: str, name: str, grace_period: Optional[int]) -> None:
        """Create an Eviction; raises the client's ApiException as the server answered."""

    def delete_pod(self, namespace: str, name: str, grace_period: Optional[int], uid: str) -> None:
        """Delete the pod with a uid precondition; raises the client's ApiException as the server answered."""

    def list_pdbs(self, namespace: str) -> tuple[list[dict[str, Any]], str]:
        """The namespace's PodDisruptionBudgets and the list's resourceVersion."""

    def watch_pdbs(self, namespace: str, resource_version: str) -> EventStream:
        """Watch the namespace's PodDisruptionBudgets from a resourceVersion."""

    def watch_pods(self, node: str, resource_version: str) -> EventStream:
        """Watch the node's pods from a resourceVersion."""


class ClientNodeApi:
    """``NodeApi`` over one ``kubernetes.client.ApiClient``."""

    def __init__(self, api_client: Any) -> None:
        self.deadline: Optional[float] = None  # transient errors of reads are retried until then (monotonic)
        # Any: every call is made with _preload_content=False and returns the raw response, not the model.
        self.core: Any = k8s_client.CoreV1Api(api_client)
        self.apps: Any = k8s_client.AppsV1Api(api_client)
        self.policy: Any = k8s_client.PolicyV1Api(api_client)

    def get_node(self, name: str) -> dict[str, Any]:
        return call_json(self.core.read_node, f"read node {name}", deadline=self.deadline, name=name)

    def set_unschedulable(self, name: str, value: bool) -> dict[str, Any]:
        body = {
            "metadata": {"annotations": {CORDONED_BY: CORDONED_BY_VALUE if value else None}},
            "spec": {"unschedulable": True if value else None},
        }
        return call_json(
            self.core.patch_node,
            f"patch node {name}",
            deadline=self.deadline,
            name=name,
            body=body,
            _content_type=STRATEGIC_MERGE,
        )

    def list_pods(self, node: str, selector: Optional[str]) -> tuple[list[dict[str, Any]], str]:
        """Every pod bound to ``node`` (paginated, restarted on 410) and the list's resourceVersion."""
        kwargs: dict[str, Any] = {"field_selector": f"spec.nodeName={node}", "limit": 500}
        if selector:
            kwargs["label_selector"] = selector
        return list_all(self.core.list_pod_for_all_namespaces, f"list pods on node {node}", self.deadline, **kwargs)

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return call_json(self.core.read_namespaced_pod, f"read pod {namespace}/{name}", name=name, namespace=namespace)

    def daemonset_exists(self, namespace: str, name: str) -> bool:
        try:
            call_json(
                self.apps.read_namespaced_daemon_set,
                f"read DaemonSet {namespace}/{name}",
                name=name,
                namespace=namespace,
            )
        except ApiError as exc:
            if exc.details.get("status") == 404:
                return False
            raise
        return True

    def evict(self, namespace: str, name: str, grace_period: Optional[int]) -> None:
        body: dict[str, Any] = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
        body["metadata"]["namespace"] = namespace
        if grace_period is not None:
            body["deleteOptions"] = {"gracePeriodSeconds": grace_period}
        self.core.create_namespaced_pod_eviction(
            name=name, namespace=namespace, body=body, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
        ).read()

    def delete_pod(self, namespace: str, name: str, grace_period: Optional[int], uid: str) -> None:
        # The uid precondition keeps a StatefulSet's new pod of the same name safe from a retried delete.
        body: dict[str, Any] = {"preconditions": {"uid": uid}}
        if grace_period is not None:
            body["gracePeriodSeconds"] = grace_period
        self.core.delete_namespaced_pod(
            name=name, namespace=namespace, body=body, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
        ).read()

    def list_pdbs(self, namespace: str) -> tuple[list[dict[str, Any]], str]:
        return list_all(
            self.policy.list_namespaced_pod_disruption_budget,
            f"list PodDisruptionBudgets in {namespace}",
            namespace=namespace,
        )

    def watch_pdbs(self, namespace: str, resource_version: str) -> Stream:
        return self._watch(
            self.policy.list_namespaced_pod_disruption_budget, namespace=namespace, resource_version=resource_version
        )

    def watch_pods(self, node: str, resource_version: str) -> Stream:
        return self._watch(
            self.core.list_pod_for_all_namespaces,
            field_selector=f"spec.nodeName={node}",
            resource_version=resource_version,
        )

    @staticmethod
    def _watch(list_call: Any, **kwargs: Any) -> Stream:
        response = list_call(
            watch=True,
            allow_watch_bookmarks=True,
            timeout_seconds=WATCH_SECONDS,
            _preload_content=False,
            _request_timeout=(REQUEST_TIMEOUT, WATCH_SECONDS + 15),
            **kwargs,
        )
        return Stream(response)
