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
TIERS := setup ruff unit rules conformance sanity lint molecule

.PHONY: help demo test setup deps engine venv images lab lab-destroy site summary \
        ruff unit rules conformance sanity lint molecule bench clean

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)
	@echo "  other targets: lab lab-destroy images unit rules ruff sanity lint molecule bench clean"

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

$(VENV)/.installed: requirements.txt constraints.txt
	@echo "==> creating $(VENV) from requirements.txt"
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
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

# The image_audit tests build small images on the local engine.
unit: engine venv
	pytest tests/unit

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

molecule: engine venv images
	scripts/molecule.sh

bench: engine venv images
	python bench/converge.py
	python bench/swarm.py
	python bench/base_image.py
	python bench/rollout.py
	python bench/toolbox.py
	python bench/healthcheck.py

clean: lab-destroy
	rm -rf .build .cache tests/output
