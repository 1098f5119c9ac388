"""One nodes lab for the AWX tests of this directory (1 control plane + 1 worker at v1.35.2), always taken down, and
the AWX stand-in in front of it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from awx_jobs import Awx, NodesLab


@pytest.fixture(scope="module")
def nodes_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodesLab]:
    lab = NodesLab(tmp_path_factory.mktemp("awx-lab"))
    try:
        started = time.monotonic()
        lab.labctl("up", "--mode", "nodes", "--control-planes", "1", "--workers", "1", "--version", "1.35.2",
                   timeout=900)  # fmt: skip
        lab.reload()
        lab.info["up_wall_seconds"] = round(time.monotonic() - started, 1)
        yield lab
    finally:
        lab.labctl("down", check=False, timeout=300)


@pytest.fixture(scope="module")
def awx(nodes_lab: NodesLab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Awx]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("KUBECONFIG", "K8S_AUTH_KUBECONFIG", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY"):
            patch.delenv(name, raising=False)  # a job sees only what its credentials inject
        yield Awx(nodes_lab, tmp_path_factory.mktemp("awx"))
