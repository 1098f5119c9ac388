"""Fixtures for the nodes-mode tests: one lab of node containers per test module (``nodes_lab``), always taken down.

Bringing a lab up builds the node image the first time on a machine (about a minute and a half, cached in
/var/cache/cluster-ops-lab) and the packages when labkit's sources changed (seconds).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nodes_helpers import NodesLab


def bring_up(state_dir: Path, *args: str, timeout: float = 900) -> NodesLab:
    handle = NodesLab(state_dir)
    started = time.monotonic()
    result = handle.labctl("up", "--mode", "nodes", *args, timeout=timeout)
    handle.up_output = result.stdout
    handle.reload()
    handle.info["up_wall_seconds"] = round(time.monotonic() - started, 1)
    return handle


@pytest.fixture(scope="module")
def nodes_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodesLab]:
    """A lab per module; the module sets ``LAB_ARGS`` (labctl up options) to shape it."""
    args = getattr(request.module, "LAB_ARGS", ("--control-planes", "1", "--workers", "1"))
    state_dir = tmp_path_factory.mktemp("nodes-lab")
    handle = NodesLab(state_dir)
    try:
        handle = bring_up(state_dir, *args)
        yield handle
    finally:
        handle.labctl("down", check=False, timeout=300)
