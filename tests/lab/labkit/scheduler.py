"""A simulated kube-scheduler: binds Pending pods without a node through the pods/binding subresource.

Filters like the real default plugins that matter for maintenance work: node Ready, NodeUnschedulable
(a cordoned node only takes pods tolerating ``node.kubernetes.io/unschedulable``), TaintToleration
(NoSchedule and NoExecute), NodeAffinity (nodeSelector and required node affinity, including the
``metadata.name`` field the DaemonSet controller uses). Scores by fewest pods, so replicas spread.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any

from labkit import component
from labkit.kubeclient import ApiError, Informer, KubeClient, path

UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    """The toleration rules of the API (``ToleratesTaint``)."""
    for tol in tolerations or []:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("key") and tol["key"] != taint.get("key"):
            continue
        if not tol.get("key") and tol.get("operator") != "Exists":
            continue
        if tol.get("operator", "Equal") == "Exists" or tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def match_expression(expr: dict[str, Any], value: str | None) -> bool:
    op, values = expr.get("operator"), expr.get("values") or []
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            return int(value) > int(values[0]) if op == "Gt" else int(value) < int(values[0])
        except ValueError:
            return False
    return False


def matches_affinity(pod: dict[str, Any], node: dict[str, Any]) -> bool:
    spec = pod.get("spec", {})
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    if not terms:
        return True
    fields = {"metadata.name": node["metadata"]["name"]}
    return any(
        all(match_expression(e, labels.get(e["key"])) for e in term.get("matchExpressions") or [])
        and all(match_expression(e, fields.get(e["key"])) for e in term.get("matchFields") or [])
        for term in terms
    )


def unfit_reason(pod: dict[str, Any], node: dict[str, Any]) -> str | None:
    """Why ``pod`` cannot go to ``node`` (the scheduler's own wording), None when it fits."""
    if not component.is_node_ready(node):
        return "node(s) were not ready"
    tolerations = pod.get("spec", {}).get("tolerations") or []
    if node.get("spec", {}).get("unschedulable") and not tolerates(tolerations, UNSCHEDULABLE_TAINT):
        return "node(s) were unschedulable"
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return f"node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}"
    if not matches_affinity(pod, node):
        return "node(s) didn't match Pod's node affinity/selector"
    return None


def choose_node(
    pod: dict[str, Any], nodes: list[dict[str, Any]], counts: dict[str, int]
) -> tuple[str | None, str | None]:
    """(node name, None) for the feasible node with fewest pods, or (None, FailedScheduling message)."""
    feasible: list[str] = []
    reasons: dict[str, int] = {}
    for node in nodes:
        reason = unfit_reason(pod, node)
        if reason is None:
            feasible.append(node["metadata"]["name"])
        else:
            reasons[reason] = reasons.get(reason, 0) + 1
    if feasible:
        return min(feasible, key=lambda name: (counts.get(name, 0), name)), None
    detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
    total = len(nodes)
    return None, (
        f"0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are available: "
        f"{total} Preemption is not helpful for scheduling."
    )


def trim(pod: dict[str, Any]) -> dict[str, Any]:
    """What the scheduler keeps of a pod."""
    meta = pod["metadata"]
    return {
        "metadata": {k: meta.get(k) for k in ("name", "namespace", "uid", "deletionTimestamp")},
        "spec": {
            k: pod.get("spec", {}).get(k)
            for k in ("nodeName", "schedulerName", "tolerations", "nodeSelector", "affinity")
        },
        "status": {"phase": pod.get("status", {}).get("phase"), "conditions": pod.get("status", {}).get("conditions")},
    }


class Scheduler:
    def __init__(self, client: KubeClient):
        self.client = client
        self.log = component.logging.getLogger("scheduler")
        self.lock = threading.RLock()
        self.wake = threading.Event()
        self.counts: dict[str, int] = {}
        self.pending: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, str] = {}
        self.nodes = Informer(client, "nodes", self.on_node, lock=self.lock)
        self.pods = Informer(client, "pods", self.on_pod, lock=self.lock, transform=trim, cache=False)
        self.assigned: dict[str, str] = {}  # pod uid -> node, for the pod counts

    def on_node(self, kind: str, node: dict, old: dict | None) -> None:
        self.wake.set()

    def on_pod(self, kind: str, pod: dict, _old: dict | None) -> None:
        meta, spec = pod["metadata"], pod.get("spec", {})
        uid, key = meta["uid"], f"{meta['namespace']}/{meta['name']}"
        with self.lock:
            node = spec.get("nodeName")
            done = kind == "DELETED" or pod.get("status", {}).get("phase") in ("Succeeded", "Failed")
            previous = self.assigned.pop(uid, None)
            if previous:
                self.counts[previous] -= 1
            if node and not done:
                self.assigned[uid] = node
                self.counts[node] = self.counts.get(node, 0) + 1
            if node or done or meta.get("deletionTimestamp"):
                self.pending.pop(key, None)
            elif spec.get("schedulerName", "default-scheduler") == "default-scheduler":
                self.pending[key] = pod
                self.wake.set()

    def schedule_once(self) -> None:
        with self.lock:
            nodes = list(self.nodes.store.values())
            pods = list(self.pending.items())
        for key, pod in pods:
            with self.lock:
                node, message = choose_node(pod, nodes, self.counts)
                if node:
                    self.pending.pop(key, None)
                    self.counts[node] = self.counts.get(node, 0) + 1  # assumed until the watch confirms
                    self.assigned[pod["metadata"]["uid"]] = node
            if node:
                self.bind(pod, node)
            elif message is not None and self.messages.get(key) != message:  # None only with a node
                self.messages[key] = message
                self.mark_unschedulable(pod, message)

    def bind(self, pod: dict, node: str) -> None:
        meta = pod["metadata"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            self.client.create(path("pods", meta["namespace"], meta["name"], "binding"), binding)
            self.messages.pop(f"{meta['namespace']}/{meta['name']}", None)
        except ApiError as exc:
            self.log.warning("binding %s/%s to %s: %s", meta["namespace"], meta["name"], node, exc)
            with self.lock:
                if self.assigned.pop(meta["uid"], None):
                    self.counts[node] -= 1

    def mark_unschedulable(self, pod: dict, message: str) -> None:
        meta = pod["metadata"]
        cond = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": component.now(),
        }
        try:
            self.client.patch(
                path("pods", meta["namespace"], meta["name"], "status"),
                {"status": {"conditions": [cond]}},
                kind="strategic",
            )
        except ApiError as exc:
            self.log.info(
                "pod %s/%s unschedulable (%s); status not updated: %s", meta["namespace"], meta["name"], message, exc
            )

    def run(self) -> None:
        self.nodes.start()
        self.nodes.synced.wait()
        self.pods.start()
        while True:
            self.wake.wait(timeout=1.0)
            self.wake.clear()
            try:
                self.schedule_once()
            except (ApiError, OSError) as exc:
                self.log.warning("scheduling: %s", exc)
                time.sleep(0.2)
            except Exception:
                self.log.exception("scheduling failed")
                time.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path)
    args = parser.parse_args()
    component.setup("scheduler")
    Scheduler(component.client_for(args.state_dir, "scheduler")).run()


if __name__ == "__main__":
    main()
