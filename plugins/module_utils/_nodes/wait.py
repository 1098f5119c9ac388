# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_wait's logic: wait until a node is Ready, runs a kubelet version, has booted again, and its DaemonSet pods
are Running."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import (
    ApiError,
    InvalidInput,
    OperationTimeout,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import api_client
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.api import ClientNodeApi, NodeApi
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._options import argspec, check_seconds, spec, values
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import Version


def normalize_version(version: str) -> str:
    """The canonical form (``v1.35.2``) of the wanted kubelet version; bad input names the value."""
    wanted = Version.parse(version, "kubelet_version")
    if wanted.patch is None:
        raise InvalidInput(f"kubelet_version {version!r} names a minor line: give the full version, such as v1.35.2")
    return str(wanted)


@dataclass
class WaitOptions:
    """node_wait's options: the module's argument spec is derived from these fields."""

    node: str = field(metadata=spec(type="str", required=True, aliases=["name"]))
    timeout: int = field(default=300, metadata=spec(type="int"))
    kubelet_version: Optional[str] = field(default=None, metadata=spec(type="str"))
    daemonsets_running: bool = field(default=False, metadata=spec(type="bool"))
    previous_boot_id: Optional[str] = field(default=None, metadata=spec(type="str"))
    interval: float = field(default=1.0, metadata=spec(type="float"))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> WaitOptions:
        """The options, validated: InvalidInput names the first bad value."""
        options = cls(**values(cls, params))
        if not options.node.strip():
            raise InvalidInput("node must be a node name, got an empty string")
        check_seconds("timeout", options.timeout)
        check_seconds("interval", options.interval, high=min(options.timeout, 3600))
        if options.kubelet_version is not None:
            options.kubelet_version = normalize_version(options.kubelet_version)
        if options.previous_boot_id is not None and not options.previous_boot_id.strip():
            raise InvalidInput("previous_boot_id must be the boot ID a node reported, got an empty string")
        return options


WAIT_ARGSPEC = argspec(WaitOptions)


def node_state(node: dict[str, Any]) -> dict[str, Any]:
    """What matters of a node: Ready (with reason and message when not), kubelet version, boot ID."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    info = (node.get("status") or {}).get("nodeInfo") or {}
    return {
        "ready": bool(ready and ready.get("status") == "True"),
        "ready_reason": (ready or {}).get("reason") or ("no Ready condition" if ready is None else ""),
        "ready_message": (ready or {}).get("message") or "",
        "kubelet_version": info.get("kubeletVersion") or "",
        "boot_id": info.get("bootID") or "",
        "unschedulable": bool((node.get("spec") or {}).get("unschedulable")),
    }


def daemonset_pods_not_running(pods: list[dict[str, Any]]) -> list[str]:
    """``namespace/name (phase)`` of every DaemonSet pod on the node that is not Running, or is terminating."""
    waiting = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        owner = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
        if not owner or owner.get("kind") != "DaemonSet":
            continue
        phase = (pod.get("status") or {}).get("phase") or "Unknown"
        if phase != "Running" or meta.get("deletionTimestamp"):
            state = "Terminating" if meta.get("deletionTimestamp") else phase
            waiting.append(f"{meta.get('namespace')}/{meta.get('name')} ({state})")
    return sorted(waiting)


class NodeWait:
    """Poll the node (and its pods) until every condition holds or the timeout passes."""

    def __init__(
        self,
        api: NodeApi,
        options: WaitOptions,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.node = options.node
        self.timeout = options.timeout
        self.want_version = options.kubelet_version
        self.daemonsets_running = options.daemonsets_running
        self.previous_boot_id = options.previous_boot_id
        self.interval = options.interval
        self.clock = clock
        self.sleep = sleep

    def run(self) -> dict[str, Any]:
        start = self.clock()
        deadline = start + self.timeout
        self.api.deadline = deadline  # an API outage is retried within the timeout, not beyond it
        polls = 0
        while True:
            polls += 1
            seen, problems = self._look()
            if not problems:
                return {"changed": False, "node": self.node, **seen, "polls": polls, "elapsed": self._since(start)}
            if self.clock() + self.interval > deadline:
                raise OperationTimeout(
                    f"node {self.node} was not ready within {self.timeout}s; last seen: {'; '.join(problems)}",
                    node=self.node,
                    last_seen=seen,
                    elapsed=self._since(start),
                    polls=polls,
                )
            self.sleep(self.interval)

    def _look(self) -> tuple[dict[str, Any], list[str]]:
        """What the node looks like now, and every reason it is not yet what we wait for."""
        try:
            node = self.api.get_node(self.node)
        except ApiError as exc:
            if exc.details.get("status") == 404:
                return {"exists": False}, [f"node {self.node!r} does not exist"]
            if exc.details.get("transient") is False:
                raise  # a certificate the client refuses, 401, 403: waiting longer cannot help
            return {"error": exc.message}, [exc.message]  # an API outage during a reboot is expected: keep waiting
        seen = {"exists": True, **node_state(node)}
        problems = []
        if not seen["ready"]:
            detail = ": ".join(part for part in (seen["ready_reason"], seen["ready_message"]) if part)
            problems.append(f"Ready is not True ({detail or 'no reason given'})")
        if self.want_version and seen["kubelet_version"] != self.want_version:
            problems.append(f"kubelet {seen['kubelet_version'] or 'version unknown'}, want {self.want_version}")
        if self.previous_boot_id and seen["boot_id"] == self.previous_boot_id:
            # Ready stays True until the control plane notices a silent kubelet: only a new boot ID shows that the
            # kubelet of the new boot is up and reporting.
            problems.append(f"boot ID {self.previous_boot_id} is still the one before the reboot (no kubelet since)")
        if self.daemonsets_running:
            try:
                pods, _version = self.api.list_pods(self.node, None)
            except ApiError as exc:
                problems.append(exc.message)
            else:
                waiting = daemonset_pods_not_running(pods)
                seen["daemonset_pods_not_running"] = waiting
                if waiting:
                    problems.append(f"DaemonSet pods not Running: {', '.join(waiting)}")
        return seen, problems

    def _since(self, start: float) -> float:
        return round(self.clock() - start, 3)


def run(params: dict[str, Any]) -> dict[str, Any]:
    """The module's entry point: validate, then connect and wait."""
    options = WaitOptions.from_params(params)
    return NodeWait(ClientNodeApi(api_client(params)), options).run()
