"""Run a module of the collection the way users do (ad-hoc ``ansible localhost``) and return its result.

Used by integration tests for the check / real / idempotent cycle; the JSON callback gives the whole result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def ansible_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for ansible commands: the collection tree, the venv's python for localhost."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
    )
    env.update(extra or {})
    return env


def run_module(
    module: str,
    args: dict[str, Any],
    check: bool = False,
    diff: bool = False,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Run ``cluster_ops.kubeadm.<module>`` (or a FQCN) on localhost; the result dict, ``failed`` included."""
    name = module if "." in module else f"cluster_ops.kubeadm.{module}"
    command = [str(VENV_BIN / "ansible"), "localhost", "-m", name, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    proc = subprocess.run(
        command, env=ansible_env(env), capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )
    try:
        report = json.loads(proc.stdout)
        return report["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as exc:
        raise AssertionError(f"ansible gave no result (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from exc


# Keys Ansible adds to every result, and keys whose value only a real run can know (times, counters).
ANSIBLE_KEYS = frozenset({"_ansible_no_log", "action", "invocation", "changed_when_result", "warnings", "deprecations"})


def comparable(result: dict[str, Any], volatile: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """A result without Ansible's own keys and without ``volatile`` ones, for comparing whole results."""
    return {key: value for key, value in result.items() if key not in ANSIBLE_KEYS | set(volatile)}


def check_real_check(
    module: str,
    args: dict[str, Any],
    volatile: set[str],
    diff: bool = True,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """community.docker's pattern: check mode, the real run, check mode again.

    Asserts that the first check predicts the real run as a whole: both results have the same keys with the
    same values, but for the ``volatile`` ones, which only a real run can know (times, counters, what was
    measured); returns the three results for further checks.
    """
    predicted = run_module(module, args, check=True, diff=diff)
    real = run_module(module, args, diff=diff)
    again = run_module(module, args, check=True, diff=diff)
    for result in (predicted, real, again):
        assert not result.get("failed"), result
    assert comparable(predicted, volatile) == comparable(real, volatile), (predicted, real)
    return predicted, real, again
