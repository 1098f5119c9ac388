"""The pods/eviction subresource, after kube-apiserver's pkg/registry/core/pod/storage/eviction.go."""

from __future__ import annotations

import copy
import random
import time

from . import errors
from .errors import ApiError, status_body
from .registry import PODS, Registry, now_iso
from .resources import BY_NAME
from .selectors import selector_from_label_selector

PDBS = BY_NAME["poddisruptionbudgets"]
MAX_DISRUPTED_PODS = 2000
VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE_PDBS = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
RETRIES = 20


def too_many_requests(cause: str) -> ApiError:
    return ApiError(429, VIOLATION, "TooManyRequests", {"causes": [{"reason": "DisruptionBudget", "message": cause}]})


def _ready(pod: dict) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _can_ignore_pdb(pod: dict) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(pod["metadata"].get("deletionTimestamp"))


def _enforce_rv(pod: dict) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return not (phase in ("Succeeded", "Failed") or pod["metadata"].get("deletionTimestamp"))


class Eviction:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.store = registry.store

    def evict(self, namespace: str | None, name: str, body) -> tuple[int, dict]:
        """Return (HTTP code, Status body) or raise ApiError."""
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request is not a JSON object")
        body_name = (body.get("metadata") or {}).get("name")
        if body_name and body_name != name:
            raise errors.bad_request("name in URL does not match name in Eviction object")
        self.registry.check_namespace_for_create(PODS, namespace, name)
        options = dict(body.get("deleteOptions") or {})
        dry_run = bool(options.get("dryRun"))
        user_rv = (options.get("preconditions") or {}).get("resourceVersion")

        # A pod that may skip the PDB check (terminal, Pending, already terminating) is simply deleted.
        for attempt in range(RETRIES):
            pod = self.registry.get(PODS, namespace, name).obj
            if not _can_ignore_pdb(pod):
                break
            opts = copy.deepcopy(options)
            if _enforce_rv(pod) and not user_rv:
                opts.setdefault("preconditions", {})["resourceVersion"] = pod["metadata"]["resourceVersion"]
            try:
                self._delete(namespace, name, opts, dry_run)
            except ApiError as exc:
                if exc.code == 404 and attempt > 0:
                    return 201, status_body(201)
                if exc.reason == "Conflict" and not user_rv:
                    continue
                raise
            return 201, status_body(201)

        pdbs = self._pdbs_for(pod)
        if len(pdbs) > 1:
            return 500, status_body(500, MULTIPLE_PDBS)
        enforce_rv = False
        pdb_name = ""
        if pdbs:
            pdb_name = pdbs[0]["metadata"]["name"]
            status = pdbs[0].get("status") or {}
            policy = (pdbs[0].get("spec") or {}).get("unhealthyPodEvictionPolicy")
            unready = not _ready(pod)
            healthy_enough = status.get("currentHealthy", 0) >= status.get("desiredHealthy", 0) > 0
            if unready and (policy == "AlwaysAllow" or healthy_enough):
                enforce_rv = True  # an unready pod does not count: no budget to spend
            else:
                self._check_and_decrement(namespace, name, pdb_name, dry_run)
        opts = copy.deepcopy(options)
        if enforce_rv and not user_rv:
            opts.setdefault("preconditions", {})["resourceVersion"] = pod["metadata"]["resourceVersion"]
        try:
            self._delete(namespace, name, opts, dry_run)
        except ApiError as exc:
            if exc.reason == "Conflict" and enforce_rv and not user_rv:
                raise too_many_requests(
                    f"The disruption budget {pdb_name} is still being processed by the server."
                ) from None
            raise
        return 201, status_body(201)

    def _pdbs_for(self, pod: dict) -> list[dict]:
        namespace = pod["metadata"]["namespace"]
        labels = pod["metadata"].get("labels") or {}
        entries, _, _, _ = self.store.list(PDBS, namespace, None)
        found = []
        for e in entries:
            match = selector_from_label_selector((e.obj.get("spec") or {}).get("selector"))
            if match is not None and match(labels):  # an empty selector matches nothing
                found.append(e.obj)
        return found

    def _check_and_decrement(self, namespace: str | None, pod_name: str, pdb_name: str, dry_run: bool) -> None:
        for _ in range(RETRIES):
            entry = self.registry.get(PDBS, namespace, pdb_name)
            pdb = entry.obj  # a fresh parse
            status = pdb.setdefault("status", {})
            if int(status.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 0):
                raise too_many_requests(f"The disruption budget {pdb_name} is still being processed by the server.")
            allowed = int(status.get("disruptionsAllowed") or 0)
            if allowed < 0:
                raise errors.forbidden(PDBS, pdb_name, "pdb disruptions allowed is negative")
            if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_PODS:
                why = "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
                raise errors.forbidden(PDBS, pdb_name, why)
            if allowed == 0:
                need, have = int(status.get("desiredHealthy") or 0), int(status.get("currentHealthy") or 0)
                raise too_many_requests(
                    f"The disruption budget {pdb_name} needs {need} healthy pods and has {have} currently"
                )
            status["disruptionsAllowed"] = allowed - 1
            if allowed - 1 == 0:
                _set_insufficient(status)
            if dry_run:
                return
            status.setdefault("disruptedPods", {})[pod_name] = now_iso()
            # Optimistic concurrency on the PDB: the txn compares its mod_revision.
            if self.store.txn_put([(PDBS, entry.key, pdb, entry.rv)]) is not None:
                return
            time.sleep(random.uniform(0.001, 0.02))
        raise ApiError(504, f'couldn\'t update PodDisruptionBudget "{pdb_name}" due to conflicts', "Timeout",
                       {"retryAfterSeconds": 10})  # fmt: skip

    def _delete(self, namespace: str | None, name: str, options: dict, dry_run: bool) -> None:
        if dry_run:
            self.registry.get(PODS, namespace, name)
            return
        self.registry.delete(PODS, namespace, name, options, mutate=_add_disruption_condition)


def _add_disruption_condition(pod: dict) -> None:
    """The DisruptionTarget condition the real eviction handler sets; here in the deletion's own write."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return
    conds = (pod.get("status") or {}).get("conditions") or []
    if not any(c.get("type") == "DisruptionTarget" for c in conds):
        pod.setdefault("status", {}).setdefault("conditions", []).append({
            "type": "DisruptionTarget",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": now_iso(),
            "reason": "EvictionByEvictionAPI",
            "message": "Eviction API: evicting",
        })  # fmt: skip


def _set_insufficient(status: dict) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != "DisruptionAllowed"]
    conds.append({
        "type": "DisruptionAllowed",
        "status": "False",
        "reason": "InsufficientPods",
        "message": "",
        "lastTransitionTime": now_iso(),
        "observedGeneration": 0,
    })  # fmt: skip
    status["conditions"] = conds
