"""The variables a Jinja expression reads, and which of them it guards (``| default(...)``, ``is defined``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import jinja2
from jinja2 import nodes

ENVIRONMENT = jinja2.Environment()
GUARD_TESTS = frozenset({"defined", "undefined"})
# Functions and globals Jinja or Ansible provide: read, never user input.
GLOBALS = frozenset({"lookup", "query", "q", "now", "range", "dict", "lipsum", "cycler", "joiner", "namespace", "undef",
                     "true", "false", "none", "True", "False", "None", "loop", "item", "omit"})  # fmt: skip


@dataclass
class Reads:
    """Names read, and names guarded somewhere in the same expression."""

    names: set[str] = field(default_factory=set)
    guarded: set[str] = field(default_factory=set)

    def __ior__(self, other: Reads) -> Reads:
        self.names |= other.names
        self.guarded |= other.guarded
        return self


def _guarded_names(node: nodes.Node) -> Iterator[str]:
    for filter_node in node.find_all(nodes.Filter):
        if filter_node.name == "default" and isinstance(filter_node.node, nodes.Name):
            yield filter_node.node.name
    for test in node.find_all(nodes.Test):
        if test.name in GUARD_TESTS and isinstance(test.node, nodes.Name):
            yield test.node.name


def _declared(node: nodes.Node) -> set[str]:
    """Names an expression binds itself (``for x in``, ``set x``)."""
    return {n.name for n in node.find_all(nodes.Name) if n.ctx in ("store", "param")}


def template_reads(text: str) -> Reads:
    """The reads of a template (a string with ``{{ }}`` or ``{% %}``)."""
    tree = ENVIRONMENT.parse(text)
    declared = _declared(tree)
    names = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"} - declared - GLOBALS
    return Reads(names, set(_guarded_names(tree)) & names)


def expression_reads(expression: object) -> Reads:
    """The reads of a bare expression (``when``, ``that``) or a boolean written as one."""
    if not isinstance(expression, str):
        return Reads()
    return template_reads("{{ " + expression + " }}")


def value_reads(value: object) -> Reads:
    """The reads of every template in a YAML value (strings, lists, dicts)."""
    found = Reads()
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        found |= template_reads(value)
    elif isinstance(value, dict):
        for item in value.values():
            found |= value_reads(item)
    elif isinstance(value, list):
        for item in value:
            found |= value_reads(item)
    return found
