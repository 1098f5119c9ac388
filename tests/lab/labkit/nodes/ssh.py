"""Commands on a node over SSH, as Ansible reaches it (the lab's key, never a prompt)."""

from __future__ import annotations

import subprocess
from pathlib import Path

OPTIONS = [
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=5",
]
COMMON_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes"


def ssh_argv(key: Path, address: str, command: list[str] | str | None = None) -> list[str]:
    argv = ["ssh", "-i", str(key), *OPTIONS, f"root@{address}"]
    if command:
        argv += [command] if isinstance(command, str) else command
    return argv


def run(key: Path, address: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ssh_argv(key, address, command), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
