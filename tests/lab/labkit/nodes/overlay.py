"""Each node's root: an overlayfs over the cached image, its changes in the lab's state dir."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def mounted(target: Path) -> bool:
    target_str = str(target.resolve())
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] == target_str:
            return True
    return False


def mount(lower: Path, node_dir: Path) -> Path:
    """``node_dir/root`` = ``lower`` + ``node_dir/upper`` (idempotent)."""
    root, upper, work = node_dir / "root", node_dir / "upper", node_dir / "work"
    for directory in (root, upper, work):
        directory.mkdir(parents=True, exist_ok=True)
    if not mounted(root):
        options = f"lowerdir={lower},upperdir={upper},workdir={work}"
        result = subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(root)], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"mounting the root of {node_dir.name} failed: {result.stderr.strip()}")
    return root


def unmount(node_dir: Path, timeout: float = 10.0) -> bool:
    """Unmount ``node_dir/root`` (and anything left mounted below it); True when something was mounted."""
    root = (node_dir / "root").resolve()
    if not root.exists():
        return False
    below = sorted(
        (
            line.split()[4]
            for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if line.split()[4] == str(root) or line.split()[4].startswith(f"{root}/")
        ),
        key=len,
        reverse=True,
    )
    deadline = time.monotonic() + timeout
    for target in below:
        while True:
            result = subprocess.run(["umount", target], capture_output=True, text=True)
            if result.returncode == 0 or not mounted(Path(target)):
                break
            if time.monotonic() > deadline:
                subprocess.run(["umount", "--lazy", target], capture_output=True)
                break
            time.sleep(0.2)
    return bool(below)
