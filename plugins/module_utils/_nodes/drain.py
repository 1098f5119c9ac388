# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_drain's logic: cordon, uncordon, or drain a node the way kubectl does, concurrently and PDB-aware.

A drain first lists and judges the node's pods without changing anything, so refused pods fail the task
before the node is even cordoned; then it cordons, lists again (pods may have landed meanwhile), and hands
the pods to the eviction engine. On failure the node stays cordoned unless ``uncordon_on_failure``: a
half-drained node must not take new pods while its remaining ones are still being moved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import (
    ApiError,
    ClusterOpsError,
    InvalidInput,
    OperationTimeout,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import api_client, build_configuration
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.api import ClientNodeApi, NodeApi
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.evictor import Evictor, Outcome
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.filters import (
    FilterOptions,
    Plan,
    classify,
    pod_key,
    validate_selector,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._options import (
    argspec,
    check_range,
    check_seconds,
    spec,
    values,
)

STATES = ("drain", "cordon", "uncordon")
MAX_CONCURRENCY = 1000  # requests in flight; more only overloads the API server


@dataclass
class DrainOptions:
    """node_drain's options: the module's argument spec is derived from these fields."""

    node: str = field(metadata=spec(type="str", required=True, aliases=["name"]))
    state: str = field(default="drain", metadata=spec(type="str", choices=list(STATES)))
    ignore_daemonsets: bool = field(default=False, metadata=spec(type="bool"))
    delete_emptydir_data: bool = field(default=False, metadata=spec(type="bool"))
    force: bool = field(default=False, metadata=spec(type="bool"))
    grace_period: int = field(default=-1, metadata=spec(type="int"))
    timeout: int = field(default=300, metadata=spec(type="int"))
    pod_selector: Optional[str] = field(default=None, metadata=spec(type="str"))
    disable_eviction: bool = field(default=False, metadata=spec(type="bool"))
    skip_wait_for_delete_timeout: int = field(default=0, metadata=spec(type="int"))
    concurrency: int = field(default=50, metadata=spec(type="int"))
    uncordon_on_failure: bool = field(default=False, metadata=spec(type="bool"))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DrainOptions:
        """The options, validated: InvalidInput names the first bad value."""
        options = cls(**values(cls, params))
        if not options.node or not options.node.strip():
            raise InvalidInput("node must be a node name, got an empty string")
        if options.state not in STATES:
            raise InvalidInput(f"state {options.state!r} is not one of {', '.join(STATES)}")
        check_seconds("timeout", options.timeout)
        check_range("concurrency", options.concurrency, 1, MAX_CONCURRENCY)
        if options.grace_period < -1:
            raise InvalidInput(f"grace_period must be -1 (the pod's own) or >= 0, got {options.grace_period}")
        check_seconds("grace_period", max(options.grace_period, 0), allow_zero=True)
        check_seconds("skip_wait_for_delete_timeout", options.skip_wait_for_delete_timeout, allow_zero=True)
        options.pod_selector = validate_selector(options.pod_selector)
        return options

    @property
    def filters(self) -> FilterOptions:
        return FilterOptions(
            ignore_daemonsets=self.ignore_daemonsets,
            delete_emptydir_data=self.delete_emptydir_data,
            force=self.force,
            skip_wait_for_delete_timeout=self.skip_wait_for_delete_timeout,
        )


DRAIN_ARGSPEC = argspec(DrainOptions)


class Drain:
    """One run of node_drain against a NodeApi."""

    def __init__(
        self,
        api: NodeApi,
        options: DrainOptions,
        check_mode: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.options = options
        self.check_mode = check_mode
        self.clock = clock
        self.start = clock()
        self.deadline = self.start + options.timeout
        self.timings: dict[str, float] = {}
        self.cordoned = False  # by this run
        self.evictor: Optional[Evictor] = None
        api.deadline = self.deadline

    def run(self) -> dict[str, Any]:
        try:
            node = self._read_node()
            was_cordoned = bool((node.get("spec") or {}).get("unschedulable"))
            if self.options.state == "drain":
                return self._drain(was_cordoned)
            return self._set_schedulable(was_cordoned, self.options.state == "cordon")
        except ClusterOpsError:
            raise
        except Exception as exc:  # a bug or an unforeseen answer: still say what was changed before it
            raise self._unexpected(exc) from exc

    def _unexpected(self, exc: Exception) -> ClusterOpsError:
        evicted, deleted = self.evictor.accepted() if self.evictor else ([], [])
        done = [f"cordoned {self.options.node}"] if self.cordoned else []
        if evicted:
            done.append(f"evicted {len(evicted)} pod(s)")
        if deleted:
            done.append(f"deleted {len(deleted)} pod(s)")
        what = f"after it {', '.join(done)}" if done else "before changing anything"
        reason = (str(exc).strip().splitlines() or [""])[0]
        return ClusterOpsError(
            f"node_drain failed {what}: {type(exc).__name__}: {reason}",
            changed=bool(done),
            node=self.options.node,
            unschedulable=self.cordoned or None,
            evicted=evicted,
            deleted=deleted,
        )

    # --- cordon / uncordon ------------------------------------------------------------------------------------

    def _set_schedulable(self, was_cordoned: bool, cordon: bool) -> dict[str, Any]:
        changed = was_cordoned != cordon
        if changed and not self.check_mode:
            self._timed("cordon", lambda: self.api.set_unschedulable(self.options.node, cordon))
        return {
            "changed": changed,
            "node": self.options.node,
            "state": self.options.state,
            "unschedulable": cordon,
            "duration": self._elapsed(),
            "timings": self.timings,
            "diff": {"before": {"unschedulable": was_cordoned}, "after": {"unschedulable": cordon}},
        }

    # --- drain -------------------------------------------------------------------------------------------------

    def _drain(self, was_cordoned: bool) -> dict[str, Any]:
        pods, version = self._timed("list", self._list)
        plan = self._judge(pods)
        before = {"unschedulable": was_cordoned, "pods": sorted(pod_key(p) for p in pods)}
        if plan.refused:
            raise ClusterOpsError(
                f"cannot drain node {self.options.node}: {'; '.join(plan.refusal_lines())}",
                refused=plan.refused,
                skipped_pods=plan.skipped,
                unschedulable=was_cordoned,
                changed=False,
            )
        if self.check_mode:
            return self._result(
                was_cordoned, plan, None, before, changed=not was_cordoned or bool(plan.evict or plan.delete)
            )
        if not was_cordoned:
            self._timed("cordon", lambda: self.api.set_unschedulable(self.options.node, True))
            self.cordoned = True
            # Pods may have been bound between the first list and the cordon: judge the final set again.
            pods, version = self._timed("list", self._list)
            plan = self._judge(pods)
            if plan.refused:
                self._fail(
                    f"cannot drain node {self.options.node}: {'; '.join(plan.refusal_lines())}",
                    was_cordoned,
                    plan,
                    None,
                    refused=plan.refused,
                )
        self.evictor = Evictor(
            self.api,
            self.options.node,
            plan.evict,
            plan.delete,
            self.deadline,
            grace_period=self.options.grace_period if self.options.grace_period >= 0 else None,
            disable_eviction=self.options.disable_eviction,
            concurrency=self.options.concurrency,
            skip_wait_for_delete_timeout=self.options.skip_wait_for_delete_timeout,
            resource_version=version,
            clock=self.clock,
        )
        outcome = self.evictor.run()
        self.timings.update(outcome.timings)
        if not outcome.ok:
            self._fail(self._failure_message(outcome), was_cordoned, plan, outcome, timed_out=outcome.timed_out)
        changed = not was_cordoned or bool(outcome.evicted or outcome.deleted)
        return self._result(was_cordoned, plan, outcome, before, changed=changed)

    def _list(self) -> tuple[list[dict[str, Any]], str]:
        pods, version = self.api.list_pods(self.options.node, self.options.pod_selector)
        unique = {(p.get("metadata") or {}).get("uid") or pod_key(p): p for p in pods}  # a restarted list repeats
        return sorted(unique.values(), key=pod_key), version

    def _judge(self, pods: list[dict[str, Any]]) -> Plan:
        known: dict[tuple[str, str], bool] = {}

        def daemonset_exists(namespace: str, name: str) -> bool:
            if (namespace, name) not in known:
                known[namespace, name] = self.api.daemonset_exists(namespace, name)
            return known[namespace, name]

        return classify(pods, self.options.filters, daemonset_exists)

    def _failure_message(self, outcome: Outcome) -> str:
        parts = []
        if outcome.blocked:
            parts.append(
                f"{len(outcome.blocked)} pod(s) blocked by PodDisruptionBudgets: "
                + ", ".join(f"{b['pod']} ({b['pdb']}: {b['message']})" for b in outcome.blocked)
            )
        if outcome.errors:
            parts.append(
                f"{len(outcome.errors)} pod(s) failed: "
                + ", ".join(f"{e['pod']}: {e['message']}" for e in outcome.errors)
            )
        when = f"within the timeout of {self.options.timeout}s" if outcome.timed_out else "completely"
        done = f"{len(outcome.evicted)} evicted, {len(outcome.deleted)} deleted"
        return f"node {self.options.node} was not drained {when} ({done}): {'; '.join(parts)}"

    def _fail(
        self,
        message: str,
        was_cordoned: bool,
        plan: Plan,
        outcome: Optional[Outcome],
        timed_out: bool = False,
        **extra: Any,
    ) -> None:
        restored = False
        if self.options.uncordon_on_failure and not was_cordoned:
            try:
                self.api.set_unschedulable(self.options.node, False)
                restored = True
            except ClusterOpsError as exc:
                message += f"; uncordon_on_failure failed too: {exc.message}"
        message += "; the node was uncordoned (uncordon_on_failure)" if restored else "; the node stays cordoned"
        details = self._result(was_cordoned, plan, outcome, None, changed=True)
        details.pop("diff", None)
        details["unschedulable"] = not restored
        if outcome is not None:
            details.update(blocked=outcome.blocked, errors=outcome.errors)
        details.update(extra)
        raise (OperationTimeout if timed_out else ClusterOpsError)(message, **details)

    def _result(
        self,
        was_cordoned: bool,
        plan: Plan,
        outcome: Optional[Outcome],
        before: Optional[dict[str, Any]],
        changed: bool,
    ) -> dict[str, Any]:
        if outcome is None:  # check mode: what a real run would do
            evicted = [pod_key(p) for p in plan.evict]
            deleted = [pod_key(p) for p in plan.delete]
            retries: dict[str, Any] = {"total": 0, "pods": {}, "pdbs": {}, "transient": 0}
        else:
            evicted, deleted, retries = outcome.evicted, outcome.deleted, outcome.retries
        result: dict[str, Any] = {
            "changed": changed,
            "node": self.options.node,
            "state": "drain",
            "unschedulable": True,
            "evicted": sorted(evicted),
            "deleted": sorted(deleted),
            "skipped_pods": plan.skipped,
            "retries": retries,
            "duration": self._elapsed(),
            "timings": self.timings,
        }
        if plan.warnings:
            result["warnings"] = plan.warnings
        if outcome is not None and outcome.not_waited:
            result["not_waited"] = outcome.not_waited
        if before is not None:
            remaining = sorted(set(before["pods"]) - set(evicted) - set(deleted))
            result["diff"] = {"before": before, "after": {"unschedulable": True, "pods": remaining}}
        return result

    def _read_node(self) -> dict[str, Any]:
        try:
            return self.api.get_node(self.options.node)
        except ApiError as exc:
            if exc.details.get("status") == 404:
                raise InvalidInput(f"node {self.options.node!r} does not exist") from exc
            raise

    def _timed(self, phase: str, action: Callable[[], Any]) -> Any:
        began = self.clock()
        try:
            return action()
        finally:
            self.timings[phase] = round(self.timings.get(phase, 0.0) + self.clock() - began, 3)

    def _elapsed(self) -> float:
        return round(self.clock() - self.start, 3)


def run(params: dict[str, Any], check_mode: bool = False, diff: bool = False) -> dict[str, Any]:
    """The module's entry point: validate, connect, act; the result (``diff`` only when asked for)."""
    options = DrainOptions.from_params(params)
    configuration = build_configuration(params)
    # Every worker and watch keeps its own connection instead of opening (and discarding) a new one per call.
    configuration.connection_pool_maxsize = options.concurrency + 8
    result = Drain(ClientNodeApi(api_client(params, configuration)), options, check_mode=check_mode).run()
    if not diff:
        result.pop("diff", None)
    return result
