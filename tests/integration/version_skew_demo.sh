#!/usr/bin/env bash
# The version_skew module run ad hoc, as users run it, on the cases the issue asks to show.
# Usage: tests/integration/version_skew_demo.sh   (after `make collection`; failures below are expected)
set -uo pipefail
cd "$(dirname "$0")/../.."
export ANSIBLE_COLLECTIONS_PATH="$PWD/.build/collections" ANSIBLE_LOCALHOST_WARNING=0 \
  ANSIBLE_INVENTORY_UNPARSED_WARNING=0 PATH="$PWD/.venv/bin:$PATH"

run() {
  echo "### $1"
  echo "\$ ansible localhost -m cluster_ops.kubeadm.version_skew -a '$2'"
  ansible localhost -e ansible_python_interpreter="$PWD/.venv/bin/python" -m cluster_ops.kubeadm.version_skew -a "$2"
  echo "(rc $?)"
  echo
}

CP='"kube_apiserver": ["v1.32.1", "v1.32.1"], "kube_controller_manager": ["v1.32.1", "v1.32.1"], "kube_scheduler": ["v1.32.1", "v1.32.1"]'

run "clean cluster" \
  '{"versions": {'"$CP"', "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.31.4"}, "kube_proxy": {"cp-1": "v1.32.1", "worker-1": "v1.32.1"}, "kubectl": "v1.32.0", "kubeadm": "v1.32.1"}}'
run "a kubelet four minors behind" \
  '{"versions": {'"$CP"', "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.28.15"}}}'
run "HA apiservers two minors apart" \
  '{"versions": {"kube_apiserver": ["v1.32.1", "v1.30.6", "v1.32.1"], "kube_controller_manager": ["v1.30.6"], "kube_scheduler": ["v1.30.6"]}}'
run "a downgrade" \
  '{"versions": {'"$CP"'}, "target_version": "v1.31.4"}'
run "a target three minors ahead: three hops, each judged" \
  '{"versions": {'"$CP"', "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.30.9"}, "kube_proxy": {"cp-1": "v1.32.1", "worker-1": "v1.32.1"}}, "target_version": "v1.35.2", "available_versions": ["1.33.0-1.1", "1.33.7-1.1", "1.34.3-1.1", "1.34.4-1.1", "1.35.0-1.1", "1.35.2-1.1"], "fail_on_violation": false}'
run "a kubelet the first hop would leave four minors behind: an error before anything is touched" \
  '{"versions": {'"$CP"', "kubelet": {"cp-1": "v1.32.1", "worker-1": "v1.29.8"}}, "target_version": "1.33", "available_versions": ["1.33.0-1.1", "1.33.7-1.1"]}'
run "bad input: target_version 1.x" \
  '{"versions": {'"$CP"'}, "target_version": "1.x"}'
run "bad input: an unknown key under versions" \
  '{"versions": {'"$CP"', "kubelets": {"worker-1": "v1.32.1"}}}'
run "bad input: kubelet version banana" \
  '{"versions": {'"$CP"', "kubelet": {"worker-1": "banana"}}}'
