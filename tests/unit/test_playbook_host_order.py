"""The playbooks and roles keep the inventory's order of hosts and nodes.

Ansible's set filters (difference, union, intersect, symmetric_difference) go through a Python set, so their
result's order changes from one run to the next: a rollout over such a list would drain the nodes in a random
order and, after a failure, go on with a node that comes after the failed one in the inventory.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SET_FILTERS = re.compile(r"\|\s*(difference|union|intersect|symmetric_difference)\b")


def test_no_playbook_or_role_orders_hosts_through_a_set_filter() -> None:
    files = sorted([*ROOT.glob("playbooks/*.yml"), *ROOT.glob("roles/*/*/*.yml")])
    assert len(files) > 20, files  # the tree was found
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SET_FILTERS.search(line)
    ]
    assert found == [], "use reject('in', ...) | list, which keeps the order:\n" + "\n".join(found)
