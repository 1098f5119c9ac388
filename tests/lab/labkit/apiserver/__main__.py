"""`python3 -m labkit.apiserver --config FILE.json`: run the simulated kube-apiserver until SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time

from ..etcd import EtcdClient
from . import startup
from .server import App, Server, ssl_context
from .store import Store

log = logging.getLogger("apiserver")


def _setup_logging(config: dict) -> None:
    handler: logging.Handler = (
        logging.FileHandler(config["log_file"]) if config.get("log_file") else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    if not config.get("access_log", False):
        logging.getLogger("apiserver.access").setLevel(logging.WARNING)


def _connect_etcd(config: dict) -> EtcdClient:
    endpoints = config["etcd_endpoints"]
    client = EtcdClient(endpoints, config["etcd_cacert"], config["etcd_cert"], config["etcd_key"], pool_size=64)
    deadline = time.monotonic() + float(config.get("etcd_wait_seconds", 30))
    while True:
        try:
            client.status()
            return client
        except Exception as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"apiserver: etcd at {endpoints} does not answer: {exc}") from None
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit.apiserver", description=__doc__)
    parser.add_argument("--config", required=True, help="JSON settings file (see labkit/README.md)")
    args = parser.parse_args(argv)
    with open(args.config) as fh:
        config = json.load(fh)
    _setup_logging(config)
    started = time.monotonic()
    # bound first: the port labctl picked is ours from now on (loading etcd and writing the bootstrap
    # policy take a while, and other labs on the machine pick ports too); connections wait in the backlog
    server = Server((config.get("bind_address", "127.0.0.1"), int(config["port"])), ssl_context(config))
    etcd = _connect_etcd(config)
    store = Store(
        etcd,
        history_size=int(config.get("watch_cache_size", 10000)),
        continue_ttl=float(config.get("continue_ttl_seconds", 300)),
    )
    store.load()
    store.healthy = True
    threading.Thread(target=store.follow, name="etcd-watch", daemon=True).start()
    app = App(config, store)
    startup.ensure_namespaces(app.registry)
    startup.ensure_kubernetes_service(app.registry, config.get("advertise_address", "127.0.0.1"), int(config["port"]))
    if app.authorizer.rbac is not None:
        startup.ensure(app.registry)
    server.attach(app)
    count = sum(len(c.items) for c in store.caches.values())
    log.info("serving on https://%s:%s (%d objects, revision %d) after %.2fs", *server.server_address, count,
             store.rv, time.monotonic() - started)  # fmt: skip

    def stop(signum, _frame):
        log.info("signal %s: stopping", signum)
        app.stopping.set()
        store.stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        etcd.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
