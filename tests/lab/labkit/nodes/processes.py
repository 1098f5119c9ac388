"""The lab's processes as the host sees them: those running inside a node, those the lab started, their memory."""

from __future__ import annotations

import os
from pathlib import Path


def processes_inside(node_dirs: list[Path]) -> dict[str, list[int]]:
    """Node name -> the host pids of the processes running in that node (their root is the node's overlay)."""
    uppers = {f"upperdir={d.resolve() / 'upper'}": d.name for d in node_dirs}
    own_ns = os.readlink("/proc/self/ns/mnt")
    found: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns/mnt") == own_ns:
                continue
            root_mounts = [line for line in (entry / "mountinfo").read_text().splitlines() if line.split()[4] == "/"]
        except OSError:
            continue
        for line in root_mounts:
            options = line.split(" - ", 1)[-1]
            node = next((name for upper, name in uppers.items() if f"{upper}," in f"{options},"), None)
            if node:
                found.setdefault(node, []).append(int(entry.name))
                break
    return found


def node_memory_mb(node_dirs: list[Path]) -> dict[str, int]:
    """Node name -> the proportional set size of its processes, in MB."""
    totals: dict[str, int] = {}
    for node, pids in processes_inside(node_dirs).items():
        kilobytes = 0
        for pid in pids:
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                kilobytes += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
            except (OSError, StopIteration, ValueError):
                continue
        totals[node] = kilobytes // 1024
    return totals


LAB_PROGRAMS = (b"systemd-nspawn", b"haproxy", b"gpg-agent")
LAB_MODULES = (b"labkit.nodes.boot", b"labkit.nodes.repo_server")


def stray_processes(state_dir: Path) -> list[int]:
    """The lab's own processes (nspawn, haproxy, gpg-agent, the boot and repository modules) with an argument in
    this state dir, whose pid files were lost; never this process or a shell that merely mentions the path."""
    prefix = str(state_dir).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        program = os.path.basename(argv[0])
        module = argv[argv.index(b"-m") + 1] if b"-m" in argv[:-1] else b""
        if program not in LAB_PROGRAMS and module not in LAB_MODULES:
            continue
        if any(arg.split(b"=", 1)[-1].startswith(prefix) for arg in argv[1:]):
            found.append(int(entry.name))
    return found
