"""Each nodes-mode lab's own block of loopback addresses, 127.0.N.0/24, taken at ``up`` and given back at ``down``.

Inside a block: ``.1`` the package repository (port 80), ``.2`` the API load balancer (port 6443, with more than one
control plane), ``.11``-``.19`` the control planes ``cp-1``.., ``.21``.. the workers ``worker-1``... Nodes share the
host's network, so every component binds its node's own address.

A block is taken by creating ``/run/cluster-ops-lab/blocks/<N>`` (exclusive create) naming the lab's state dir. A
block is free again when its owner's state dir no longer records it (after a grace period for a lab coming up)
and no socket is bound in it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

BLOCKS_DIR = Path(os.environ.get("LAB_BLOCKS_DIR", "/run/cluster-ops-lab/blocks"))
FIRST_BLOCK, LAST_BLOCK = 20, 250  # 127.0.0.x is host mode's, and low blocks are what people pick by hand
MAX_CONTROL_PLANES, MAX_WORKERS = 9, 200
CLAIM_GRACE = 600.0


def repo_address(block: int) -> str:
    return f"127.0.{block}.1"


def load_balancer_address(block: int) -> str:
    return f"127.0.{block}.2"


def node_address(block: int, name: str) -> str:
    role, _, number = name.rpartition("-")
    return f"127.0.{block}.{(10 if role == 'cp' else 20) + int(number)}"


def bound_blocks() -> set[int]:
    """Blocks of 127.0.0.0/8 with a listening TCP socket in them (from /proc/net/tcp; TIME_WAIT ones do not
    keep a server from binding)."""
    found = set()
    for table in ("/proc/net/tcp",):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            local = fields[1].split(":")[0]
            octets = bytes.fromhex(local)[::-1]  # little-endian IPv4
            if octets[0] == 127 and octets[1] == 0:
                found.add(octets[2])
    return found


def owner_records_block(owner: Path, block: int) -> bool:
    try:
        return json.loads((owner / "lab.json").read_text()).get("block") == block
    except (OSError, ValueError):
        return False


def take_block(state_dir: Path) -> int:
    """Reserve a free block for this state dir (the one it already holds, if any)."""
    BLOCKS_DIR.mkdir(parents=True, exist_ok=True)
    state_dir = state_dir.resolve()
    for entry in BLOCKS_DIR.iterdir():
        if entry.name.isdigit() and entry.read_text().strip() == str(state_dir):
            return int(entry.name)
    busy = bound_blocks()
    for block in range(FIRST_BLOCK, LAST_BLOCK + 1):
        claim = BLOCKS_DIR / str(block)
        if claim.exists():
            owner = Path(claim.read_text().strip())
            fresh = time.time() - claim.stat().st_mtime < CLAIM_GRACE  # its lab may not have written lab.json yet
            if fresh or owner_records_block(owner, block) or block in busy:
                continue
            claim.unlink(missing_ok=True)  # a lab that went away without `down`
        if block in busy:
            continue
        try:
            with open(claim, "x") as handle:
                handle.write(f"{state_dir}\n")
        except FileExistsError:
            continue  # another lab took it just now
        return block
    raise RuntimeError(f"no free block of loopback addresses in 127.0.{FIRST_BLOCK}-{LAST_BLOCK}.0/24")


def release_block(state_dir: Path, block: int) -> None:
    claim = BLOCKS_DIR / str(block)
    try:
        if claim.read_text().strip() == str(state_dir.resolve()):
            claim.unlink()
    except OSError:
        pass
