#!/usr/bin/env bash
# `make demo`: the main job on the lab's nodes. One control plane and two workers at v1.35 run workloads behind
# PodDisruptionBudgets; playbooks/upgrade.yml takes them to v1.36 the way it would a real cluster, and the nodes
# and budgets are shown before and after. The lab keeps running afterwards.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$repo"
state=${LAB_STATE_DIR:-$repo/.lab/demo}
labctl=tests/lab/labctl
bin=$repo/.venv/bin
kubectl() { "$bin/kubectl" --kubeconfig "$state/admin.conf" "$@"; }

"$labctl" down --state-dir "$state" >/dev/null 2>&1 || true
"$labctl" up --mode nodes --control-planes 1 --workers 2 --version 1.35.2 --state-dir "$state"
"$labctl" seed --profile apps --state-dir "$state"

echo "apps/standalone declares no controller: a drain would refuse it (the preflight names it), so its owner removes it."
kubectl -n apps delete pod standalone --wait=true
echo
echo "=== before"
kubectl get nodes
kubectl get pdb -n apps
echo

# The scratch pods keep nothing worth keeping in their emptyDir volumes: the drains may delete that data.
ANSIBLE_COLLECTIONS_PATH=$repo/.build/collections ANSIBLE_NOCOLOR=1 "$bin/ansible-playbook" \
  -i "$state/hosts.yml" playbooks/upgrade.yml \
  -e kubernetes_version=1.36 -e upgrade_delete_emptydir_data=true -e preflight_report_path="$state/preflight.json"

echo
echo "=== after"
kubectl get nodes
kubectl get pdb -n apps
kubectl -n kube-system get pods -o custom-columns=POD:.metadata.name,IMAGE:.spec.containers[0].image
echo
echo "The preflight report: $state/preflight.json"
echo "The lab keeps running: $labctl status --state-dir $state; stop it with $labctl down --state-dir $state"
