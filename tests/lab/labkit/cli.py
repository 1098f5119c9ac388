"""labctl's command line (the executable ``tests/lab/labctl`` only picks the interpreter)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from labkit.kubeclient import ApiError
from labkit.lab import LAB_ROOT, Lab, LabError
from labkit.nodes import ssh
from labkit.nodes.lab_nodes import NodesLab

DEFAULT_STATE_DIR = LAB_ROOT.parents[1] / ".lab"


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="labctl", description="Drive the lab: a simulated kubeadm cluster.")
    main.add_argument("--state-dir", type=Path, default=None, help=f"lab state (default {DEFAULT_STATE_DIR})")
    sub = main.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--state-dir", type=Path, default=argparse.SUPPRESS)
        return cmd

    up = command("up", "start the lab: components on loopback (host) or node containers (nodes)")
    up.add_argument("--mode", choices=["host", "nodes"], default="host")
    up.add_argument(
        "--nodes", type=int, default=None, help="host mode: node count (3); node 1 is the control plane cp-1"
    )
    up.add_argument("--control-planes", type=int, default=1, help="nodes mode: control planes cp-1..")
    up.add_argument("--workers", type=int, default=2, help="nodes mode: workers worker-1..")
    up.add_argument("--version", default="1.35.2", help="Kubernetes version of the cluster")
    up.add_argument(
        "--node-version",
        action="append",
        default=[],
        metavar="NAME=VERSION",
        help="nodes mode: this node's packages (and static pods) at another version",
    )
    up.add_argument(
        "--legacy-repo",
        action="store_true",
        help="nodes mode: the nodes' packages from the legacy apt.kubernetes.io repository",
    )
    up.add_argument("--pod-ready-delay", type=float, default=1.0, help="seconds from bound to Running+Ready")
    up.add_argument("--time-factor", type=float, default=0.05, help="scale of grace periods and heartbeats")
    up.add_argument("--timeout", type=float, default=None, help="seconds (default 60 in host mode, 600 in nodes)")
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
    remote = command("ssh", "nodes mode: a shell or a command on a node, over SSH as Ansible reaches it")
    remote.add_argument("node")
    remote.add_argument(
        "remote_command", nargs="*", metavar="COMMAND", help="after --, e.g. -- systemctl status kubelet"
    )
    return main


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    remote: list[str] = []
    if "ssh" in argv and "--" in argv:  # `labctl ssh NODE [--state-dir DIR] -- COMMAND...`
        cut = argv.index("--")
        argv, remote = argv[:cut], argv[cut + 1 :]
    args = parser().parse_args(argv)
    if args.command == "status":  # `labctl status | head` ends quietly (elsewhere a closed socket must not kill us)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if args.command == "ssh":
        args.remote_command = [*args.remote_command, *remote]
    state_dir = args.state_dir or DEFAULT_STATE_DIR
    try:
        return run(lab_for(state_dir, args), args)
    except (LabError, ApiError, OSError, TimeoutError, RuntimeError) as exc:
        print(f"labctl {args.command}: {exc}", file=sys.stderr)
        return 1


def lab_for(state_dir: Path, args: argparse.Namespace) -> Lab:
    """The lab kind in ``state_dir``: ``up`` says it with --mode, other commands read lab.json."""
    mode = args.mode if args.command == "up" else "host"
    if args.command != "up" and (state_dir / "lab.json").exists():
        mode = json.loads((state_dir / "lab.json").read_text()).get("mode", "host")
    if mode == "nodes":
        return NodesLab(state_dir)
    return Lab(state_dir)


def parse_node_versions(items: list[str]) -> dict[str, str]:
    versions = {}
    for item in items:
        name, sep, version = item.partition("=")
        if not sep or not name or not version:
            raise LabError(f"--node-version {item!r}: expected NAME=VERSION, e.g. worker-1=1.34.3")
        versions[name] = version
    return versions


def say(text: str) -> None:
    """Print, quietly giving up when the reader went away (`labctl up ... | head -1`): the lab is up all the same."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the interpreter flushes stdout at exit)


def up(lab: Lab, args: argparse.Namespace) -> None:
    if args.mode == "nodes":
        assert isinstance(lab, NodesLab)
        if args.nodes is not None:
            raise LabError(
                f"--nodes {args.nodes} is a host-mode option: --mode nodes takes --control-planes and --workers"
            )
        node_versions = parse_node_versions(args.node_version)
        try:
            info = lab.up_nodes(args.control_planes, args.workers, args.version, node_versions, args.legacy_repo,
                                args.pod_ready_delay, args.time_factor, timeout=args.timeout or 600)  # fmt: skip
        except BaseException:
            lab.down()
            raise
        say(f"lab up in {info['up_seconds']}s: {len(info['nodes'])} nodes Ready, API server {info['apiserver_url']}")
        say(f"inventory: {lab.state_dir / 'hosts.yml'}")
        say(f"kubeconfig: {lab.kubeconfig}")
        say(f"export KUBECONFIG={lab.kubeconfig}")
        return
    if args.node_version or args.legacy_repo:
        raise LabError("--node-version and --legacy-repo need --mode nodes")
    try:
        info = lab.up(
            3 if args.nodes is None else args.nodes,
            args.version,
            args.pod_ready_delay,
            args.time_factor,
            timeout=args.timeout or 60,
        )
    except BaseException:
        lab.down()
        raise
    print(f"lab up in {info['up_seconds']}s: {len(info['nodes'])} nodes Ready, API server {info['apiserver_url']}")
    print(f"export KUBECONFIG={lab.kubeconfig}")


def run_nodes(lab: NodesLab, args: argparse.Namespace) -> int:
    """stop, start, ssh and seed in nodes mode."""
    info = lab.info
    if args.command == "ssh":
        node = lab.node(info, args.node)
        return subprocess.call(ssh.ssh_argv(lab.ssh_key, node.ip, args.remote_command or None))
    if args.command == "seed":
        from labkit import seed

        if args.profile == "scale":
            raise LabError("seed --profile scale needs --mode host (its fleet nodes have no node containers)")
        if args.profile == "base":
            print("base: kubeadm's kube-system objects were created by `up` (nothing to seed)")
            return 0
        started = time.monotonic()
        summary = seed.run(lab, args.profile, timeout=args.timeout)
        print(f"seeded {args.profile} in {time.monotonic() - started:.1f}s: {summary}")
        return 0
    if args.command == "start" and (args.etcd_data_dir or args.kubelet_version):
        raise LabError("--etcd-data-dir and --kubelet-version are host-mode options (in nodes mode the packages "
                       "and manifests decide)")  # fmt: skip
    for name in args.components:
        kubelet_of = name[len("kubelet-") :] if name.startswith("kubelet-") else None
        if kubelet_of is not None:
            lab.node(info, kubelet_of)
        else:
            lab.argv(name, info)  # validates the name
        if args.command == "stop":
            if kubelet_of is not None:
                lab.kubelet(kubelet_of, "stop")
                print(f"{name}: stopped")
            else:
                print(f"{name}: {'stopped' if lab.stop(name) else 'was not running'}")
            continue
        since = time.time()
        if kubelet_of is not None:
            lab.kubelet(kubelet_of, "start")
            print(f"{name}: started")
        elif lab.sup.pid(name):
            print(f"{name}: already running (pid {lab.sup.pid(name)})")
            continue
        else:
            print(f"{name}: started pid {lab.start(name, info)}")
        restarted = kubelet_of or (name[len("node-") :] if name.startswith("node-") else None)
        if restarted:
            lab.wait_node_back(info, restarted, since, time.monotonic() + 120)
    return 0


def run(lab: Lab, args: argparse.Namespace) -> int:
    if isinstance(lab, NodesLab) and args.command in ("stop", "start", "ssh", "seed"):
        return run_nodes(lab, args)
    if args.command == "ssh":
        raise LabError("ssh needs a nodes-mode lab (labctl up --mode nodes)")
    if args.command == "up":
        up(lab, args)
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
                    where = f" {node['address']}, {node['memory_mb']} MB" if node.get("address") else ""
                    print(f"  node {name:<19} Ready={node['ready']}{cordoned} {node['version']}{where}")
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
