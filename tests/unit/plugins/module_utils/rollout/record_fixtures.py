"""Record the list pages rollout_plan reads from a running lab into fixtures/cluster_info/<scenario>/.

    tests/lab/labctl up --mode host --nodes 7 --state-dir .lab/rec && labctl seed --profile base/apps ...
    .venv/bin/python tests/unit/plugins/module_utils/rollout/record_fixtures.py .lab/rec/admin.conf rollout

The pages are the API server's own (``limit``/``continue``), so the fake serves them as they were.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[5]
FIXTURES = REPO / "tests" / "unit" / "plugins" / "module_utils" / "cluster" / "fixtures" / "cluster_info"
LISTS = {"/api/v1/nodes": 4, "/api/v1/pods": 20, "/apis/policy/v1/poddisruptionbudgets": 4}


def record(kubeconfig: str, scenario: str) -> None:
    target = FIXTURES / scenario
    target.mkdir(parents=True, exist_ok=True)
    for path, limit in LISTS.items():
        token, number = "", 1
        while True:
            url = f"{path}?limit={limit}" + (f"&continue={quote(token)}" if token else "")
            raw = subprocess.run(
                [str(REPO / ".venv" / "bin" / "kubectl"), "--kubeconfig", kubeconfig, "get", "--raw", url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            page = json.loads(raw)
            slug = path.strip("/").replace("/", "_")
            (target / f"{slug}.{number}.json").write_text(json.dumps(page, indent=1, sort_keys=True) + "\n")
            token = page["metadata"].get("continue") or ""
            if not token:
                break
            number += 1


if __name__ == "__main__":
    record(sys.argv[1], sys.argv[2])
