"""``kubeadm version [-o short|json|yaml]``: the package's version, in kubeadm's version.Info shape.

GitCommit, BuildDate and GoVersion are made up for the lab (stable per version); the layout is kubeadm's.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml

from labkit.kubeadm.output import KubeadmError
from labkit.kubeadm.versions import Version

GO_VERSIONS = {33: "go1.24.9", 34: "go1.24.11", 35: "go1.25.7", 36: "go1.26.1", 37: "go1.26.4"}


def info(version: str) -> dict[str, Any]:
    parsed = Version.parse(version)
    commit = hashlib.sha1(f"kubernetes {parsed.v}".encode()).hexdigest()
    return {
        "major": str(parsed.major),
        "minor": str(parsed.minor),
        "gitVersion": parsed.v,
        "gitCommit": commit,
        "gitTreeState": "clean",
        "buildDate": f"2026-{1 + parsed.minor % 12:02d}-{10 + parsed.patch:02d}T12:00:00Z",
        "goVersion": GO_VERSIONS.get(parsed.minor, "go1.26.4"),
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def render(version: str, output: str) -> str:
    data = info(version)
    if output == "short":
        return f"{data['gitVersion']}\n"
    if output == "json":
        return json.dumps({"clientVersion": data}, indent=2) + "\n"
    if output == "yaml":
        return yaml.safe_dump({"clientVersion": data}, sort_keys=False)
    if output:
        raise KubeadmError(f"invalid output format: {output}")
    fields = {
        "Major": data["major"], "Minor": data["minor"], "EmulationMajor": "", "EmulationMinor": "",
        "MinCompatibilityMajor": "", "MinCompatibilityMinor": "", "GitVersion": data["gitVersion"],
        "GitCommit": data["gitCommit"], "GitTreeState": data["gitTreeState"], "BuildDate": data["buildDate"],
        "GoVersion": data["goVersion"], "Compiler": data["compiler"], "Platform": data["platform"],
    }  # fmt: skip
    return "kubeadm version: &version.Info{" + ", ".join(f'{k}:"{v}"' for k, v in fields.items()) + "}\n"
