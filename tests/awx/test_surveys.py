"""Every survey of awx/controller against the playbook it launches: each question sets a variable the playbook reads
and checks (its own assert tasks, or a role's argument spec), every answer the survey allows passes those checks, and
every variable the playbook needs has a required question. The workflow's answers reach each of its templates."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from awx_files import REPO, load_yaml
from jinja_names import expression_reads
from playbook_inputs import Inputs, playbook_inputs, role_facts

CONTROLLER = REPO / "awx" / "controller"
TEMPLATES = load_yaml(CONTROLLER / "job_templates.yml")["controller_templates"]
WORKFLOWS = load_yaml(CONTROLLER / "workflows.yml")["controller_workflows"]
# The playbooks' regular expressions ('^v?1\.[0-9]+') are parsed as Jinja string literals.
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
# The jobs: every playbook but the parts other playbooks import (a hop, a rollout step), which run only inside them.
PARTS = {
    entry["ansible.builtin.import_playbook"]
    for path in (REPO / "playbooks").glob("*.yml")
    for entry in load_yaml(path) or []
    if "ansible.builtin.import_playbook" in entry
}
PLAYBOOKS = sorted(p.name for p in (REPO / "playbooks").glob("*.yml") if p.name not in PARTS)
# Answers to required text questions without a default, as an operator would give them.
SAMPLES = {"kubernetes_version": "1.36", "node": "worker-1", "etcd_restore_snapshot": "/var/backups/etcd/s.db"}
GROUPS = {"kube_control_plane": ["cp-1"], "kube_node": ["worker-1"], "etcd": ["cp-1"], "k8s_cluster": ["cp-1"]}
# Survey question type -> the argument spec types it can feed.
COMPATIBLE = {
    "text": {"str", "path", "raw"},
    "textarea": {"str", "raw"},
    "password": {"str", "raw"},
    "integer": {"int", "raw"},
    "float": {"float", "raw"},
    "multiplechoice": {"str", "bool", "raw", "path"},
    "multiselect": {"list"},
}


@cache
def inputs(playbook: str) -> Inputs:
    return playbook_inputs(REPO, playbook)


@cache
def facts() -> frozenset[str]:
    return frozenset(role_facts(REPO))


def answers(question: dict[str, Any]) -> list[Any]:
    """Every answer AWX can send for a question, as the job variable's value."""
    kind = question["type"]
    if kind == "multiplechoice":
        return list(question["choices"])
    if kind == "multiselect":
        return [[choice] for choice in question["choices"]] + [list(question["choices"])]
    if kind in ("integer", "float"):
        cast = int if kind == "integer" else float
        return [cast(question[key]) for key in ("default", "min", "max") if question.get(key) not in (None, "")]
    default = question.get("default")
    return [default if default not in (None, "") else SAMPLES[question["variable"]]]


def defaults(spec: list[dict[str, Any]]) -> dict[str, Any]:
    return {q["variable"]: answers(q)[0] for q in spec}


def module_spec(option: dict[str, Any]) -> dict[str, Any]:
    """A role option as a module argument spec entry (its Jinja default left out)."""
    return {key: option[key] for key in ("type", "choices", "elements") if key in option}


def check_answer(inputs: Inputs, variable: str, value: Any, others: dict[str, Any]) -> list[str]:
    """Why the playbook refuses this answer (empty when it takes it)."""
    problems = []
    templar = Templar(loader=DataLoader(), variables={**others, variable: value, "groups": GROUPS})
    for that in inputs.asserts:
        if not any(variable in expression_reads(condition).names for condition in that):
            continue
        for condition in that:
            if not templar.evaluate_conditional(trust_as_template(condition)):
                problems.append(f"{variable}={value!r} fails the playbook's check {condition!r}")
    specs = inputs.passed.get(variable, []) + ([inputs.options[variable]] if variable in inputs.options else [])
    for option in specs:
        result = ArgumentSpecValidator({variable: module_spec(option)}).validate({variable: value})
        problems += [f"{variable}={value!r}: {message}" for message in result.error_messages]
    return problems


def template_cases() -> list[tuple[str, dict[str, Any]]]:
    return [(t["name"], t) for t in TEMPLATES]


def test_one_template_per_playbook():
    assert sorted(t["playbook"].removeprefix("playbooks/") for t in TEMPLATES) == PLAYBOOKS
    for template in TEMPLATES:
        assert (REPO / template["playbook"]).is_file(), template["playbook"]


@pytest.mark.parametrize(("name", "template"), template_cases())
def test_nothing_that_drains_or_touches_etcd_runs_twice_at_once_or_sliced(name, template):
    assert template.get("job_slice_count", 1) == 1, name
    if template["playbook"] != "playbooks/preflight.yml":  # the preflight only reads
        assert template["allow_simultaneous"] is False, name


@pytest.mark.parametrize(("name", "template"), template_cases())
def test_every_question_sets_a_variable_the_playbook_reads_and_checks(name, template):
    found = inputs(template["playbook"])
    for question in template["survey_spec"]["spec"]:
        variable = question["variable"]
        checked = variable in found.asserted or variable in found.options or variable in found.passed
        assert checked, f"{name}: {variable} is not a variable {template['playbook']} reads and checks"


@pytest.mark.parametrize(("name", "template"), template_cases())
def test_every_answer_a_survey_allows_passes_the_playbooks_checks(name, template):
    found = inputs(template["playbook"])
    spec = template["survey_spec"]["spec"]
    for question in spec:
        for value in answers(question):
            assert check_answer(found, question["variable"], value, defaults(spec)) == [], name


@pytest.mark.parametrize(("name", "template"), template_cases())
def test_types_and_choices_agree_with_the_argument_specs(name, template):
    found = inputs(template["playbook"])
    for question in template["survey_spec"]["spec"]:
        variable = question["variable"]
        options = found.passed.get(variable, []) + ([found.options[variable]] if variable in found.options else [])
        for option in options:
            assert option.get("type", "str") in COMPATIBLE[question["type"]], (name, variable, option)
            allowed = option.get("choices")
            if allowed and question["type"] in ("multiplechoice", "multiselect"):
                assert set(question["choices"]) <= set(allowed), (name, variable)
        if question["type"] in ("multiplechoice", "multiselect"):
            default = question.get("default")
            assert default in ("", None) or set(str(default).split("\n")) <= set(question["choices"]), (name, variable)
        if question["type"] in ("text", "integer"):
            assert question["min"] <= question["max"], (name, variable)


@pytest.mark.parametrize(("name", "template"), template_cases())
def test_every_variable_the_playbook_needs_has_a_required_question(name, template):
    questions = {q["variable"]: q for q in template["survey_spec"]["spec"]}
    for variable in sorted(inputs(template["playbook"]).required(set(facts()))):
        assert variable in questions, f"{name}: no question for {variable}, which the playbook needs"
        assert questions[variable]["required"] is True, (name, variable)


def test_a_bad_answer_is_caught():
    """The check itself: answers outside what a playbook accepts are refused."""
    upgrade = inputs("playbooks/upgrade.yml")
    others = {"kubernetes_version": "1.36"}
    assert check_answer(upgrade, "upgrade_serial", "0", others)
    assert check_answer(upgrade, "kubernetes_version", 1.3, {})
    assert check_answer(upgrade, "upgrade_force", "perhaps", others)
    assert check_answer(inputs("playbooks/os_patch.yml"), "os_upgrade_reboot", "sometimes", {})
    assert check_answer(inputs("playbooks/node_maintenance.yml"), "action", "reboot", {"node": "worker-1"})


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w["name"] for w in WORKFLOWS])
def test_the_workflow_gates_the_upgrade_and_recovers_from_its_failure(workflow):
    nodes = {node["identifier"]: node for node in workflow["simplified_workflow_nodes"]}
    names = {t["name"]: t for t in TEMPLATES}
    playbook = {
        key: names[n["unified_job_template"]]["playbook"] for key, n in nodes.items() if "approval_node" not in n
    }
    assert workflow["allow_simultaneous"] is False
    assert playbook["preflight"] == "playbooks/preflight.yml" and nodes["preflight"]["success_nodes"] == ["approval"]
    assert nodes["approval"]["approval_node"]["timeout"] > 0 and nodes["approval"]["success_nodes"] == ["upgrade"]
    assert playbook["upgrade"] == "playbooks/upgrade.yml" and nodes["upgrade"]["failure_nodes"] == ["recover"]
    assert playbook["recover"] == "playbooks/recover.yml"
    roots = set(nodes) - {child for n in nodes.values() for key in ("success_nodes", "failure_nodes",
                          "always_nodes") for child in n.get(key, [])}  # fmt: skip
    assert roots == {"preflight"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w["name"] for w in WORKFLOWS])
def test_the_workflows_answers_are_checked_by_its_templates_and_cover_what_they_need(workflow):
    spec = workflow["survey_spec"]["spec"]
    names = {t["name"]: t for t in TEMPLATES}
    jobs = [node for node in workflow["simplified_workflow_nodes"] if "approval_node" not in node]
    templates = [names[node["unified_job_template"]] for node in jobs]
    for question in spec:
        readers = [t for t in templates if question["variable"] in {q["variable"] for q in t["survey_spec"]["spec"]}]
        assert readers, f"no template of the workflow asks for {question['variable']}"
        for template in readers:
            for value in answers(question):
                assert check_answer(inputs(template["playbook"]), question["variable"], value, defaults(spec)) == []
    for node in jobs:  # the variables a node gives its template
        template = names[node["unified_job_template"]]
        found = inputs(template["playbook"])
        for variable, value in (node.get("extra_data") or {}).items():
            assert variable in found.asserted or variable in found.options, (node["identifier"], variable)
            assert check_answer(found, variable, value, defaults(spec)) == [], (node["identifier"], variable)
    given = {q["variable"] for q in spec if q["required"]}
    for template in templates:
        for question in template["survey_spec"]["spec"]:
            if question["required"] and question.get("default") in ("", None):
                assert question["variable"] in given, f"{template['name']} needs {question['variable']}"
