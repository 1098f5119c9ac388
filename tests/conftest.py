"""Make ``tests/`` importable (``from ansible_run import run_module``) for every test package."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
