# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: rollout_report
type: aggregate
short_description: Write a rollout's timeline per node and phase as JSON and as one self-contained HTML page
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - Records, for every node, when each phase of its rollout started and ended - C(drain), C(packages), C(kubeadm),
    C(restart), C(reboot), C(wait), C(uncordon) - from the tasks that run (see docs/rollout.md for how a task's
    phase is found), the batches (the nodes drained within one start of a play, which is one serial batch), and
    what C(node_drain) reported (pods evicted, retries per budget, the time per step).
  - At the end of the playbook writes O(output_dir)/O(file_name).json and O(file_name).html. The page needs
    nothing but itself - inline CSS, JS and SVG - and draws one row per node with its phases as bars, the batches
    as bands, waits behind a budget hatched, and a summary from what the playbooks hand to C(set_stats) (versions
    before and after, duration, the etcd snapshot, the plans of a rollout in planned batches).
  - Under ansible-runner (AWX, automation controller) the JSON is also written into the runner's artifact directory,
    which ansible-runner names in E(AWX_ISOLATED_DATA_DIR); the playbooks also hand their outcome to C(set_stats),
    which AWX keeps as the job's artifacts.
  - Enable it with C(callbacks_enabled = cluster_ops.kubeadm.rollout_report) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED).
requirements:
  - enable in configuration
options:
  output_dir:
    description: The directory the report is written to (made when missing).
    type: path
    default: ~/.ansible/rollout_report
    env:
      - name: CLUSTER_OPS_ROLLOUT_REPORT_DIR
    ini:
      - section: callback_rollout_report
        key: output_dir
  file_name:
    description: The reports' file name without its extension; a run writes over the previous run's files.
    type: str
    default: rollout-report
    env:
      - name: CLUSTER_OPS_ROLLOUT_REPORT_NAME
    ini:
      - section: callback_rollout_report
        key: file_name
  artifact_dir:
    description:
      - A further directory for the JSON, C(rollout_report.json). ansible-runner sets E(AWX_ISOLATED_DATA_DIR) to its
        artifact directory for every job.
    type: path
    env:
      - name: AWX_ISOLATED_DATA_DIR
    ini:
      - section: callback_rollout_report
        key: artifact_dir
"""

import json
import os
from typing import Any, Optional

from ansible.plugins.callback import CallbackBase

from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.page import render
from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.phases import phase_of
from ansible_collections.cluster_ops.kubeadm.plugins.plugin_utils._rollout_report.timeline import Timeline

DETAIL_KEYS = ("evicted", "deleted", "retries", "timings", "duration")


def _parts(result: Any) -> tuple[Any, Any, dict[str, Any]]:
    """(host, task, result dict) of a callback's task result, on ansible-core 2.16 to 2.19."""
    host = getattr(result, "host", None) or result._host
    task = getattr(result, "task", None) or result._task
    data = getattr(result, "result", None)
    return host, task, dict(data if data is not None else result._result)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cluster_ops.kubeadm.rollout_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeline = Timeline()
        self.failed = False

    def v2_playbook_on_start(self, playbook: Any) -> None:
        self.timeline.playbook = os.path.basename(getattr(playbook, "_file_name", "") or "")

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self.timeline.play_start(play.get_name())

    def v2_runner_on_start(self, host: Any, task: Any) -> None:
        self.timeline.task_start(host.get_name(), task._uuid)

    @staticmethod
    def _phase(task: Any) -> Optional[str]:
        role = task._role.get_name(include_role_fqcn=False) if getattr(task, "_role", None) else ""
        action = getattr(task, "resolved_action", None) or task.action or ""
        return phase_of(action, dict(task.args or {}), task.get_name() or "", role)

    def _end(self, result: Any, status: str) -> None:
        host, task, data = _parts(result)
        phase = self._phase(task)
        detail = None
        if phase == "drain" and status == "ok":
            detail = {key: data[key] for key in DETAIL_KEYS if key in data}
        elif phase == "drain":
            detail = {"msg": str(data.get("msg", ""))[:500], "blocked": data.get("blocked")}
        self.timeline.task_end(host.get_name(), task._uuid, phase, status, detail)

    def v2_runner_on_ok(self, result: Any) -> None:
        self._end(result, "ok")

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._end(result, "ignored" if ignore_errors else "failed")
        if not ignore_errors:
            self.failed = True

    def v2_runner_on_unreachable(self, result: Any) -> None:
        self._end(result, "unreachable")
        self.failed = True

    def v2_runner_on_skipped(self, result: Any) -> None:
        host, task, _data = _parts(result)
        self.timeline.task_end(host.get_name(), task._uuid, None, "skipped")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        custom = (getattr(stats, "custom", None) or {}).get("_run") or {}
        report = self.timeline.report(custom, ok=not self.failed)
        directory = os.path.expanduser(str(self.get_option("output_dir")))
        name = str(self.get_option("file_name"))
        try:
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, f"{name}.json"), "w", encoding="utf-8") as out:
                json.dump(report, out, indent=1, sort_keys=True)
            with open(os.path.join(directory, f"{name}.html"), "w", encoding="utf-8") as out:
                out.write(render(report))
            artifacts = self.get_option("artifact_dir")
            if artifacts:
                os.makedirs(artifacts, exist_ok=True)
                with open(os.path.join(artifacts, "rollout_report.json"), "w", encoding="utf-8") as out:
                    json.dump(report, out, indent=1, sort_keys=True)
        except OSError as exc:
            self._display.warning(f"rollout_report: could not write the report to {directory}: {exc}")
            return
        self._display.display(f"rollout report: {os.path.join(directory, name)}.html", screen_only=True)
