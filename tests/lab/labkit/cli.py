"""labctl's command line (the executable ``tests/lab/labctl`` only picks the interpreter)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from labkit.kubeclient import ApiError
from labkit.lab import LAB_ROOT, Lab, LabError

DEFAULT_STATE_DIR = LAB_ROOT.parents[1] / ".lab"


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="labctl", description="Drive the lab: a simulated kubeadm cluster.")
    main.add_argument("--state-dir", type=Path, default=None, help=f"lab state (default {DEFAULT_STATE_DIR})")
    sub = main.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS)
        return cmd

    up = command("up", "start etcd, the API server, controllers, scheduler and the kubelets")
    up.add_argument("--mode", choices=["host", "nodes"], default="host")
    up.add_argument("--nodes", type=int, default=3, help="node count; node 1 is the control plane cp-1")
    up.add_argument("--version", default="1.35.2", help="Kubernetes version the components report")
    up.add_argument("--pod-ready-delay", type=float, default=1.0, help="seconds from bound to Running+Ready")
    up.add_argument("--time-factor", type=float, default=0.05, help="scale of grace periods and heartbeats")
    up.add_argument("--timeout", type=float, default=60.0)
    seed = command("seed", "create a workload profile")
    seed.add_argument("--profile", required=True, choices=["base", "apps", "scale", "legacy-apis"])
    seed.add_argument("--timeout", type=float, default=120.0, help="how long to wait for the pods to be Ready")
    seed.add_argument("--nodes", type=int, default=5000, help="scale profile: node count")
    seed.add_argument("--pods", type=int, default=50000, help="scale profile: pod count")
    status = command("status", "components, pids and node readiness")
    status.add_argument("--json", action="store_true")
    command("down", "stop everything the lab started")
    stop = command("stop", "stop components")
    stop.add_argument("components", nargs="+")
    start = command("start", "start components again")
    start.add_argument("components", nargs="+")
    start.add_argument("--etcd-data-dir", type=Path, help="start etcd on this data dir (a restored snapshot)")
    start.add_argument("--kubelet-version", help="the version these kubelets report from now on (e.g. 1.34.3)")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    lab = Lab(args.state_dir or DEFAULT_STATE_DIR)
    try:
        return run(lab, args)
    except (LabError, ApiError, OSError, TimeoutError) as exc:
        print(f"labctl {args.command}: {exc}", file=sys.stderr)
        return 1


def run(lab: Lab, args: argparse.Namespace) -> int:
    if args.command == "up":
        if args.mode != "host":
            raise LabError("--mode nodes (node containers) is not available yet; use --mode host")
        try:
            info = lab.up(args.nodes, args.version, args.pod_ready_delay, args.time_factor, timeout=args.timeout)
        except BaseException:
            lab.down()
            raise
        print(f"lab up in {info['up_seconds']}s: {len(info['nodes'])} nodes Ready, API server {info['apiserver_url']}")
        print(f"export KUBECONFIG={lab.kubeconfig}")
    elif args.command == "seed":
        from labkit import seed

        started = time.monotonic()
        summary = seed.run(lab, args.profile, timeout=args.timeout, nodes=args.nodes, pods=args.pods)
        print(f"seeded {args.profile} in {time.monotonic() - started:.1f}s: {summary}")
    elif args.command == "status":
        status = lab.status()
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            print(f"state dir {status['state_dir']}, API server {status['apiserver_url']}")
            for name, comp in status["components"].items():
                print(f"  {name:<24} {'running pid ' + str(comp['pid']) if comp['running'] else 'stopped'}")
            fleet = [node for node in status["nodes"].values() if node["fleet"]]
            for name, node in status["nodes"].items():
                if not node["fleet"]:
                    cordoned = ", SchedulingDisabled" if node["unschedulable"] else ""
                    print(f"  node {name:<19} Ready={node['ready']}{cordoned} {node['version']}")
            if fleet:
                ready = sum(1 for node in fleet if node["ready"] == "True")
                print(f"  fleet nodes (kubelet-fleet): {len(fleet)}, {ready} Ready")
            if status.get("error"):
                print(f"  API server unreachable: {status['error']}")
        return 0 if all(c["running"] for c in status["components"].values()) else 3
    elif args.command == "down":
        stopped = lab.down()
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    elif args.command == "stop":
        for name in args.components:
            lab.argv(name, lab.info)  # validates the name
            print(f"{name}: {'stopped' if lab.stop(name) else 'was not running'}")
    elif args.command == "start":
        info = lab.info
        if args.etcd_data_dir:
            info["etcd_data_dir"] = str(args.etcd_data_dir.resolve())
        if args.kubelet_version:
            for name in args.components:
                if not name.startswith("kubelet-") or name == "kubelet-fleet":
                    raise LabError(f"--kubelet-version applies to kubelet-<node> components, not {name}")
                info.setdefault("kubelet_versions", {})[name[len("kubelet-") :]] = args.kubelet_version.lstrip("v")
        lab.save(info)
        for name in args.components:
            if lab.sup.pid(name):
                print(f"{name}: already running (pid {lab.sup.pid(name)})")
                continue
            since = time.time()
            print(f"{name}: started pid {lab.start(name, info)}")
            if name == "apiserver":
                lab.wait_apiserver(time.monotonic() + 30)
            elif name.startswith("kubelet-") and name != "kubelet-fleet" and lab.sup.pid("apiserver"):
                node = name[len("kubelet-") :]
                version = info.get("kubelet_versions", {}).get(node) or info["version"]
                lab.wait_registered(node, version, since, time.monotonic() + 30)
    return 0
