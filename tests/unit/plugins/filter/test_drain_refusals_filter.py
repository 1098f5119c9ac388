"""drain_refusals: the pods a drain would stop at, for the reasons that matter to it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster_ops.kubeadm.plugins.filter.drain import drain_refusals

BLOCKERS = {
    "worker-2": [{"namespace": "shop", "name": "web-1", "reasons": ["pdb"], "pdbs": ["web"]}],
    "worker-1": [
        {"namespace": "default", "name": "debug", "reasons": ["unmanaged", "emptydir"]},
        {"namespace": "shop", "name": "cache-0", "reasons": ["emptydir"]},
    ],
}


def test_only_the_refused_reasons_and_every_pod_named():
    assert drain_refusals(BLOCKERS, ["unmanaged", "pdb", "multiple_pdbs"]) == [
        "a drain of worker-1 would stop at default/debug: unmanaged",
        "a drain of worker-2 would stop at shop/web-1: pdb (budget web)",
    ]
    assert drain_refusals(BLOCKERS, ["emptydir"]) == [
        "a drain of worker-1 would stop at default/debug: emptydir",
        "a drain of worker-1 would stop at shop/cache-0: emptydir",
    ]
    assert drain_refusals({}, ["pdb"]) == []


def test_not_a_dict_is_one_line():
    with pytest.raises(AnsibleFilterError, match="expected cluster_info's drain_blockers"):
        drain_refusals(None, ["pdb"])
