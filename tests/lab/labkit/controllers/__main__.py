"""``python -m labkit.controllers --state-dir DIR [--controllers LIST]``: the simulated kube-controller-manager.

``--controllers`` is kube-controller-manager's flag: ``*`` (the default) enables every controller, a name
enables one, ``-name`` disables one; names are those of kube-controller-manager (``job-controller``, or
``job``).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from labkit import component
from labkit.controllers import (
    clusterroleaggregation,
    daemonset,
    deployment,
    disruption,
    job,
    namespace,
    nodelifecycle,
    podgc,
    replicaset,
    rootcapublisher,
    serviceaccount,
    serviceaccounttoken,
    statefulset,
    ttlafterfinished,
)
from labkit.controllers.credentials import controller_client
from labkit.controllers.garbagecollector import GarbageCollector, metadata_only
from labkit.controllers.manager import Manager
from labkit.kubeclient import ApiError, ApiResource, KubeClient, discover, path

Sync = Callable[[Manager, str], None]
EventHandler = Callable[[Manager, str, str, dict, "dict | None"], None]


@dataclass
class Controller:
    """One controller of the manager: its work queue syncs, its event handler, its periodic actions."""

    syncs: dict[str, Sync]
    on_event: EventHandler
    periodic: list[tuple[float, Callable[[Manager], None]]] = field(default_factory=list)


def from_module(name: str, module: ModuleType, **extra: Sync) -> Controller:
    return Controller({name: module.sync, **extra}, module.on_event)


# kube-controller-manager's names (since 1.27 with the -controller suffix), in its order
MODULES: dict[str, Callable[[Manager, argparse.Namespace], Controller]] = {
    "replicaset-controller": lambda mgr, args: from_module("replicaset", replicaset),
    "deployment-controller": lambda mgr, args: from_module("deployment", deployment),
    "daemonset-controller": lambda mgr, args: from_module("daemonset", daemonset),
    "statefulset-controller": lambda mgr, args: from_module("statefulset", statefulset),
    "job-controller": lambda mgr, args: from_module("job", job, **{"job-orphan": job.release_orphan}),
    "ttl-after-finished-controller": lambda mgr, args: from_module("ttlafterfinished", ttlafterfinished),
    "disruption-controller": lambda mgr, args: from_module("disruption", disruption),
    "namespace-controller": lambda mgr, args: from_module("namespace", namespace),
    "serviceaccount-controller": lambda mgr, args: service_accounts(mgr),
    "root-ca-certificate-publisher-controller": lambda mgr, args: root_ca_publisher(mgr, args.root_ca_file),
    "pod-garbage-collector-controller": lambda mgr, args: Controller(
        {"podgc": podgc.sync}, podgc.on_event, [(max(podgc.GC_PERIOD * mgr.factor, 0.5), podgc.monitor)]
    ),
    "node-lifecycle-controller": lambda mgr, args: Controller(
        {"nodelifecycle": nodelifecycle.sync},
        nodelifecycle.on_event,
        [(max(nodelifecycle.MONITOR_PERIOD * mgr.factor, 0.25), nodelifecycle.monitor)],
    ),
    "clusterrole-aggregation-controller": lambda mgr, args: cluster_role_aggregation(mgr),
    "serviceaccount-token-controller": lambda mgr, args: tokens(
        mgr, args.service_account_private_key_file, args.root_ca_file
    ),
    # last: it watches what the others do not, metadata only (the others' informers keep whole objects)
    "garbage-collector-controller": lambda mgr, args: garbage_collector(mgr),
}
# the service account each controller acts as with --use-service-account-credentials (none: the manager's own)
SERVICE_ACCOUNTS = {
    "replicaset-controller": "replicaset-controller",
    "deployment-controller": "deployment-controller",
    "daemonset-controller": "daemon-set-controller",
    "statefulset-controller": "statefulset-controller",
    "job-controller": "job-controller",
    "ttl-after-finished-controller": "ttl-after-finished-controller",
    "disruption-controller": "disruption-controller",
    "namespace-controller": "namespace-controller",
    "serviceaccount-controller": "service-account-controller",
    "root-ca-certificate-publisher-controller": "root-ca-cert-publisher",
    "pod-garbage-collector-controller": "pod-garbage-collector",
    "node-lifecycle-controller": "node-controller",
    "garbage-collector-controller": "generic-garbage-collector",
    "clusterrole-aggregation-controller": "clusterrole-aggregation-controller",
}


def cluster_role_aggregation(mgr: Manager) -> Controller:
    mgr.add_informer("clusterroles", "/apis/rbac.authorization.k8s.io/v1/clusterroles")
    return from_module("clusterroleaggregation", clusterroleaggregation)


def tokens(mgr: Manager, key_file: Path, ca_file: Path) -> Controller:
    if not key_file.exists() or not ca_file.exists():
        mgr.log.warning("serviceaccount-token-controller: no %s or %s, not populating token secrets", key_file, ca_file)
        return Controller({}, lambda *_: None)
    from labkit.apiserver.satokens import Signer

    signer, ca = Signer(str(key_file)), ca_file.read_text()
    mgr.add_informer("serviceaccounts", path("serviceaccounts"))
    mgr.add_informer(serviceaccounttoken.INFORMER, path("secrets"), fieldSelector=f"type={serviceaccounttoken.TYPE}")
    return Controller({"serviceaccounttoken": lambda m, key: serviceaccounttoken.sync(m, key, signer, ca)},
                      serviceaccounttoken.on_event)  # fmt: skip


def service_accounts(mgr: Manager) -> Controller:
    mgr.add_informer("serviceaccounts", path("serviceaccounts"))
    return from_module("serviceaccount", serviceaccount)


def root_ca_publisher(mgr: Manager, ca_file: Path) -> Controller:
    if not ca_file.exists():
        mgr.log.warning("root-ca-certificate-publisher-controller: no %s, not publishing kube-root-ca.crt", ca_file)
        return Controller({}, lambda *_: None)
    ca = ca_file.read_text()
    mgr.add_informer(
        rootcapublisher.INFORMER, path("configmaps"), fieldSelector=f"metadata.name={rootcapublisher.NAME}"
    )
    return Controller({"rootcapublisher": lambda m, key: rootcapublisher.sync(m, key, ca)}, rootcapublisher.on_event)


def garbage_collector(mgr: Manager) -> Controller:
    collector = GarbageCollector(mgr, mgr.resources)
    for resource in collector.monitored(mgr.resources):
        mgr.add_informer(resource.plural, resource.url(), metadata_only)
    return Controller(
        {"garbagecollector": collector.attempt_to_delete, "garbagecollector-orphan": collector.orphan},
        lambda _mgr, resource, kind, obj, old: collector.on_event(resource, kind, obj, old),
    )


def enabled(spec: str) -> list[str]:
    """``--controllers``: ``*``, ``name`` and ``-name`` items, the ``-controller`` suffix optional."""

    def full(name: str) -> str:
        name = name.strip()
        if name not in MODULES and f"{name}-controller" in MODULES:
            return f"{name}-controller"
        if name not in MODULES:
            raise SystemExit(f"--controllers: unknown controller {name!r}; known: {', '.join(MODULES)}")
        return name

    items = [i.strip() for i in spec.split(",") if i.strip()]
    wanted = set(MODULES) if "*" in items else {full(i) for i in items if i != "*" and not i.startswith("-")}
    wanted -= {full(i[1:]) for i in items if i.startswith("-")}
    return [name for name in MODULES if name in wanted]


def _watcher(mgr: Manager, handler: EventHandler) -> Callable[[str, str, dict, Any], None]:
    return lambda resource, kind, obj, old: handler(mgr, resource, kind, obj, old)


def discover_when_up(mgr: Manager) -> list[ApiResource]:
    """Discovery, retried while the API server is not answering (a restart of the control plane)."""
    while True:
        try:
            return discover(mgr.client)
        except (ApiError, OSError) as exc:
            mgr.log.warning("discovery: %s (retrying)", exc)
            time.sleep(0.5)


def credentials_for(mgr: Manager, account: str) -> KubeClient | None:
    while True:
        try:
            return controller_client(mgr.root, account)
        except ApiError as exc:
            if exc.status == 404:  # no TokenRequest (no signing key): the manager's own identity
                mgr.log.warning("no service account tokens (%s): %s acts as the manager", exc, account)
                return None
            mgr.log.warning("token for %s: %s (retrying)", account, exc)
        except OSError as exc:
            mgr.log.warning("token for %s: %s (retrying)", account, exc)
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--controllers", default="*", help="kube-controller-manager's --controllers")
    parser.add_argument(
        "--root-ca-file", type=Path, help="the CA published as kube-root-ca.crt (default <state>/pki/ca.crt)"
    )
    parser.add_argument(
        "--service-account-private-key-file", type=Path, help="signs legacy tokens (<state>/pki/sa.key)"
    )
    parser.add_argument(
        "--use-service-account-credentials",
        default="true",
        choices=["true", "false"],
        help="each controller as its own service account (kubeadm's setting, the default here)",
    )
    args = parser.parse_args()
    args.root_ca_file = args.root_ca_file or args.state_dir / "pki" / "ca.crt"
    pki = args.state_dir / "pki"
    args.service_account_private_key_file = args.service_account_private_key_file or pki / "sa.key"
    log = component.setup("controllers")
    mgr = Manager(component.client_for(args.state_dir, "controller-manager"), component.lab_info(args.state_dir))
    mgr.resources = discover_when_up(mgr)
    periodic = []
    names = enabled(args.controllers)
    for name in names:
        controller = MODULES[name](mgr, args)
        mgr.syncs.update(controller.syncs)
        account = SERVICE_ACCOUNTS.get(name)
        if args.use_service_account_credentials == "true" and account and controller.syncs:
            client = credentials_for(mgr, account)
            mgr.clients.update({sync: client for sync in controller.syncs} if client else {})
        mgr.watchers.append(_watcher(mgr, controller.on_event))
        periodic += controller.periodic
    log.info("controllers: %s", ", ".join(names))
    mgr.run(periodic=periodic)


if __name__ == "__main__":
    main()
