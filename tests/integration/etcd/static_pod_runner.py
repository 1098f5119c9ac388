"""A test-only stand-in for the kubelet's static pods: run what the manifests in some directories say.

``python static_pod_runner.py --log-dir DIR MANIFESTS_DIR...`` polls every 0.2 s: a ``*.yaml`` manifest that
appears starts a process from its first container's ``command`` + ``args`` (like a kubelet would start the
pod), one that disappears (or changes) stops it, and a process that exits is started again after a second.
SIGTERM stops everything. Used to exercise the etcd_restore role's real mechanism (moving manifests).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml


def command_of(manifest: Path) -> list[str]:
    pod = yaml.safe_load(manifest.read_text())
    container = pod["spec"]["containers"][0]
    return [str(part) for part in container.get("command", []) + container.get("args", [])]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--log-dir", required=True, type=Path)
    parser.add_argument("dirs", nargs="+", type=Path)
    options = parser.parse_args()
    running: dict[Path, tuple[float, subprocess.Popen]] = {}
    exited: dict[Path, float] = {}
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        present = {path: path.stat().st_mtime for d in options.dirs for path in d.glob("*.yaml") if path.is_file()}
        for path, (mtime, proc) in list(running.items()):
            if present.get(path) != mtime:
                stop(proc)
                del running[path]
            elif proc.poll() is not None and path not in exited:
                exited[path] = time.monotonic()
        for path, mtime in present.items():
            restart_due = path in exited and time.monotonic() - exited[path] > 1
            if path not in running or restart_due:
                exited.pop(path, None)
                log_name = f"{path.parent.parent.name}-{path.stem}.log"
                with open(options.log_dir / log_name, "ab") as log:
                    proc = subprocess.Popen(command_of(path), stdout=log, stderr=subprocess.STDOUT)
                running[path] = (mtime, proc)
        time.sleep(0.2)
    for _, proc in running.values():
        stop(proc)


if __name__ == "__main__":
    sys.exit(main())
