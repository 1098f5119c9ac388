"""The upgrade, OS patching and refusals end to end on lab nodes: one lab per test module, always taken down."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from playbooks import NodesLab


@pytest.fixture(scope="module")
def nodes_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodesLab]:
    """A lab per module, shaped by the module's ``LAB_ARGS`` (labctl up options)."""
    state_dir = tmp_path_factory.mktemp("upgrade-lab")
    lab = NodesLab(state_dir)
    try:
        started = time.monotonic()
        lab.labctl("up", "--mode", "nodes", *request.module.LAB_ARGS, timeout=900)
        lab.reload()
        lab.info["up_wall_seconds"] = round(time.monotonic() - started, 1)
        yield lab
    finally:
        lab.labctl("down", check=False, timeout=300)
