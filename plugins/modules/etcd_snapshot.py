#!/usr/bin/python
# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot
short_description: Take, verify and keep etcd snapshots
version_added: 0.1.0
author: cluster_ops contributors (@cluster-ops)
description:
  - With O(state=present), saves a snapshot with C(etcdctl snapshot save) (v3 API) into
    O(backup_dir) as C(etcd-snapshot-<UTC time>.db) (directory mode 0700, file mode 0600), next to a
    C(.sha256) file in C(sha256sum -c) format, then applies the retention (O(keep), O(max_age),
    O(kubeadm_backups_keep)).
  - The snapshot is written under a temporary name and renamed only after it was verified, so no
    partial or unverified file ever carries the snapshot name; on failure nothing is left behind.
  - Verification checks the sha256 trailer that C(etcdctl snapshot save) appends (size % 512 == 32 and the
    sha256 of the rest equals the last 32 bytes) in Python, since C(snapshot status) does not, and runs
    C(snapshot status) (C(etcdutl) where present, C(etcdctl) for etcd 3.4) for the database structure.
  - With O(state=verified), only verifies the existing file O(path); any bad file fails the task.
  - The commands are chosen for etcd 3.4, 3.5 and 3.6 from the detected tool versions (etcd 3.6 needs
    C(etcdutl) for the status check).
  - Runs on an etcd node (or any host that reaches etcd and has etcdctl); it needs no Kubernetes client.
options:
  state:
    description:
      - V(present) takes a new snapshot; V(verified) checks the existing file O(path).
    type: str
    choices: [present, verified]
    default: present
  endpoints:
    description:
      - etcd client URLs. The snapshot is taken from the first one that answers (etcd saves from one member).
      - Plain C(http://) endpoints need no certificates.
    type: list
    elements: str
    default: ["https://127.0.0.1:2379"]
  cacert:
    description:
      - CA bundle to verify the etcd server. Defaults to kubeadm's C(/etc/kubernetes/pki/etcd/ca.crt) when
        an endpoint is C(https://) and that file exists. A given file that does not exist is an error.
    type: path
  cert:
    description:
      - Client certificate. Defaults to kubeadm's C(/etc/kubernetes/pki/etcd/healthcheck-client.crt)
        (else C(server.crt)) when an endpoint is C(https://) and the file and its key exist.
    type: path
  key:
    description:
      - Client key, with O(cert). Defaults like O(cert) (C(healthcheck-client.key) or C(server.key)).
    type: path
  backup_dir:
    description: Directory of the snapshots. Created with mode 0700 (and set to 0700).
    type: path
    default: /var/backups/etcd
  keep:
    description:
      - How many snapshots to keep in O(backup_dir), the new one included. Only files named like this
        module's snapshots (C(etcd-snapshot-YYYYMMDDTHHMMSSZ[-N].db)) are counted or deleted.
      - The newest snapshot and the one just taken are never deleted. Null keeps all.
    type: int
    default: 10
  max_age:
    description:
      - Delete snapshots older than this (by the time in their name), for example V(7d), V(12h), V(90m) or
        seconds. The newest snapshot and the one just taken are never deleted.
    type: str
  path:
    description:
      - The snapshot file to check with O(state=verified). Ignored with O(state=present).
    type: path
  skip_hash_check:
    description:
      - With O(state=verified), do not require the sha256 trailer. Only for a plain copy of a C(member/snap/db)
        file, which has none.
    type: bool
    default: false
  kubeadm_backups_keep:
    description:
      - Keep only this many of kubeadm's C(kubeadm-backup-<kind>-<time>) directories of each kind (C(etcd),
        C(manifests)) in O(kubeadm_backups_dir), the newest. kubeadm never deletes them.
      - Null leaves them alone.
    type: int
  kubeadm_backups_dir:
    description: Where kubeadm leaves its backups.
    type: path
    default: /etc/kubernetes/tmp
  etcdctl:
    description: The etcdctl executable (name on PATH or path). Looked up on PATH when not given.
    type: str
  etcdutl:
    description:
      - The etcdutl executable (name on PATH or path). When absent, it is also looked for beside O(etcdctl);
        without it etcd 3.4 and 3.5 use etcdctl.
    type: str
  timeout:
    description:
      - Seconds allowed for the snapshot save and for the status check. An unreachable endpoint is reported
        after 5 seconds.
    type: int
    default: 600
extends_documentation_fragment:
  - cluster_ops.kubeadm._attributes
attributes:
  check_mode:
    support: full
    details:
      - Checks the options and the tools, does not contact etcd, and reports the file it would write and the
        files retention would remove (RV(path), RV(removed)).
      - With O(state=verified) the file is verified as usual (nothing changes).
  diff_mode:
    support: full
    details:
      - The snapshot names in O(backup_dir) before and after.
  idempotent:
    support: none
    details:
      - O(state=present) takes a new snapshot at every run, by design; O(state=verified) changes nothing.
requirements:
  - C(etcdctl) on the host that runs the module (etcd 3.4 to 3.6); C(etcdutl) too for etcd 3.6, whose
    C(etcdctl) no longer checks snapshots
notes:
  - Uses C(ETCDCTL_API=3).
  - Restore a snapshot with M(cluster_ops.kubeadm.etcd_restore).
seealso:
  - module: cluster_ops.kubeadm.etcd_restore
"""

EXAMPLES = r"""
- name: Snapshot the local kubeadm etcd, keep 7
  cluster_ops.kubeadm.etcd_snapshot:
    backup_dir: /var/backups/etcd
    keep: 7
    kubeadm_backups_keep: 2
  register: snapshot

- name: Snapshot a plain http etcd, drop snapshots older than a week
  cluster_ops.kubeadm.etcd_snapshot:
    endpoints: [http://127.0.0.1:2379]
    backup_dir: /srv/etcd-backups
    keep:
    max_age: 7d

- name: Check a snapshot copied back from elsewhere
  cluster_ops.kubeadm.etcd_snapshot:
    state: verified
    path: /var/backups/etcd/etcd-snapshot-20261125T160138Z.db
"""

RETURN = r"""
path:
  description: The snapshot file (taken, checked, or that would be taken in check mode).
  returned: always
  type: str
  sample: /var/backups/etcd/etcd-snapshot-20261125T160138Z.db
sha256:
  description: The sha256 of the whole file (as C(sha256sum) prints it).
  returned: success, not in check mode with O(state=present)
  type: str
  sample: 9f0b2c0d6c1e4b0e8b1f0c8d5a6e1f3b2a4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e
size:
  description: Size of the file in bytes.
  returned: success, not in check mode with O(state=present)
  type: int
  sample: 20512
revision:
  description: The etcd revision in the snapshot.
  returned: success, not in check mode with O(state=present)
  type: int
  sample: 1042
total_keys:
  description: Number of keys in the snapshot (as C(snapshot status) counts them).
  returned: success, not in check mode with O(state=present)
  type: int
  sample: 10007
hash:
  description: The hash of the keyspace reported by C(snapshot status).
  returned: success, not in check mode with O(state=present)
  type: int
  sample: 1674744245
total_size:
  description: The size of the database reported by C(snapshot status).
  returned: success, not in check mode with O(state=present)
  type: int
  sample: 20480
removed:
  description: Files and directories deleted by retention (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample:
    - /var/backups/etcd/etcd-snapshot-20261101T020000Z.db
    - /var/backups/etcd/etcd-snapshot-20261101T020000Z.db.sha256
endpoint:
  description: The endpoint the snapshot was taken from.
  returned: when a snapshot was taken
  type: str
  sample: https://127.0.0.1:2379
etcd_version:
  description: The version of the etcd tools used.
  returned: always
  type: str
  sample: 3.4.23
duration:
  description: Seconds the whole task took.
  returned: always
  type: float
  sample: 1.52
save_duration:
  description: Seconds the save itself took (before verification).
  returned: when a snapshot was taken
  type: float
  sample: 1.2
"""

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._etcd.snapshot import run
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._module import new_module, run_module

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["present", "verified"], "default": "present"},
    "endpoints": {"type": "list", "elements": "str", "default": ["https://127.0.0.1:2379"]},
    "cacert": {"type": "path"},
    "cert": {"type": "path"},
    "key": {"type": "path", "no_log": False},
    "backup_dir": {"type": "path", "default": "/var/backups/etcd"},
    "keep": {"type": "int", "default": 10},
    "max_age": {"type": "str"},
    "path": {"type": "path"},
    "skip_hash_check": {"type": "bool", "default": False},
    "kubeadm_backups_keep": {"type": "int", "no_log": False},
    "kubeadm_backups_dir": {"type": "path", "default": "/etc/kubernetes/tmp"},
    "etcdctl": {"type": "str"},
    "etcdutl": {"type": "str"},
    "timeout": {"type": "int", "default": 600},
}


def main() -> None:
    module = new_module(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("state", "verified", ["path"])],
        supports_check_mode=True,
    )
    run_module(module, lambda: run(module.params, module.check_mode))


if __name__ == "__main__":
    main()
