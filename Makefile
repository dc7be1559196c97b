# agentopia.toolbox - every target installs what it needs, idempotently.
#   make demo   provision a local lab end to end and print what it built
#   make test   every test tier, each one timed; stops at the first red tier
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR ?= 0
PLAYBOOK := ansible-playbook
TIERS := setup ruff unit integration rules conformance sanity lint galaxy molecule
# The unit tier's pytest paths: the collection's tests and each service's own.
PYTEST_PATHS := tests/unit $(wildcard services/*/tests)

.PHONY: help demo test setup deps engine venv images lab lab-destroy site summary \
        ruff unit integration rules conformance sanity lint galaxy molecule bench clean

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)
	@echo "  other targets: lab lab-destroy images ruff unit integration rules conformance sanity lint galaxy molecule bench clean"

demo: lab site summary

test:
	@scripts/tiers.sh $(TIERS)

## --- set-up -------------------------------------------------------------
setup: deps engine venv images

deps:
	@scripts/host-deps.sh

engine: deps
	@scripts/dockerd.sh

venv: $(VENV)/.installed .collections/ansible_collections/agentopia/toolbox

# The services (services/*) are installed editable: a changed pyproject.toml reinstalls.
$(VENV)/.installed: requirements.txt requirements-services.txt constraints.txt $(wildcard services/*/pyproject.toml)
	@echo "==> creating $(VENV) from requirements.txt and requirements-services.txt"
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-services.txt \
	  -c constraints.txt
	@touch $@

# Ansible finds this checkout as the collection agentopia.toolbox through ansible.cfg.
.collections/ansible_collections/agentopia/toolbox:
	@mkdir -p $(@D) && ln -sfn ../../.. $@

images: engine venv
	@$(PLAYBOOK) playbooks/lab-images.yml

## --- the lab ------------------------------------------------------------
lab: engine venv
	@$(PLAYBOOK) playbooks/lab.yml

lab-destroy: venv
	@$(PLAYBOOK) playbooks/lab-destroy.yml

site: venv
	@$(PLAYBOOK) playbooks/site.yml

summary: venv
	@$(PLAYBOOK) playbooks/summary.yml

## --- test tiers ---------------------------------------------------------
ruff: venv
	ruff check . && ruff format --check .

# No Docker engine, no root, no network (loopback only): tests that need one are marked `integration`.
unit: venv
	pytest -m "not integration" $(PYTEST_PATHS)

# The tests marked `integration`: image_audit and image_sbom build small images on the local engine,
# the bridge's tests install packages from PyPI. tests/integration/test_mcp_images.py runs only
# with AGENTOPIA_IMAGES=1 (it builds every image; the toolbox molecule scenario covers the same).
integration: engine venv
	pytest -m integration $(PYTEST_PATHS) tests/integration

# promtool check rules + test rules for the exporters role's alert rules (tests/rules/).
rules: deps
	scripts/promtool.sh

# The MCP conformance suite direct and through the gateway, on loopback (docs/conformance.md).
conformance: deps venv
	scripts/conformance.sh

sanity: venv
	scripts/sanity.sh

lint: venv
	ansible-lint

# Build the collection, install the tarball into an empty collections path, ansible-doc everything in it
# and run a playbook by its FQCN from there (scripts/galaxy.sh).
galaxy: venv
	scripts/galaxy.sh

molecule: engine venv images
	scripts/molecule.sh

bench: engine venv images
	python bench/converge.py --stage engine
	python bench/converge.py
	python bench/swarm.py
	python bench/base_image.py
	python bench/rollout.py
	python bench/toolbox.py
	python bench/healthcheck.py

clean: lab-destroy
	rm -rf .build .cache tests/output
