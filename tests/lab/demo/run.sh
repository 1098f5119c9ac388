#!/usr/bin/env bash
# `make demo`: a 4-node host-mode lab seeded with kubeadm's kube-system and PDB-guarded apps, then demo.yml.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$repo"
state=${LAB_STATE_DIR:-$repo/.lab/demo}
labctl=tests/lab/labctl
bin=$repo/.venv/bin

"$labctl" down --state-dir "$state" >/dev/null 2>&1 || true
"$labctl" up --mode host --nodes 4 --state-dir "$state"
"$labctl" seed --profile base --state-dir "$state"
"$labctl" seed --profile apps --state-dir "$state"

info() { "$bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$state/lab.json" "$1"; }
version=$(info version)
next_minor=$("$bin/python" -c "import sys; m=sys.argv[1].lstrip('v').split('.'); print(f'v{m[0]}.{int(m[1]) + 1}.0')" "$version")
etcd_endpoint=$("$bin/python" -c "import json,sys; print(json.load(open(sys.argv[1]))['etcd_endpoints'][0])" "$state/lab.json")

cat > "$state/inventory.yml" <<INV
# The host-mode lab: every node is this machine, so node work runs locally.
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: $bin/python
    lab_kubeconfig: $state/admin.conf
    lab_target_version: $next_minor
    etcd_backup_become: false
    etcd_backup_endpoints: [$etcd_endpoint]
    etcd_backup_cacert: $(info etcd_cacert)
    etcd_backup_cert: $(info etcd_cert)
    etcd_backup_key: $(info etcd_key)
    etcd_backup_dir: $state/backups
    etcd_backup_keep: 3
    etcd_backup_kubeadm_backups_dir: $state/kubeadm-tmp
    etcd_backup_etcdctl_install: none
  children:
    k8s_cluster:
      children:
        kube_control_plane: {hosts: {cp-1: {}}}
        etcd: {hosts: {cp-1: {}}}
        kube_node: {hosts: {$(seq -s ', ' -f 'worker-%g: {}' 1 3)}}
INV

echo "apps/standalone declares no controller: a drain refuses it (cluster_info lists it), so its owner removes it first."
"$bin/kubectl" --kubeconfig "$state/admin.conf" -n apps delete pod standalone --wait=true

ANSIBLE_COLLECTIONS_PATH=$repo/.build/collections "$bin/ansible-playbook" -i "$state/inventory.yml" tests/lab/demo/demo.yml
"$bin/kubectl" --kubeconfig "$state/admin.conf" get nodes
"$bin/kubectl" --kubeconfig "$state/admin.conf" get pdb -n apps
echo "The lab keeps running: tests/lab/labctl status --state-dir $state; stop it with tests/lab/labctl down --state-dir $state"
