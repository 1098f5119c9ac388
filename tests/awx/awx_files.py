"""What the AWX content tests share: the repository, the venv's tools, YAML with the ``!unsafe`` tag."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class AwxLoader(yaml.SafeLoader):
    """Reads the controller configuration files: ``!unsafe`` strings (injector templates) as plain strings."""


def _unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


AwxLoader.add_constructor("!unsafe", _unsafe)


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=AwxLoader)  # a SafeLoader with one more tag
