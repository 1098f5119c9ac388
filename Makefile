# cluster_ops.kubeadm: one entry point for set-up, linters, tests and benchmarks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(abspath $(VENV))/bin
BUILD := .build
COLLECTIONS := $(abspath $(BUILD))/collections
TREE := $(COLLECTIONS)/ansible_collections/cluster_ops/kubeadm
APT_PACKAGES := etcd-server etcd-client systemd-container debootstrap openssl rsync iproute2 haproxy apt-utils gnupg \
  openssh-client chromium
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONPATH := $(COLLECTIONS)

.PHONY: help deps venv collection demo lint ruff mypy ansible-lint changelog-lint sanity units ee awx integration test bench bench-etcd bench-drain bench-scale bench-upgrade bench-rollout clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

deps: ## install the Debian packages the lab (both modes) and the etcd tests need (root)
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); fi
	@for unit in etcd haproxy; do systemctl disable --now $$unit >/dev/null 2>&1 || true; done

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## create the Python environment

collection: venv ## make the repository importable as ansible_collections.cluster_ops.kubeadm
	@mkdir -p $(dir $(TREE))
	@ln -sfn $(CURDIR) $(TREE)

demo: collection deps ## the main job: lab nodes at v1.35 running workloads behind budgets, upgraded to v1.36
	tests/lab/demo/run.sh

ruff: venv ## ruff lint and format checks on all Python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

mypy: collection ## type checks: plugins (with the unit tests' fakes), the lab, the AWX content tests
	cd $(COLLECTIONS) && $(BIN)/mypy --config-file $(CURDIR)/mypy.ini --cache-dir $(CURDIR)/.mypy_cache \
	  -p ansible_collections.cluster_ops.kubeadm.plugins -p ansible_collections.cluster_ops.kubeadm.tests.unit
	cd tests/lab && $(BIN)/mypy --config-file $(CURDIR)/mypy.ini --cache-dir $(CURDIR)/.mypy_cache labkit
	cd tests/awx && $(BIN)/mypy --config-file $(CURDIR)/mypy.ini --cache-dir $(CURDIR)/.mypy_cache .

ansible-lint: collection ## ansible-lint, production profile
	$(BIN)/ansible-lint --profile production

changelog-lint: venv ## the changelog fragments are valid
	$(BIN)/antsibull-changelog lint

lint: ruff mypy ansible-lint changelog-lint ## every linter

# Every ansible-core release meta/runtime.yml claims that installs on Python 3.11.
CORE_VERSIONS ?= 2.16 2.17 2.18 2.19

sanity: venv ## build the collection; ansible-test sanity and units on it with every claimed ansible-core; ansible-doc
	rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .
	for core in $(CORE_VERSIONS); do .ci/ansible_test.sh $$core $(BUILD)/dist/cluster_ops-kubeadm-*.tar.gz || exit 1; done
	@for m in $$(ls plugins/modules/*.py | xargs -n1 basename | sed 's/\.py$$//'); do \
	  $(BIN)/ansible-doc -t module cluster_ops.kubeadm.$$m >/dev/null || exit 1; \
	  ANSIBLE_NOCOLOR=1 $(BIN)/ansible-doc -t module cluster_ops.kubeadm.$$m | grep -q '^EXAMPLES' || { echo "$$m: no EXAMPLES"; exit 1; }; \
	done; echo "ansible-doc: every module renders with examples"
	@for i in $$(ls plugins/inventory/*.py | xargs -n1 basename | sed 's/\.py$$//'); do \
	  ANSIBLE_NOCOLOR=1 $(BIN)/ansible-doc -t inventory cluster_ops.kubeadm.$$i | grep -q '^EXAMPLES' || { echo "$$i: no EXAMPLES"; exit 1; }; \
	done; echo "ansible-doc: every inventory plugin renders with examples"

units: collection ## unit tests with plain pytest (fast loop)
	$(BIN)/pytest -q tests/unit

EE_CONTEXT := awx/ee/context
ee: venv ## the execution environment's build context (awx/ee/context) with the collection's tarball; no image is built
	rm -rf $(BUILD)/ee $(EE_CONTEXT) && mkdir -p $(BUILD)/ee
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/ee . >/dev/null
	mv $(BUILD)/ee/cluster_ops-kubeadm-*.tar.gz $(BUILD)/ee/cluster_ops-kubeadm.tar.gz
	$(BIN)/ansible-builder create -f awx/ee/execution-environment.yml -c $(EE_CONTEXT) -v 1

awx: collection ee ## the AWX content: the execution environment (context, introspection), surveys against playbooks, RBAC
	$(BIN)/pytest -q -p no:cacheprovider tests/awx

integration: collection deps ## tests against real etcd, the lab control plane and the real kubectl
	$(BIN)/pytest -q -p no:cacheprovider --durations=25 tests/integration

test: lint sanity awx integration ## everything CI runs

bench: bench-etcd bench-drain bench-scale bench-upgrade bench-rollout ## every benchmark (about an hour): ratios against the reference tools

bench-etcd: collection deps ## etcd_snapshot vs etcdctl snapshot save + status on a 256 MB etcd
	$(PY) bench/bench_etcd_snapshot.py

bench-drain: collection deps ## node_drain vs kubectl drain vs kubernetes.core.k8s_drain on a 100-pod node (1 s and 5 s pod start)
	$(PY) bench/bench_drain.py --pod-ready-delay 1
	$(PY) bench/bench_drain.py --pod-ready-delay 5 --reps 3

bench-upgrade: collection deps ## upgrade.yml on lab nodes: orchestration overhead, upgrade_serial 2 against 1
	$(PY) bench/bench_upgrade.py

bench-rollout: collection deps ## upgrade_serial auto against 1 and 2 on six lab workers; the auto run's report in bench/out
	$(PY) bench/bench_rollout.py

SCALE_LAB := $(abspath .lab/bench-scale)
bench-scale: collection deps ## one 5,000-node / 50,000-pod lab: the API server's numbers, then cluster_info and api_removals vs kubectl
	tests/lab/labctl up --mode host --nodes 3 --version 1.21.0 --state-dir $(SCALE_LAB)
	tests/lab/labctl seed --profile base --state-dir $(SCALE_LAB)
	tests/lab/labctl seed --profile scale --timeout 1500 --state-dir $(SCALE_LAB)
	tests/lab/labctl seed --profile legacy-apis --state-dir $(SCALE_LAB)
	$(PY) bench/bench_lab.py --state-dir $(SCALE_LAB) && $(PY) bench/bench_cluster_info.py --state-dir $(SCALE_LAB) && \
	  $(PY) bench/bench_api_removals.py --state-dir $(SCALE_LAB); \
	  status=$$?; tests/lab/labctl down --state-dir $(SCALE_LAB); exit $$status

clean: ## remove build output and lab state (not the venv)
	rm -rf $(BUILD) .lab tests/output $(EE_CONTEXT)
