# One entry point for the lab, the demo and the tests. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
# The collection is found by Ansible through this link (build/ is ignored by every tool).
COLLECTIONS := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/aiplatform/cluster
# Mitogen's package from the venv, at a path that does not name the Python version: the molecule
# scenarios take its strategy plugins from here (.config/molecule/config.yml).
MITOGEN_LINK := $(CURDIR)/build/ansible_mitogen
SANITY_ROOT := $(CURDIR)/build/sanity/ansible_collections/aiplatform/cluster
SANITY_VENV := $(CURDIR)/build/sanity-venv
LAB_INVENTORY := inventories/lab
# The controller's key to the lab hosts (mounted into each at start; see tests/lab/tasks/up.yml).
LAB_SSH_KEY := $(CURDIR)/build/lab-ssh/id_ed25519
SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

export PATH := $(BIN):$(PATH)
export CONTAINERS_CONF := $(CURDIR)/tests/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps host-packages venv collection-link lock lab-image lab-up lab-down demo \
	test lint ruff yamllint ansible-lint checks rules ee sanity unit kube-clients molecule integration bench-lab clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# --- setup ---------------------------------------------------------------------------------------
deps: host-packages venv collection-link ## Install everything the lab and the tests need

host-packages:
	@bash tests/lab/install-host-packages.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt meta/python-requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

lock: ## Re-resolve requirements*.txt into constraints.txt (in a scratch venv)
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	{ sed -n '1,2p' constraints.txt; build/lock-venv/bin/pip freeze --exclude-editable | sort -f; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf build/lock-venv

collection-link: venv
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)
	@ln -sfn "$$($(BIN)/python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')" $(MITOGEN_LINK)

# --- lab -----------------------------------------------------------------------------------------
lab-image: host-packages $(LAB_SSH_KEY) ## Build the lab's base image (only when its recipe changed)
	@bash tests/lab/build-image.sh

$(LAB_SSH_KEY):
	@mkdir -p -m 0700 $(dir $@)
	ssh-keygen -q -t ed25519 -N '' -C aiplatform-lab -f $@

lab-up: deps lab-image ## Start the lab hosts (idempotent)
	ansible-playbook -i $(LAB_INVENTORY) tests/lab/lab.yml -e lab_state=present

lab-down: deps ## Remove the lab hosts and network
	ansible-playbook -i $(LAB_INVENTORY) tests/lab/lab.yml -e lab_state=absent

demo: lab-up ## Run playbooks/site.yml against the lab and show the report
	ansible-playbook -i $(LAB_INVENTORY) playbooks/site.yml -e topology_report_dir=$(CURDIR)/reports
	@cat reports/hosts/summary.md

# --- tests ---------------------------------------------------------------------------------------
test: deps lab-image ## Run every check and test
	@# The fast gates fail first, side by side (ansible-lint uses one core). Then the lab tests and the
	@# scenarios, which use separate networks and containers, beside sanity and ee (build/ only).
	$(MAKE) --no-print-directory --output-sync=target -j3 lint checks unit
	$(MAKE) --no-print-directory -j4 molecule integration sanity ee
	@echo "make test: all checks and tests passed"

lint: ruff yamllint ansible-lint ## ruff, yamllint, ansible-lint (production profile)

ruff: venv
	ruff check .
	ruff format --check .

yamllint: venv
	yamllint --strict .

ansible-lint: deps
	ansible-lint --profile production --strict

checks: deps rules ## Argument specs equal defaults; every playbook passes --syntax-check; rules
	$(BIN)/python tests/tools/check_argument_specs.py roles
	@# `cmd && echo` in a loop does not stop it: every failure exits, so no playbook but the last can hide one.
	@for p in playbooks/*.yml; do \
	  ansible-playbook -i $(LAB_INVENTORY) --syntax-check $$p >/dev/null || { echo "syntax check FAILED: $$p"; exit 1; }; \
	  echo "syntax ok: $$p"; \
	done

ee: deps ## ansible-builder create on ee/execution-environment.yml, the build context checked
	$(BIN)/python tests/tools/check_ee.py

# promtool (Debian's prometheus on the controller): the monitoring role's rule files, then their unit
# tests (tests/monitoring: a firing and a quiet case for every alert).
rules: host-packages ## promtool check rules and promtool test rules for the monitoring role
	promtool check rules roles/monitoring/files/rules/*.rules.yml
	promtool test rules tests/monitoring/*.test.yml

# ansible-test runs in its own venv: --requirements pins tools (pylint, mypy…) that must not
# disturb the main venv, and its --venv mode needs a bootstrap download this network cannot reach.
$(SANITY_VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/pip install -q --disable-pip-version-check $$(grep -E '^ansible-core==' requirements.txt)
	touch $@

sanity: deps $(SANITY_VENV)/.installed ## ansible-test sanity from an ansible_collections/aiplatform/cluster copy
	@rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	@git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ $(SANITY_ROOT)/
	$(SANITY_VENV)/bin/python tests/tools/ansible_test_pip_bootstrap.py
	@for f in tests/sanity/ignore-*.txt; do [ ! -s $$f ] || { echo "$$f must stay empty: fix the code instead"; exit 1; }; done
	cd $(SANITY_ROOT) && git init -q && git add -A && \
	  PATH=$(SANITY_VENV)/bin:$$PATH ansible-test sanity --color no --requirements \
	    --python $$($(SANITY_VENV)/bin/python -c 'import sys;print("%d.%d" % sys.version_info[:2])')

# kubectl and helm (pinned, checksummed) for the add-on render and schema tests; see tests/tools/kube_clients.py.
KUBE_CLIENTS := $(CURDIR)/build/kube-clients

kube-clients: host-packages venv ## kubectl and helm client binaries into build/kube-clients/bin
	$(BIN)/python tests/tools/kube_clients.py $(KUBE_CLIENTS)

# On every CPU (pytest-xdist), a test file per worker: most of the time is ansible-playbook runs, one core
# each, and this gate runs alone before the lab tests.
unit: venv kube-clients ## pytest unit tests (plugins, tools, add-on renders)
	pytest -n auto --dist loadfile tests/unit

# Scenarios run side by side (each has its own network, /24 and container names): one alone leaves
# about half of the CPUs idle waiting on podman exec. The longest start first; a log per scenario.
# MOLECULE_SCENARIOS picks a subset (`make molecule MOLECULE_SCENARIOS="runtime smoke"`). The run
# passes only when tests/tools/scenario_results.py finds one passing result for each scenario asked
# for and a JUnit report of its verify with at least the scenario's minimum of passed tests.
# Two at a time: three beside the lab tests took the load past 50 and SSH connections timed out (CI, 2026-12-03).
MOLECULE_JOBS ?= 2
MOLECULE_ORDER := apiserver etcd_ops monitoring runtime smoke kubeadm preflight node_os k8s_binaries
MOLECULE_SCENARIOS ?= $(filter $(SCENARIOS),$(MOLECULE_ORDER)) $(filter-out $(MOLECULE_ORDER),$(SCENARIOS))
MOLECULE_LOGS := $(CURDIR)/build/molecule-logs
MOLECULE_JUNIT := $(CURDIR)/build/molecule-junit

molecule: deps lab-image ## Every molecule scenario, MOLECULE_JOBS at a time (logs in build/molecule-logs)
	@rm -rf $(MOLECULE_LOGS) $(MOLECULE_JUNIT) && mkdir -p $(MOLECULE_LOGS) $(MOLECULE_JUNIT)
	@printf '%s\n' $(MOLECULE_SCENARIOS) | sed '/^$$/d' \
	  | xargs -r -P $(MOLECULE_JOBS) -I{} bash -c 'start=$$(date +%s); \
	      if molecule test -s {} >$(MOLECULE_LOGS)/{}.log 2>&1; then r=passed; else r=FAILED; fi; \
	      echo "== molecule $$r: {} ($$(( $$(date +%s) - start )) s)" | tee $(MOLECULE_LOGS)/{}.result'
	@for f in $(MOLECULE_LOGS)/*.result; do \
	  [ -e "$$f" ] || continue; grep -q '^== molecule passed:' "$$f" && continue; \
	  echo "==== $${f%.result}.log (last 200 lines)"; tail -n 200 "$${f%.result}.log"; \
	done
	$(BIN)/python tests/tools/scenario_results.py $(MOLECULE_LOGS) $(MOLECULE_JUNIT) $(MOLECULE_SCENARIOS)

integration: deps lab-image ## Lab lifecycle and the built collection run by FQCN
	pytest tests/integration

bench-lab: deps lab-image ## Time the lab's life cycle (figures for docs/benchmarks.md)
	$(BIN)/python tests/benchmarks/lab_timings.py $(BENCH_ARGS)

clean: lab-down ## Remove the lab, the venv and build outputs
	rm -rf build reports $(VENV)
