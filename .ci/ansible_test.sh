#!/usr/bin/env bash
# ansible-test sanity and units on the built collection, with one ansible-core release (2.16 ... 2.19).
# Usage: .ci/ansible_test.sh CORE_VERSION TARBALL
# Each release gets its own virtualenv (.build/core-X.Y) and its own install of the artifact.
set -euo pipefail
core=$1
tarball=$(realpath "$2")
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=$repo/.build/core-$core
root=$repo/.build/sanity-$core
tree=$root/ansible_collections/cluster_ops/kubeadm

if [ ! -x "$venv/bin/ansible-test" ] || ! "$venv/bin/ansible-test" --version | grep -q "^ansible-test version $core\."; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q "ansible-core==$core.*"
fi

# ansible-test fetches its pip bootstrap script from a host this network cannot reach: supply it.
pip_version=$(grep -o "^ *pip='[0-9.]*'," "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py \
  | head -n 1 | grep -o "[0-9.]*[0-9]" | tr . _)
mkdir -p ~/.ansible/test/cache
cp "$repo/.ci/get_pip_offline.py" ~/.ansible/test/cache/"get_pip_${pip_version:-24_2}.py"

rm -rf "$root"
"$venv/bin/ansible-galaxy" collection install --force -p "$root" "$tarball" >/dev/null
cd "$tree"
git init -q . && git add -A >/dev/null
echo "=== ansible-core $core: sanity"
env -u PYTHONPATH "$venv/bin/ansible-test" sanity --python 3.11 --requirements --color no
echo "=== ansible-core $core: units"
env -u PYTHONPATH "$venv/bin/ansible-test" units --python 3.11 --requirements --color no
