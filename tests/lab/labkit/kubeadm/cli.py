"""The simulated ``kubeadm`` command line: ``version``, ``upgrade plan``, ``upgrade apply``, ``upgrade node``.

Flags are kubeadm's (``-y/--yes``, ``-f/--force``, ``--dry-run``, ``--etcd-upgrade``, ``--certificate-renewal``,
``--ignore-preflight-errors``, ``--config``, ``--kubeconfig``, ``-o/--output``); every failure prints kubeadm's
error text and exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from labkit.kubeadm import plan, upgrade_config, version_info
from labkit.kubeadm.apply import ApplyOptions, apply
from labkit.kubeadm.cluster import client_from
from labkit.kubeadm.constants import ADMIN_CONF
from labkit.kubeadm.node import NodeOptions, upgrade_node
from labkit.kubeadm.output import KubeadmError, Printer
from labkit.kubeadm.versions import Version
from labkit.kubeclient import ApiError


def boolean(text: str) -> bool:
    if text.lower() in ("true", "1", "t"):
        return True
    if text.lower() in ("false", "0", "f"):
        return False
    raise argparse.ArgumentTypeError(f'invalid argument "{text}": strconv.ParseBool: parsing "{text}": invalid syntax')


class Parser(argparse.ArgumentParser):
    """argparse with cobra's wording for what users mistype most (unknown commands and flags)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        choice = re.search(r"invalid choice: '([^']*)'", message)
        if choice:
            raise KubeadmError(f'unknown command "{choice[1]}" for "{self.prog}"')
        unknown = re.search(r"unrecognized arguments: (\S+)", message)
        if unknown:
            raise KubeadmError(f"unknown flag: {unknown[1]}")
        raise KubeadmError(message)


def parser() -> argparse.ArgumentParser:
    main = Parser(prog="kubeadm", add_help=True)
    sub = main.add_subparsers(dest="command", required=True, parser_class=Parser)
    version = sub.add_parser("version")
    version.add_argument("-o", "--output", default="")
    upgrade = sub.add_parser("upgrade").add_subparsers(dest="upgrade_command", required=True, parser_class=Parser)

    def common(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--config")
        cmd.add_argument("--kubeconfig", type=Path)
        cmd.add_argument("--ignore-preflight-errors", action="append", default=[])
        cmd.add_argument("--dry-run", action="store_true")
        cmd.add_argument("-v", "--v", dest="verbosity", default="0")

    plan_cmd = upgrade.add_parser("plan")
    plan_cmd.add_argument("version", nargs="?")
    plan_cmd.add_argument("-o", "--output", default="text", choices=["text", "json", "yaml"])
    plan_cmd.add_argument("--allow-experimental-upgrades", action="store_true")
    plan_cmd.add_argument("--allow-release-candidate-upgrades", action="store_true")
    plan_cmd.add_argument("--print-config", action="store_true")
    common(plan_cmd)
    apply_cmd = upgrade.add_parser("apply")
    apply_cmd.add_argument("version", nargs="?")
    apply_cmd.add_argument("-y", "--yes", action="store_true")
    apply_cmd.add_argument("-f", "--force", action="store_true")
    apply_cmd.add_argument("--etcd-upgrade", type=boolean, nargs="?", const=True, default=None)
    apply_cmd.add_argument("--certificate-renewal", type=boolean, nargs="?", const=True, default=None)
    apply_cmd.add_argument("--allow-experimental-upgrades", action="store_true")
    apply_cmd.add_argument("--allow-release-candidate-upgrades", action="store_true")
    apply_cmd.add_argument("--print-config", action="store_true")
    common(apply_cmd)
    node_cmd = upgrade.add_parser("node")
    node_cmd.add_argument("--etcd-upgrade", type=boolean, nargs="?", const=True, default=None)
    node_cmd.add_argument("--certificate-renewal", type=boolean, nargs="?", const=True, default=None)
    common(node_cmd)
    return main


def pick(flag: bool | None, section: dict, key: str, default: bool) -> bool:
    """A flag given on the command line wins over the UpgradeConfiguration, which wins over the default."""
    if flag is not None:
        return flag
    return bool(section.get(key, default))


def run(version: str, argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.command == "version":
        Printer().raw(version_info.render(version, args.output))
        return 0
    config = upgrade_config.load(args.config)
    if args.upgrade_command == "plan":
        printer = Printer(quiet=args.output != "text")
        client = client_from(args.kubeconfig or ADMIN_CONF)
        given = args.version or (config.get("plan") or {}).get("kubernetesVersion")
        ignore = args.ignore_preflight_errors + list((config.get("plan") or {}).get("ignorePreflightErrors") or [])
        upgrades, kubeadm = plan.compute(client, printer, Version.parse(version), given, ignore)
        printer.raw(plan.render(upgrades, kubeadm, args.output))
        if not upgrades and args.output == "text" and args.verbosity not in ("0", ""):
            printer.line("[upgrade/versions] Awesome, you're up-to-date! Enjoy!")
        return 0
    if args.upgrade_command == "apply":
        section = config.get("apply") or {}
        options = ApplyOptions(
            version=args.version or section.get("kubernetesVersion"),
            yes=args.yes,
            force=args.force or bool(section.get("forceUpgrade")),
            dry_run=args.dry_run or bool(section.get("dryRun")),
            etcd_upgrade=pick(args.etcd_upgrade, section, "etcdUpgrade", True),
            certificate_renewal=pick(args.certificate_renewal, section, "certificateRenewal", True),
            ignore_preflight_errors=args.ignore_preflight_errors + list(section.get("ignorePreflightErrors") or []),
            kubeconfig=args.kubeconfig or ADMIN_CONF,
            config=config,
        )
        apply(version, options, Printer())
        return 0
    section = config.get("node") or {}
    node_options = NodeOptions(
        dry_run=args.dry_run or bool(section.get("dryRun")),
        etcd_upgrade=pick(args.etcd_upgrade, section, "etcdUpgrade", True),
        certificate_renewal=pick(args.certificate_renewal, section, "certificateRenewal", True),
        ignore_preflight_errors=args.ignore_preflight_errors + list(section.get("ignorePreflightErrors") or []),
        kubeconfig=args.kubeconfig,
        config=config,
    )
    upgrade_node(version, node_options, Printer())
    return 0


def main(version: str, argv: list[str]) -> int:
    try:
        return run(version, argv)
    except KubeadmError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    except (ApiError, OSError) as exc:
        print(KubeadmError(str(exc)).render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
