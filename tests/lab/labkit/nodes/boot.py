"""``python -m labkit.nodes.boot --root DIR --machine NAME --hostname HOST ...``: one node's systemd-nspawn.

Boots the node's root (systemd as PID 1) and boots it again when it asks for a reboot (``systemctl reboot`` inside
makes nspawn exit with 133), so a reboot is a real one: every process of the node ends and systemd starts them
again. SIGTERM powers the node off cleanly (nspawn turns it into the container's poweroff signal) and ends this
process; any other exit of nspawn ends it too, with nspawn's status.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

REBOOT_STATUS = 133


def nspawn_argv(args: argparse.Namespace) -> list[str]:
    argv = [
        "systemd-nspawn",
        f"--directory={args.root}",
        "--boot",
        "--register=no",
        "--keep-unit",
        f"--machine={args.machine}",
        f"--hostname={args.hostname}",
        f"--uuid={args.uuid}",
        "--console=passive",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
    ]
    return argv + [f"--bind-ro={bind}" for bind in args.bind_ro]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", required=True)
    parser.add_argument("--machine", required=True, help="nspawn's machine name (unique on the host)")
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--uuid", required=True, help="the machine id, kept across reboots")
    parser.add_argument("--bind-ro", action="append", default=[], help="HOST:CONTAINER, read-only")
    args = parser.parse_args()
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    boots = 0
    while True:
        boots += 1
        print(f"--- {time.strftime('%H:%M:%S')} boot {boots}: {' '.join(nspawn_argv(args))}", flush=True)
        child = subprocess.Popen(nspawn_argv(args), stdin=subprocess.DEVNULL)
        status = child.wait()
        print(f"--- {time.strftime('%H:%M:%S')} nspawn exited {status}", flush=True)
        if status != REBOOT_STATUS or stopping:
            return 0 if stopping else status


if __name__ == "__main__":
    sys.exit(main())
