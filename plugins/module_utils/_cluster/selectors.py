# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Label selectors and a per-namespace index of PodDisruptionBudgets, to find a pod's PDBs fast."""

from __future__ import annotations

from typing import Any, NamedTuple


def _expression_matches(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key = expression.get("key")
    operator = expression.get("operator")
    values = expression.get("values") or ()
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False  # the API server rejects other operators; never match what we cannot interpret


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Whether a ``metav1.LabelSelector`` selects ``labels``: null selects nothing, ``{}`` everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression_matches(e, labels) for e in selector.get("matchExpressions") or ())


class Pdb(NamedTuple):
    """The part of a PodDisruptionBudget a drain cares about."""

    namespace: str
    name: str
    selector: dict[str, Any] | None
    disruptions_allowed: int


class PdbIndex:
    """PDBs grouped by namespace; those with ``matchLabels`` indexed by one label pair.

    A pod is then checked only against the PDBs of its namespace that share that pair with it (plus the
    few selecting by expressions only), not against every PDB of the cluster.
    """

    def __init__(self, pdbs: list[Pdb]) -> None:
        self._by_pair: dict[str, dict[tuple[str, str], list[Pdb]]] = {}
        self._scan: dict[str, list[Pdb]] = {}
        for pdb in pdbs:
            if pdb.selector is None:
                continue  # a null selector selects no pod
            match_labels = pdb.selector.get("matchLabels") or {}
            if match_labels:
                pair = min(match_labels.items())
                self._by_pair.setdefault(pdb.namespace, {}).setdefault(pair, []).append(pdb)
            else:
                self._scan.setdefault(pdb.namespace, []).append(pdb)

    def matching(self, namespace: str, labels: dict[str, str]) -> list[Pdb]:
        """The PDBs whose selector selects a pod with ``labels`` in ``namespace``."""
        candidates = list(self._scan.get(namespace, ()))
        by_pair = self._by_pair.get(namespace)
        if by_pair:
            for pair in labels.items():
                candidates.extend(by_pair.get(pair, ()))
        return [pdb for pdb in candidates if selector_matches(pdb.selector, labels)]
