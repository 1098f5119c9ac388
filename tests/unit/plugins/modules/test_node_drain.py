# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_drain and node_wait: the documented options are exactly the argument spec, with the same defaults."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import CONNECTION_ARGSPEC
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.drain import DRAIN_ARGSPEC
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._nodes.wait import WAIT_ARGSPEC
from ansible_collections.cluster_ops.kubeadm.plugins.modules import node_drain, node_wait


@pytest.mark.parametrize("module, argspec", [(node_drain, DRAIN_ARGSPEC), (node_wait, WAIT_ARGSPEC)])
def test_documentation_matches_the_argument_spec(module, argspec):
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert set(documented) == set(argspec)  # connection options come from the doc fragment
    for name, spec in argspec.items():
        assert documented[name]["type"] == spec["type"], name
        assert documented[name].get("default") == spec.get("default"), name
        assert documented[name].get("choices") == spec.get("choices"), name
        assert documented[name].get("aliases") == spec.get("aliases"), name
    assert not set(argspec) & set(CONNECTION_ARGSPEC)


@pytest.mark.parametrize("module", [node_drain, node_wait])
def test_examples_and_return_are_yaml(module):
    assert yaml.safe_load(module.EXAMPLES)
    assert yaml.safe_load(module.RETURN)
