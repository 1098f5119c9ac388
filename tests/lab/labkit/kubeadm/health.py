"""kubeadm's cluster health checks before an upgrade (phases/upgrade/health.go): CreateJob,
ControlPlaneNodesReady and StaticPodManifest, reported like preflight checks (``--ignore-preflight-errors``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from labkit import component
from labkit.kubeadm.constants import CONTROL_PLANE_LABEL, CREATE_JOB_TIMEOUT, MANIFESTS_DIR, STATIC_PODS
from labkit.kubeadm.output import KubeadmError, Printer
from labkit.kubeadm_defaults import PAUSE
from labkit.kubeclient import ApiError, KubeClient, path

IGNORE_HINT = (
    "[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`"
)


def health_check_job(name: str) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "kube-system"},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": int(CREATE_JOB_TIMEOUT) + 5,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": {"runAsUser": 999, "runAsGroup": 999, "runAsNonRoot": True},
                    "tolerations": [{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}],
                    "containers": [{"name": name, "image": PAUSE, "args": ["-v"]}],
                }
            },
        },
    }


def create_job(client: KubeClient, printer: Printer) -> str | None:
    """Run a Job on a schedulable node and wait for its Complete condition (skipped without schedulable nodes)."""
    schedulable = client.get(path("nodes"), fieldSelector="spec.unschedulable=false", limit=1).get("items", [])
    if not schedulable:
        printer.klog("W", "health.go:135", 'The preflight check "CreateJob" was skipped because there are no '
                                           "schedulable Nodes in the cluster.")  # fmt: skip
        return None
    name = f"upgrade-health-check-{int(time.time() * 1000)}"
    try:
        client.create(path("jobs", "kube-system"), health_check_job(name))
    except (ApiError, OSError) as exc:
        message = exc.body.get("message") if isinstance(exc, ApiError) and exc.body else str(exc)
        return f'could not create Job "{name}" in the namespace "kube-system": {message}'
    deadline = time.monotonic() + CREATE_JOB_TIMEOUT
    while time.monotonic() < deadline:
        try:
            job = client.get(path("jobs", "kube-system", name))
            if (component.condition(job, "Complete") or {}).get("status") == "True":
                return None
        except (ApiError, OSError):
            pass
        time.sleep(0.5)
    return (
        f'Job "{name}" in the namespace "kube-system" did not complete in {CREATE_JOB_TIMEOUT:.0f}s: '
        "no condition of type Complete"
    )


def control_plane_nodes_ready(client: KubeClient, _printer: Printer) -> str | None:
    nodes = client.get(path("nodes"), labelSelector=CONTROL_PLANE_LABEL).get("items", [])
    not_ready = [n["metadata"]["name"] for n in nodes if not component.is_node_ready(n)]
    if not_ready:
        return f"there are NotReady control-planes in the cluster: [{' '.join(not_ready)}]"
    return None


def static_pod_manifest(_client: KubeClient, _printer: Printer) -> str | None:
    missing = [
        str(MANIFESTS_DIR / f"{name}.yaml") for name in STATIC_PODS if not (MANIFESTS_DIR / f"{name}.yaml").exists()
    ]
    if missing:
        return (
            "The control plane seems to be Static Pod-hosted, but some of the manifests don't seem to exist on disk. "
            "This probably means you're running 'kubeadm upgrade' on a remote machine, which is not supported for a "
            f"Static Pod-hosted cluster. Manifest files not found: [{' '.join(missing)}]"
        )
    return None


CHECKS: list[tuple[str, Callable[[KubeClient, Printer], str | None]]] = [
    ("CreateJob", create_job),
    ("ControlPlaneNodesReady", control_plane_nodes_ready),
    ("StaticPodManifest", static_pod_manifest),
]


def ignored(names: list[str]) -> set[str]:
    flat = {n.strip().lower() for item in names for n in item.split(",") if n.strip()}
    return {"all"} if "all" in flat else flat


def run(client: KubeClient, printer: Printer, ignore: list[str], phase: str | None, wrap: str = "",
        dry_run: bool = False) -> None:  # fmt: skip
    """Run the checks; print ignored failures as warnings, raise the others as kubeadm's preflight error.
    A dry run creates no Job."""
    skip = ignored(ignore)
    errors = []
    for name, check in CHECKS:
        if dry_run and name == "CreateJob":
            continue
        try:
            problem = check(client, printer)
        except (ApiError, OSError) as exc:
            problem = str(exc)
        if problem is None:
            continue
        if "all" in skip or name.lower() in skip:
            printer.line(f"\t[WARNING {name}]: {problem}")
        else:
            errors.append(f"\t[ERROR {name}]: {problem}\n")
    if errors:
        raise KubeadmError(f"{wrap}[preflight] Some fatal errors occurred:\n{''.join(errors)}{IGNORE_HINT}", phase)
