"""What every simulated component shares: lab settings, its API client, time helpers, clean shutdown."""

from __future__ import annotations

import datetime
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from labkit.kubeclient import KubeClient

FLEET_ANNOTATION = "lab.cluster-ops.io/fleet"  # nodes without a kubelet process of their own (scale profile)


def lab_info(state_dir: Path) -> dict[str, Any]:
    return json.loads((state_dir / "lab.json").read_text())


def client_for(state_dir: Path, component: str) -> KubeClient:
    """The component's own kubeconfig (``<component>.conf``) when the lab wrote one, else admin.conf."""
    own = state_dir / f"{component}.conf"
    return KubeClient.from_kubeconfig(str(own if own.exists() else state_dir / "admin.conf"))


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_now() -> str:
    """A MicroTime as leases carry it."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str | None) -> float:
    """Epoch seconds of an RFC 3339 timestamp (Time or MicroTime); 0 for none."""
    if not value:
        return 0.0
    value = value.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(value).timestamp()


def setup(name: str) -> logging.Logger:
    """Log to stderr (the supervisor's log file) and exit cleanly on SIGTERM."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(levelname)s %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return logging.getLogger(name)


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in obj.get("status", {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_pod_ready(pod: dict[str, Any]) -> bool:
    cond = condition(pod, "Ready")
    return bool(cond and cond.get("status") == "True")


def is_node_ready(node: dict[str, Any]) -> bool:
    cond = condition(node, "Ready")
    return bool(cond and cond.get("status") == "True")


def controller_ref(api_version: str, kind: str, owner: dict[str, Any]) -> dict[str, Any]:
    """The ownerReference a controller puts on what it creates."""
    meta = owner["metadata"]
    ref = {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"]}
    return {**ref, "controller": True, "blockOwnerDeletion": True}


def controller_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None
