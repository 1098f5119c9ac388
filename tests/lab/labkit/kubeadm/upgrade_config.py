"""``--config``: an UpgradeConfiguration (kubeadm.k8s.io/v1beta4), the sections the lab's kubeadm honours.

``apply``/``node``/``plan``: kubernetesVersion, forceUpgrade, etcdUpgrade, certificateRenewal, dryRun,
ignorePreflightErrors; ``timeouts.upgradeManifests``. Flags given on the command line win.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from labkit.kubeadm.constants import UPGRADE_MANIFESTS_TIMEOUT
from labkit.kubeadm.output import KubeadmError

DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration for h, m, s, ms (``5m0s``, ``30s``, ``1m30s``)."""
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise KubeadmError(f'time: invalid duration "{text}"')
    return sum(float(number) * UNITS[unit] for number, unit in parts)


def load(file: str | None) -> dict[str, Any]:
    if not file:
        return {}
    try:
        documents = [d for d in yaml.safe_load_all(Path(file).read_text()) if d]
    except (OSError, yaml.YAMLError) as exc:
        raise KubeadmError(f"unable to read config from {file!r}: {exc}") from None
    for document in documents:
        if document.get("kind") == "UpgradeConfiguration":
            if document.get("apiVersion") != "kubeadm.k8s.io/v1beta4":
                raise KubeadmError(f"no kind \"UpgradeConfiguration\" is registered for version "
                                   f"\"{document.get('apiVersion')}\"")  # fmt: skip
            return document
    raise KubeadmError(f"no UpgradeConfiguration found in {file}")


def manifests_timeout(config: dict[str, Any]) -> float:
    value = (config.get("timeouts") or {}).get("upgradeManifests")
    return parse_duration(str(value)) if value else UPGRADE_MANIFESTS_TIMEOUT
