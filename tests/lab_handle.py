"""A lab in a state directory, driven through labctl: the handle the integration tests' lab fixtures yield.

A module of its own (not in a conftest.py) so that tests import it by a name no other module shares.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABCTL = REPO / "tests" / "lab" / "labctl"


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
            check=False,  # the output goes into the error below
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"labctl {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def reload(self) -> dict:
        self.info = json.loads((self.state_dir / "lab.json").read_text())
        return self.info
