"""What a simulated component learns from its "container": its image (version), the lab's settings, a private dir."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

SETTINGS = Path("/etc/cluster-ops-lab/settings.json")
RUN_DIR = Path("/run/cluster-ops-lab")


def image_version() -> str:
    """The tag of the image the kubelet ran (``LAB_IMAGE``), e.g. ``v1.35.2``."""
    image = os.environ.get("LAB_IMAGE", "")
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    return tag or "v0.0.0"


def lab_settings() -> dict[str, Any]:
    return json.loads(SETTINGS.read_text()) if SETTINGS.exists() else {}


def private_dir(component: str) -> Path:
    directory = RUN_DIR / component
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def fail(message: str) -> NoReturn:
    """Exit as a Go component refusing its command line does."""
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)
