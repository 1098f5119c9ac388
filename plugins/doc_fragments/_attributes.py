# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This doc fragment is private to the collection: it can change at any time. Do not use it elsewhere.

from __future__ import annotations


class ModuleDocFragment:
    # The attributes every module declares; each module says how it supports them (support, details).
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    # With the standard fragment, for modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state; it does the same in check mode.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    ACTIONGROUP_K8S = r"""
options: {}
attributes:
  action_group:
    description:
      - Use C(group/cluster_ops.kubeadm.k8s) in C(module_defaults) to set the connection options once for every
        module of the collection that talks to the Kubernetes API.
    support: full
    membership:
      - cluster_ops.kubeadm.k8s
"""
