"""Make the lab's package (tests/lab/labkit) importable for its own tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))
