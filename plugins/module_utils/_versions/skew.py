# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes version skew policy as data, one engine that judges a cluster against it, and the upgrade path.

The policy (https://kubernetes.io/releases/version-skew-policy/, summarised in docs/version_skew.md) is the
table ``SKEW_POLICY``.
A cluster is judged now and as it would stand during each planned hop: the control plane (apiservers,
controller-managers, schedulers, kubeadm and the kube-proxy DaemonSet, which ``kubeadm upgrade apply`` moves
too) at the hop version, kubelets and kubectl where the previous hop left them (the current version for the
first hop). So a kubelet that the first hop would leave too far behind is an error before anything is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ClusterOpsError, InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions import support as support_module
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.support import (
    DEFAULT_REPO_BASE_URL,
    check_base_url,
    check_timeout,
)
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import Version

ERROR = "error"
WARNING = "warning"

# The longest upgrade path planned at once. Kubernetes releases three minors a year and patches the newest three,
# so twelve hops is four years of releases: a cluster further behind has been unpatched for three years and is
# better upgraded in stages, and a target further ahead is a typo ("1.330", "1.9999"). The path is never built
# longer than this, whatever the input.
MAX_HOPS = 12

CONTROL_PLANE = ("kube_apiserver", "kube_controller_manager", "kube_scheduler")  # lists, one item an instance
PER_NODE = ("kubelet", "kube_proxy")  # dicts node name -> version
SINGLE = ("kubectl", "kubeadm")  # one version each
COMPONENTS = CONTROL_PLANE + PER_NODE + SINGLE

APISERVERS = "kube-apiserver"  # measured against every apiserver instance: not newer than the oldest, ...
NODE_KUBELET = "kubelet"  # ... or against the kubelet on the same node
LEGACY_BEFORE = Version(1, 25, 0)  # components older than this have tighter limits


@dataclass(frozen=True)
class Rule:
    """One row of the skew policy: how far ``component`` may be from what it is measured ``against``."""

    name: str
    component: str
    against: str
    max_older: int  # minors behind the newest reference
    max_newer: Optional[int]  # minors ahead of the oldest reference; None: no limit
    legacy_max: Optional[int] = None  # for a component older than 1.25, neither limit exceeds this
    severity: str = ERROR


SKEW_POLICY: tuple[Rule, ...] = (
    Rule("apiserver_ha_skew", "kube_apiserver", APISERVERS, max_older=1, max_newer=None),
    Rule("controller_manager_skew", "kube_controller_manager", APISERVERS, max_older=1, max_newer=0),
    Rule("scheduler_skew", "kube_scheduler", APISERVERS, max_older=1, max_newer=0),
    Rule("kubelet_skew", "kubelet", APISERVERS, max_older=3, max_newer=0, legacy_max=2),
    Rule("kube_proxy_skew", "kube_proxy", APISERVERS, max_older=3, max_newer=0, legacy_max=2),
    Rule("kube_proxy_kubelet_skew", "kube_proxy", NODE_KUBELET, max_older=3, max_newer=3, legacy_max=2),
    Rule("kubectl_skew", "kubectl", APISERVERS, max_older=1, max_newer=1, severity=WARNING),
    # kubeadm manages a control plane of its own minor or one older (kubeadm's own skew policy).
    Rule("kubeadm_skew", "kubeadm", APISERVERS, max_older=0, max_newer=1, severity=WARNING),
)

# A cluster's versions: component -> [(node or None, version)], every component present.
State = dict[str, list[tuple[Optional[str], Version]]]


class SkewViolation(ClusterOpsError):
    """The cluster (or the planned upgrade) breaks the skew policy; details hold the whole result."""


def label(component: str) -> str:
    return component.replace("_", "-")


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# -- input ---------------------------------------------------------------------------------------------------


def read_versions(versions: dict[str, Any]) -> State:
    """Parse the ``versions`` option (or the cluster's versions) into a State; bad input names the value."""
    if not isinstance(versions, dict):
        raise InvalidInput(f"versions {versions!r} is not a dict of component -> versions")
    unknown = sorted(set(versions) - set(COMPONENTS))
    if unknown:
        raise InvalidInput(f"versions: unknown key {unknown[0]!r} (known keys: {', '.join(COMPONENTS)})")
    state: State = {}
    for key in COMPONENTS:
        value = versions.get(key)
        if key in CONTROL_PLANE:
            value = [value] if isinstance(value, str) else (value or [])
            if not isinstance(value, list):
                raise InvalidInput(f"versions.{key} {value!r} is not a list of versions")
            state[key] = [(None, Version.parse(v, f"versions.{key}[{i}]")) for i, v in enumerate(value)]
        elif key in PER_NODE:
            value = value or {}
            if not isinstance(value, dict):
                raise InvalidInput(f"versions.{key} {value!r} is not a dict of node name -> version")
            state[key] = [(str(node), Version.parse(v, f"versions.{key}.{node}")) for node, v in value.items()]
        else:
            state[key] = [(None, Version.parse(value, f"versions.{key}"))] if value else []
    if not state["kube_apiserver"]:
        raise InvalidInput("versions.kube_apiserver is empty: the skew policy is measured against the apiservers")
    return state


def versions_of(state: State, component: str) -> list[Version]:
    return [version for _node, version in state[component]]


def as_dict(state: State) -> dict[str, Any]:
    """The State in the shape of the ``versions`` option, canonical version strings."""
    out: dict[str, Any] = {}
    for key in COMPONENTS:
        if key in CONTROL_PLANE:
            out[key] = [str(v) for v in versions_of(state, key)]
        elif key in PER_NODE:
            out[key] = {node: str(v) for node, v in state[key]}
        else:
            out[key] = str(state[key][0][1]) if state[key] else None
    return out


def cluster_version(state: State) -> Version:
    """The cluster's current version: its oldest apiserver."""
    return min(versions_of(state, "kube_apiserver"))


# -- the engine ----------------------------------------------------------------------------------------------


def violation(
    rule: str, component: str, node: Optional[str], version: Version, message: str, severity: str, hop: Any
) -> dict[str, Any]:
    return {
        "component": component,
        "node": node,
        "version": str(version),
        "rule": rule,
        "message": message,
        "severity": severity,
        "hop": str(hop) if hop is not None else None,
    }


def judge(state: State, hop: Optional[Version] = None, when: str = "") -> list[dict[str, Any]]:
    """Every violation of ``SKEW_POLICY`` in ``state``; ``when`` prefixes messages about a planned hop."""
    apiservers = versions_of(state, "kube_apiserver")
    kubelets = dict(state["kubelet"])
    found = []
    for rule in SKEW_POLICY:
        for node, version in state[rule.component]:
            if rule.against == APISERVERS:
                oldest, newest = min(apiservers), max(apiservers)
            else:
                kubelet = kubelets.get(node)
                if kubelet is None:
                    continue
                oldest = newest = kubelet
            max_older, max_newer = rule.max_older, rule.max_newer
            legacy_max = rule.legacy_max if version < LEGACY_BEFORE else None
            if legacy_max is not None:
                max_older = min(max_older, legacy_max)
                max_newer = None if max_newer is None else min(max_newer, legacy_max)
            where = f" on node {node}" if node else ""
            subject = f"{when}{label(rule.component)} {version}{where}"
            note = " for versions older than 1.25" if legacy_max is not None else ""
            behind = newest.minors_newer_than(version)
            if behind > max_older:
                found.append(
                    violation(
                        rule.name,
                        rule.component,
                        node,
                        version,
                        f"{subject} is {plural(behind, 'minor')} older than {rule.against} {newest} "
                        f"(the policy allows {max_older}{note})",
                        rule.severity,
                        hop,
                    )
                )
            ahead = version.minors_newer_than(oldest)
            if max_newer is not None and ahead > max_newer:
                allowed = f"{max_newer}{note}" if max_newer else "none"
                found.append(
                    violation(
                        rule.name,
                        rule.component,
                        node,
                        version,
                        f"{subject} is {plural(ahead, 'minor')} newer than {rule.against} {oldest} "
                        f"(the policy allows {allowed})",
                        rule.severity,
                        hop,
                    )
                )
    return found


# -- the upgrade path ----------------------------------------------------------------------------------------


def newest_release(available: list[Version], major: int, minor: int) -> Optional[Version]:
    releases = [v for v in available if v.is_release and (v.major, v.minor) == (major, minor)]
    return max(releases) if releases else None


def resolve_target(target: Version, running: Version, available: Optional[list[Version]]) -> Version:
    """A minor line (``1.33``) becomes its newest available release or ``v1.33.0``; when the control plane
    already runs that minor, never less than ``running`` (its newest version): "be on 1.33" is no downgrade.
    """
    if target.patch is not None:
        return target
    newest = newest_release(available or [], target.major, target.minor) or target.release_of_minor(0)
    return max(newest, running) if running.same_minor(target) else newest


def upgrade_path(
    current: Version,
    target: Version,
    available: Optional[list[Version]] = None,
    running: tuple[Version, ...] = (),
) -> list[Version]:
    """One hop a minor from ``current`` to ``target``: each intermediate hop to the newest available patch of its
    minor (``vX.Y.0`` when no list of available versions is given), the last hop to ``target``.

    ``running`` (the control plane's versions) keeps an intermediate hop from going below an instance that
    already runs that minor (an HA control plane half way through an upgrade).
    """
    if target.major != current.major:
        raise InvalidInput(f"target_version {target} is not of major {current.major}: the path has no hops across")
    if target <= current:
        return []
    if target.minor - current.minor > MAX_HOPS:
        raise InvalidInput(too_far(target, current))
    hops = []
    for minor in range(current.minor + 1, target.minor):
        candidates = [newest_release(available or [], current.major, minor) or Version(current.major, minor, 0)]
        candidates += [v for v in running if v.is_release and (v.major, v.minor) == (current.major, minor)]
        hops.append(max(candidates))
    return [*hops, target]


def too_far(target: Version, current: Version) -> str:
    return (
        f"target_version {target.raw!r} is {target.minor - current.minor} minors ahead of the cluster's {current}: "
        f"at most {MAX_HOPS} hops are planned at once (upgrade in stages, or check the value)"
    )


def check_target_bounds(target: Version, current: Version, newest: Optional[Version] = None) -> None:
    """Refuse, naming the value, a target beyond the newest released minor (when known) or more than ``MAX_HOPS``
    minors ahead of ``current``; cheap, so it runs before anything is probed or planned."""
    if target.major != current.major:
        raise InvalidInput(
            f"target_version {target.raw!r} is not of major {current.major}: the path has no hops across"
        )
    if newest is not None and (target.major, target.minor) > (newest.major, newest.minor):
        raise InvalidInput(
            f"target_version {target.raw!r} is beyond the newest released minor v{newest.major}.{newest.minor}: "
            "no such release exists yet"
        )
    if target.minor - current.minor > MAX_HOPS:
        raise InvalidInput(too_far(target, current))


@dataclass(frozen=True)
class Plan:
    """The upgrade path of a cluster: where it is, where it goes, and the hops."""

    state: State
    current: Version  # the cluster's version: its oldest apiserver
    control_plane: Version  # the newest control-plane component
    target: Optional[Version]  # resolved to a release; None without a target
    hops: tuple[Version, ...]
    downgrade: bool  # the target is older than the control plane: no hops


def parse_available(available_versions: Optional[list[Any]]) -> Optional[list[Version]]:
    if available_versions is None:
        return None
    if not isinstance(available_versions, list):
        raise InvalidInput(f"available_versions {available_versions!r} is not a list of versions")
    return [Version.parse(v, f"available_versions[{i}]") for i, v in enumerate(available_versions)]


def plan(
    versions: dict[str, Any],
    target_version: Any = None,
    available_versions: Optional[list[Any]] = None,
    newest: Optional[Version] = None,
) -> Plan:
    """The upgrade path from ``versions`` to ``target_version``: the one engine both version_skew and api_removals
    use. Bad values, a target beyond ``newest`` or more than ``MAX_HOPS`` minors ahead raise InvalidInput."""
    state = read_versions(versions)
    current = cluster_version(state)
    available = parse_available(available_versions)
    control_plane = max(v for key in CONTROL_PLANE for v in versions_of(state, key))
    if target_version is None:
        return Plan(state, current, control_plane, None, (), False)
    requested = Version.parse(target_version, "target_version")
    check_target_bounds(requested, current, newest)
    target = resolve_target(requested, control_plane, available)
    if target < control_plane:
        return Plan(state, current, control_plane, target, (), True)
    running = tuple(v for key in CONTROL_PLANE for v in versions_of(state, key))
    return Plan(state, current, control_plane, target, tuple(upgrade_path(current, target, available, running)), False)


def hop_state(state: State, hop: Version, previous: Optional[Version]) -> State:
    """The cluster during ``hop``: control plane moved, nodes where the previous hop left them."""
    after = dict(state)
    for key in (*CONTROL_PLANE, "kube_proxy", "kubeadm"):
        after[key] = [(node, hop) for node, _version in state[key]]
    if previous is not None:  # the previous hop upgraded every node (never down)
        for key in ("kubelet", "kubectl"):
            after[key] = [(node, max(v, previous)) for node, v in state[key]]
    return after


def check(
    versions: dict[str, Any],
    target_version: Any = None,
    available_versions: Optional[list[Any]] = None,
    newest: Optional[Version] = None,
    support: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """Judge ``versions`` now and during each hop towards ``target_version``; the module's result.

    ``newest`` (the newest released minor, when known) bounds the target; ``support`` is returned as is.
    """
    planned = plan(versions, target_version, available_versions, newest)
    state, current, control_plane, target = planned.state, planned.current, planned.control_plane, planned.target
    available = parse_available(available_versions)
    violations = judge(state)
    hops = list(planned.hops)
    checked_hops = []
    if planned.downgrade and target is not None:
        violations.append(
            violation(
                "no_downgrade",
                "kube_apiserver",
                None,
                control_plane,
                f"target_version {target} is older than the control plane's {control_plane}: "
                "downgrades are not supported",
                ERROR,
                target,
            )
        )
    previous = None
    for number, hop in enumerate(hops, 1):
        when = f"during hop {number} of {len(hops)} (control plane at {hop}): "
        found = judge(hop_state(state, hop, previous), hop, when)
        if available is not None and hop not in available:
            found.append(
                violation(
                    "hop_available",
                    "kube_apiserver",
                    None,
                    hop,
                    f"{when}{hop} is not among available_versions"
                    + ("" if hop is target else f" (no release of {hop.minor_line} is)"),
                    ERROR,
                    hop,
                )
            )
        errors = sum(v["severity"] == ERROR for v in found)
        checked_hops.append({"version": str(hop), "ok": not errors, "errors": errors})
        # A problem already reported (a kubelet too old now) is not repeated for every later hop.
        seen = {(v["rule"], v["component"], v["node"]) for v in violations}
        violations.extend(v for v in found if (v["rule"], v["component"], v["node"]) not in seen)
        previous = hop
    return {
        "changed": False,
        "current": as_dict(state),
        "cluster_version": str(current),
        "target_version": str(target) if target is not None else None,
        "upgrade_path": [str(hop) for hop in hops],
        "checked_hops": checked_hops,
        "violations": violations,
        "ok": not any(v["severity"] == ERROR for v in violations),
        "support": support,
    }


def summary(result: dict[str, Any], shown: int = 3) -> str:
    """One line naming the errors of a result (the first ``shown`` of them)."""
    errors = [v["message"] for v in result["violations"] if v["severity"] == ERROR]
    line = f"version skew: {plural(len(errors), 'error')}: " + "; ".join(errors[:shown])
    if len(errors) > shown:
        line += f"; and {len(errors) - shown} more (see violations)"
    return line


def enforce(result: dict[str, Any], fail_on_violation: bool = True) -> dict[str, Any]:
    """The result, or ``SkewViolation`` (one line, the result in its details) when an error must fail the task."""
    if fail_on_violation and not result["ok"]:
        details = {k: v for k, v in result.items() if k != "changed"}
        raise SkewViolation(summary(result), **details)
    return result


# -- the module's entry point --------------------------------------------------------------------------------


def validate(params: dict[str, Any]) -> dict[str, Any]:
    """Every option of version_skew checked before anything is read or probed; InvalidInput names the first bad
    one. Returns the parsed values (``target``, ``available``, ``newest``, ``repo_base_url``, ``probe_timeout``)."""
    if params.get("versions") is not None:
        read_versions(params["versions"])
    target = params.get("target_version")
    newest = params.get("newest_minor")
    return {
        "target": Version.parse(target, "target_version") if target is not None else None,
        "available": parse_available(params.get("available_versions")),
        "newest": Version.parse(newest, "newest_minor") if newest is not None else None,
        "repo_base_url": check_base_url(params.get("repo_base_url") or DEFAULT_REPO_BASE_URL),
        "probe_timeout": check_timeout(params["probe_timeout"] if params.get("probe_timeout") is not None else 10),
    }


def run(
    params: dict[str, Any],
    read_cluster: Callable[[], dict[str, Any]],
    opener: Optional[Callable[[str, float], int]] = None,
) -> dict[str, Any]:
    """version_skew's logic: validate every option, read the versions (``read_cluster`` without ``versions``),
    bound the target, find the newest minor (``newest_minor``, or the repository probe when asked), judge."""
    options = validate(params)
    versions = params["versions"] if params.get("versions") is not None else read_cluster()
    current = cluster_version(read_versions(versions))
    target, newest = options["target"], options["newest"]
    if target is not None:
        check_target_bounds(target, current, newest)  # before any probe: a typo costs no request
    window = None
    if newest is not None:
        window = support_module.support_window(current, newest, "newest_minor", target)
    elif params.get("probe_newest_minor"):
        newest, probes = support_module.probe_newest_minor(
            options["repo_base_url"], current, options["probe_timeout"], opener or support_module.http_status
        )
        window = support_module.support_window(current, newest, "probe", target, probes)
    result = check(versions, params.get("target_version"), params.get("available_versions"), newest, window)
    return enforce(result, params.get("fail_on_violation", True))
