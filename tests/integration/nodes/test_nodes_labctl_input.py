"""labctl up --mode nodes refuses bad input with one line naming the bad value, before touching anything."""

from __future__ import annotations

import subprocess

import pytest
from nodes_helpers import LABCTL


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--control-planes", "0"], "--control-planes must be 1 to 9, got 0"),
        (["--workers", "-1"], "--workers must be 0 to 200, got -1"),
        (["--version", "1.32.0"], "--version '1.32.0' is not in the lab's repositories"),
        (["--node-version", "worker-7=1.35.1"], "no node 'worker-7'"),
        (["--node-version", "worker-1"], "--node-version 'worker-1': expected NAME=VERSION"),
        (["--node-version", "worker-1=1.38.0"], "--node-version worker-1 '1.38.0' is not in the lab's repositories"),
    ],
)
def test_bad_input_is_named_in_one_line(tmp_path, args, named):
    state = tmp_path / "state"
    result = subprocess.run([str(LABCTL), "up", "--mode", "nodes", *args, "--state-dir", str(state)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert not (state / "lab.json").exists()


def test_node_options_need_nodes_mode(tmp_path):
    result = subprocess.run([str(LABCTL), "up", "--mode", "host", "--legacy-repo", "--state-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert "--node-version and --legacy-repo need --mode nodes" in result.stderr
