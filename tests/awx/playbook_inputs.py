"""What a playbook of the collection takes from its user: the variables it reads, those it needs, those it checks
(its ``assert`` tasks) and the role options it leaves to the user or fills from its own variables.

Read from the playbook's YAML (imported playbooks followed) and the roles' ``meta/argument_specs.yml``; the facts and
registered results of the roles are not inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja_names import Reads, expression_reads, value_reads

ROLE_PREFIX = "cluster_ops.kubeadm."
MAGIC = frozenset({"groups", "hostvars", "inventory_hostname", "group_names", "play_hosts", "playbook_dir",
                   "role_path", "inventory_dir"})  # fmt: skip
# A role parameter that is exactly one variable, possibly with a default: the variable's value goes to the option.
PASSED = re.compile(r"^\{\{\s*([a-z_][a-z0-9_]*)\s*(\|\s*default\([^)]*\)\s*)?\}\}$")
TASK_KEYS = frozenset({"name", "when", "loop", "register", "vars", "block", "rescue", "always", "delegate_to",
                       "delegate_facts", "run_once", "become", "check_mode", "changed_when", "failed_when", "until",
                       "retries", "delay", "tags", "module_defaults", "loop_control", "args", "notify", "no_log",
                       "ignore_errors", "environment", "async", "poll", "throttle", "any_errors_fatal"})  # fmt: skip


@dataclass
class Inputs:
    read: set[str] = field(default_factory=set)
    unguarded: set[str] = field(default_factory=set)  # read somewhere without a default or a defined test
    defined: set[str] = field(default_factory=set)  # play vars, set_fact, register
    asserts: list[list[str]] = field(default_factory=list)  # the conditions of each assert task
    asserted: set[str] = field(default_factory=set)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # role options left to the user
    passed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # variable -> the options it fills
    required_options: set[str] = field(default_factory=set)  # required role options the playbook leaves open

    def add(self, reads: Reads, guards: frozenset[str]) -> None:
        self.read |= reads.names
        self.unguarded |= reads.names - reads.guarded - guards

    def required(self, role_facts: set[str]) -> set[str]:
        """Variables the playbook cannot run without."""
        external = self.unguarded - self.defined - role_facts - MAGIC - set(self.options)
        return {name for name in external if not name.startswith("ansible_")} | self.required_options


def argument_specs(repo: Path, role: str, entry: str = "main") -> dict[str, dict[str, Any]]:
    path = repo / "roles" / role.removeprefix(ROLE_PREFIX) / "meta" / "argument_specs.yml"
    return yaml.safe_load(path.read_text())["argument_specs"][entry].get("options") or {}


def role_facts(repo: Path) -> set[str]:
    """Every fact a role sets and every result it registers."""
    names: set[str] = set()

    def walk(tasks: Any) -> None:
        for task in tasks or []:
            if not isinstance(task, dict):
                continue
            if task.get("register"):
                names.add(task["register"])
            facts = task.get("ansible.builtin.set_fact")
            if isinstance(facts, dict):
                names.update(facts)
            for key in ("block", "rescue", "always"):
                walk(task.get(key))

    for path in (repo / "roles").glob("*/tasks/*.yml"):
        walk(yaml.safe_load(path.read_text()))
    return names


class Walker:
    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.inputs = Inputs()

    def playbook(self, path: Path) -> Inputs:
        for play in yaml.safe_load(path.read_text()):
            if "ansible.builtin.import_playbook" in play:
                self.inputs.defined.update(play.get("vars") or {})
                self.playbook(path.parent / play["ansible.builtin.import_playbook"])
                continue
            self.play(play)
        return self.inputs

    def play(self, play: dict[str, Any]) -> None:
        for key in ("hosts", "serial", "become", "max_fail_percentage", "module_defaults"):
            self.inputs.add(value_reads(play.get(key)), frozenset())
        self.inputs.defined.update(play.get("vars") or {})
        self.inputs.add(value_reads(play.get("vars")), frozenset())
        for entry in play.get("roles") or []:
            entry = {"role": entry} if isinstance(entry, str) else entry
            params = {k: v for k, v in entry.items() if k not in ("role", "name", "when", "vars", "tags")}
            self.role(entry["role"], "main", params, frozenset())
        for key in ("pre_tasks", "tasks", "post_tasks"):
            self.tasks(play.get(key), frozenset())

    def role(self, role: str, entry: str, params: dict[str, Any], guards: frozenset[str]) -> None:
        options = argument_specs(self.repo, role, entry)
        for name, value in params.items():
            self.inputs.add(value_reads(value), guards)
            match = PASSED.match(value) if isinstance(value, str) else None
            if match and name in options:
                self.inputs.passed.setdefault(match.group(1), []).append(options[name])
        for name, spec in options.items():
            if name in params:
                continue
            self.inputs.options[name] = spec
            if spec.get("required"):
                self.inputs.required_options.add(name)

    def tasks(self, tasks: Any, guards: frozenset[str]) -> None:
        for task in tasks or []:
            self.task(task, guards)

    def task(self, task: dict[str, Any], guards: frozenset[str]) -> None:
        when = task.get("when")
        conditions = when if isinstance(when, list) else [when]
        for condition in conditions:
            reads = expression_reads(condition)
            self.inputs.add(reads, guards | reads.guarded)
            guards = guards | reads.guarded  # a task run only when X is defined reads X safely
        for key in ("failed_when", "changed_when", "until"):
            self.inputs.add(expression_reads(task.get(key)), guards)
        for key in ("loop", "delegate_to", "run_once", "become", "module_defaults", "args", "environment"):
            self.inputs.add(value_reads(task.get(key)), guards)
        if task.get("register"):
            self.inputs.defined.add(task["register"])
        self.inputs.defined.update(task.get("vars") or {})
        self.inputs.add(value_reads(task.get("vars")), guards)
        for key in ("block", "rescue", "always"):
            self.tasks(task.get(key), guards)
        for module, args in task.items():
            if module in TASK_KEYS:
                continue
            if module == "ansible.builtin.set_fact":
                self.inputs.defined.update(args)
            if module == "ansible.builtin.assert":
                that = args["that"] if isinstance(args["that"], list) else [args["that"]]
                self.inputs.asserts.append(that)
                for condition in that:
                    self.inputs.asserted |= expression_reads(condition).names
                    self.inputs.add(expression_reads(condition), guards)
                self.inputs.add(value_reads(args.get("fail_msg")), guards | self.inputs.asserted)
                continue
            if module in ("ansible.builtin.include_role", "ansible.builtin.import_role"):
                self.role(args["name"], args.get("tasks_from", "main"), task.get("vars") or {}, guards)
                continue
            self.inputs.add(value_reads(args), guards)


def playbook_inputs(repo: Path, playbook: str) -> Inputs:
    return Walker(repo).playbook(repo / playbook)
