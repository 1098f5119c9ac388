"""The rollout report's page in headless Chromium: every node's row and every phase's bar drawn, in its colour.

A made timeline (a fake clock) of four nodes in two batches, one drain that waited on a budget, and a failed step;
no lab. The same check runs on the report of a real rollout in tests/integration/upgrade/test_upgrade_auto.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from chromium_page import check_page

from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.page import COLOURS, render
from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.timeline import Timeline

PHASES = [("drain", 12), ("packages", 6), ("kubeadm", 8), ("restart", 3), ("wait", 5), ("uncordon", 2)]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def made_report() -> dict:
    clock = Clock()
    timeline = Timeline(clock)
    timeline.playbook = "upgrade.yml"
    for batch, nodes in enumerate((["worker-1", "worker-2"], ["worker-3", "worker-4"])):
        timeline.play_start(f"the planned batch {batch + 1}")
        for phase, seconds in PHASES if batch == 0 else [*PHASES[:1], ("reboot", 9), *PHASES[4:]]:
            for node in nodes:
                timeline.task_start(node, f"{node}-{phase}")
            clock.now += seconds
            for node in nodes:
                detail = None
                if phase == "drain":
                    waited = node == "worker-2"
                    retries = {"total": 4, "pdbs": {"apps/web": 4}} if waited else {"total": 0, "pdbs": {}}
                    detail = {
                        "evicted": ["apps/web-1", "apps/db-0"],
                        "retries": retries,
                        "timings": {"list": 0.1, "cordon": 0.1, "evict": 8.0, "wait_delete": 3.0},
                    }
                status = "failed" if (node, phase) == ("worker-4", "wait") else "ok"
                timeline.task_end(node, f"{node}-{phase}", phase, status, detail)
    return timeline.report({"upgrade": {"versions_before": {"worker-1": "v1.35.2"}, "duration": 80.0}}, ok=False)


def test_every_node_row_and_phase_bar_is_drawn_in_its_colour(tmp_path: Path):
    report = made_report()
    assert [b["nodes"] for b in report["batches"]] == [["worker-1", "worker-2"], ["worker-3", "worker-4"]]
    assert report["summary"]["retries_by_budget"] == {"apps/web": 4}
    assert report["summary"]["evictions_total"] == 8
    page = tmp_path / "report.html"
    page.write_text(render(report))
    text = page.read_text().replace("http://www.w3.org/2000/svg", "")  # the SVG namespace is a name, not a fetch
    assert "http://" not in text and "https://" not in text and "<link" not in text and " src=" not in text
    picture = check_page(report, page, tmp_path / "report.png")
    assert {bar["phase"] for bar in picture["bars"]} == {p for p, _ in PHASES} | {"reboot"}
    assert [bar["node"] for bar in picture["bars"] if bar["blocked"]] == ["worker-2"]
    assert {bar["colour"] for bar in picture["bars"]} <= set(COLOURS.values())
    assert picture["checked"] == len(picture["bars"])


def test_a_report_with_script_like_text_stays_one_page(tmp_path: Path):
    report = made_report()
    report["playbook"] = "</script><b>x</b>"
    page = tmp_path / "odd.html"
    page.write_text(render(report))
    assert page.read_text().count("</script>") == 3  # the two data blocks and the script, nothing more
    picture = check_page(report, page, tmp_path / "odd.png")
    assert len(picture["rows"]) == 4
    json.dumps(picture)
