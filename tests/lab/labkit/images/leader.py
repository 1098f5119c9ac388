"""Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does for kube-controller-manager
and kube-scheduler (``--leader-elect=true``): with several control planes exactly one instance works.

client-go's defaults (lease 15 s, renew deadline 10 s, retry 2 s) are multiplied by the lab's time factor, with
floors so a busy machine does not flap leaders. Losing the lease ends the process, as it ends the real components.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from labkit import component
from labkit.kubeclient import ApiError, KubeClient, path

log = logging.getLogger("leaderelection")


class LeaderElector:
    def __init__(self, client: KubeClient, name: str, time_factor: float):
        self.client = client
        self.name = name
        self.identity = f"{socket.gethostname()}_{uuid.uuid4()}"
        self.duration = max(15 * time_factor, 4.0)
        self.renew_deadline = max(10 * time_factor, 3.0)
        self.retry = max(2 * time_factor, 0.5)
        self.url = path("leases", "kube-system", name)

    def spec(self, lease: dict[str, Any] | None) -> dict[str, Any]:
        now = component.micro_now()
        old = (lease or {}).get("spec") or {}
        mine = old.get("holderIdentity") == self.identity
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": round(self.duration) or 1,
            "acquireTime": old.get("acquireTime") if mine else now,
            "renewTime": now,
            "leaseTransitions": int(old.get("leaseTransitions") or 0) + (0 if mine or not lease else 1),
        }

    def try_acquire_or_renew(self) -> bool:
        lease = self.client.get_or_none(self.url)
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": "kube-system"},
                "spec": self.spec(None),
            }
            self.client.create(path("leases", "kube-system"), body)
            return True
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        expires = component.parse_time(spec.get("renewTime")) + float(spec.get("leaseDurationSeconds") or 0)
        if holder and holder != self.identity and expires > time.time():
            return False
        lease["spec"] = self.spec(lease)
        self.client.update(self.url, lease)  # carries the resourceVersion: a concurrent taker gets 409
        return True

    def attempt(self) -> bool:
        try:
            return self.try_acquire_or_renew()
        except (ApiError, OSError, ValueError) as exc:
            log.info("lease %s: %s", self.name, exc)
            return False

    def acquire(self) -> None:
        log.info("attempting to acquire leader lease kube-system/%s...", self.name)
        while not self.attempt():
            time.sleep(self.retry)
        log.info("successfully acquired lease kube-system/%s", self.name)

    def keep(self) -> None:
        """Renew in the background; exit the process when the lease cannot be renewed within the deadline."""

        def renew() -> None:
            last = time.monotonic()
            while True:
                time.sleep(self.retry)
                if self.attempt():
                    last = time.monotonic()
                elif time.monotonic() - last > self.renew_deadline:
                    log.error("leaderelection lost: kube-system/%s", self.name)
                    os._exit(1)

        threading.Thread(target=renew, daemon=True, name="leader-renew").start()
