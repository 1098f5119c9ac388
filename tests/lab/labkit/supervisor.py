"""Start and stop the lab's processes detached, each with a pid file and a log in the state dir."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class Supervisor:
    def __init__(self, state_dir: Path):
        self.run_dir = state_dir / "run"
        self.log_dir = state_dir / "logs"

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> int:
        """Start ``argv`` in its own session (survives labctl's exit), logging to logs/NAME.log."""
        if self.pid(name):
            raise RuntimeError(f"{name} is already running (pid {self.pid(name)})")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file(name), "ab") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} start: {' '.join(argv)}\n".encode())
            log.flush()
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
                cwd=cwd,
            )
        self.pid_file(name).write_text(f"{process.pid}\n")
        return process.pid

    def pid(self, name: str) -> int | None:
        """The pid of a running component, None when it is not running (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file(name).read_text())
        except (OSError, ValueError):
            return None
        if _alive(pid):
            return pid
        self.pid_file(name).unlink(missing_ok=True)
        return None

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.run_dir.glob("*.pid")) if self.run_dir.is_dir() else []

    def stop(self, name: str, timeout: float = 10.0) -> bool:
        """SIGTERM the component's process group, SIGKILL after ``timeout``; True when it was running."""
        pid = self.pid(name)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.02)
        self.pid_file(name).unlink(missing_ok=True)
        return True

    def log_tail(self, name: str, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # each component leads its own session, so its group id is its pid
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    """True for a live process (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
