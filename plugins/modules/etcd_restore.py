#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_restore
short_description: Verify an etcd snapshot and restore it into a new data directory
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - Verifies the snapshot O(path) first, exactly like M(cluster_ops.kubeadm.etcd_snapshot) with
    C(state=verified) (sha256 trailer and C(snapshot status)), and refuses a bad one.
  - Restores it with C(snapshot restore) (C(etcdutl) where present, C(etcdctl) for etcd 3.4) into
    O(data_dir) with this member's flags. O(data_dir) must not exist or be empty; the restore goes into a
    hidden sibling directory renamed into place when complete, so a failed restore leaves nothing.
  - Where the tools support it (etcd 3.5.10 and later), the revision is bumped by O(bump_revision) and the
    old revisions are marked compacted, so clients such as kube-apiserver watches never see the revision
    go backwards. etcd 3.4 cannot do this (RV(revision_bump) is then 0).
  - Does not stop or start etcd; the C(cluster_ops.kubeadm.etcd_restore) role does the whole procedure.
options:
  path:
    description: The snapshot file.
    type: path
    required: true
  data_dir:
    description: The new data directory of this member. Must not exist or be empty.
    type: path
    required: true
  name:
    description: This member's name (etcd's C(--name)).
    type: str
    default: default
  initial_cluster:
    description:
      - All members as C(name=peer-url,...) (etcd's C(--initial-cluster)). Must list O(name) with
        O(initial_advertise_peer_urls).
      - Defaults to this member alone.
    type: str
  initial_cluster_token:
    description: The cluster token (etcd's C(--initial-cluster-token)).
    type: str
    default: etcd-cluster
  initial_advertise_peer_urls:
    description: This member's peer URLs (etcd's C(--initial-advertise-peer-urls)).
    type: list
    elements: str
    default: ["http://localhost:2380"]
  skip_hash_check:
    description:
      - Do not require the sha256 trailer and pass C(--skip-hash-check). Only for a plain copy of a
        C(member/snap/db) file, which has none.
    type: bool
    default: false
  bump_revision:
    description:
      - How much to raise the revision (with C(--mark-compacted)) where the tools support it; V(0) never.
    type: int
    default: 1000000000
  etcdctl:
    description: The etcdctl executable (name on PATH or path). Looked up on PATH when not given.
    type: str
  etcdutl:
    description: The etcdutl executable (name on PATH or path); also looked for beside O(etcdctl).
    type: str
  timeout:
    description: Seconds allowed for the verification and for the restore.
    type: int
    default: 600
extends_documentation_fragment:
  - cluster_ops.kubeadm._attributes
attributes:
  check_mode:
    support: full
    details:
      - Verifies the snapshot and checks O(data_dir), then reports what it would restore; writes nothing.
  diff_mode:
    support: none
    details:
      - A restored data directory has no meaningful diff.
  idempotent:
    support: full
    details:
      - A restored member records the snapshot's sha256 and the member flags in C(member/restored-from.json); the
        same restore into the same O(data_dir) again changes nothing. A different snapshot or other member flags
        are refused, since the directory is no longer empty.
requirements:
  - C(etcdutl) (etcd 3.5 and later) or C(etcdctl) (etcd 3.4 and 3.5) on the host that runs the module
notes:
  - Uses C(ETCDCTL_API=3).
seealso:
  - module: cluster_ops.kubeadm.etcd_snapshot
"""

EXAMPLES = r"""
- name: Restore the first of three stacked etcd members
  cluster_ops.kubeadm.etcd_restore:
    path: /var/backups/etcd/etcd-snapshot-20261125T160138Z.db
    data_dir: /var/lib/etcd-restored-20261125T170000Z
    name: cp-1
    initial_cluster: cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380
    initial_advertise_peer_urls: [https://10.0.0.11:2380]
  register: restored

- name: Restore a db file copied out of a data dir (it has no sha256 trailer)
  cluster_ops.kubeadm.etcd_restore:
    path: /var/lib/etcd-copy/member/snap/db
    data_dir: /var/lib/etcd-from-db
    skip_hash_check: true
"""

RETURN = r"""
data_dir:
  description: The restored data directory.
  returned: always
  type: str
  sample: /var/lib/etcd-restored-20261125T170000Z
path:
  description: The snapshot restored.
  returned: always
  type: str
  sample: /var/backups/etcd/etcd-snapshot-20261125T160138Z.db
sha256:
  description: The sha256 of the whole snapshot file.
  returned: always
  type: str
  sample: 9f0b2c0d6c1e4b0e8b1f0c8d5a6e1f3b2a4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e
size:
  description: Size of the snapshot file in bytes.
  returned: always
  type: int
  sample: 20512
revision:
  description: The revision in the snapshot.
  returned: always
  type: int
  sample: 1042
restored_revision:
  description: The revision of the restored member (RV(revision) + RV(revision_bump)).
  returned: always
  type: int
  sample: 1000001042
revision_bump:
  description: The revision bump applied (0 when none or not supported by the tools).
  returned: always
  type: int
  sample: 1000000000
total_keys:
  description: Number of keys in the snapshot.
  returned: always
  type: int
  sample: 10007
hash:
  description: The hash of the keyspace reported by C(snapshot status).
  returned: always
  type: int
  sample: 1674744245
name:
  description: The member name used.
  returned: always
  type: str
  sample: cp-1
initial_cluster:
  description: The initial cluster used.
  returned: always
  type: str
  sample: cp-1=https://10.0.0.11:2380
initial_advertise_peer_urls:
  description: The member's peer URLs used.
  returned: always
  type: list
  elements: str
  sample: [https://10.0.0.11:2380]
initial_cluster_token:
  description: The cluster token used.
  returned: always
  type: str
  sample: etcd-cluster
etcd_version:
  description: The version of the etcd tools used.
  returned: always
  type: str
  sample: 3.4.23
duration:
  description: Seconds the verification and the restore took.
  returned: always
  type: float
  sample: 2.1
"""

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd.restore import restore
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "data_dir": {"type": "path", "required": True},
    "name": {"type": "str", "default": "default"},
    "initial_cluster": {"type": "str"},
    "initial_cluster_token": {"type": "str", "default": "etcd-cluster", "no_log": False},
    "initial_advertise_peer_urls": {"type": "list", "elements": "str", "default": ["http://localhost:2380"]},
    "skip_hash_check": {"type": "bool", "default": False},
    "bump_revision": {"type": "int", "default": 1000000000},
    "etcdctl": {"type": "str"},
    "etcdutl": {"type": "str"},
    "timeout": {"type": "int", "default": 600},
}


def main() -> None:
    module = new_module(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    run_module(module, lambda: restore(module.params, module.check_mode))


if __name__ == "__main__":
    main()
