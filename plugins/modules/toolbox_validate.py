#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: toolbox_validate
short_description: Check a toolbox spec on the controller and fill in its defaults
version_added: 0.1.0
description:
  - Checks a toolbox spec against the collection's JSON Schema and the rules a schema cannot express (unique
    server names, exactly one of C(kind) or C(image) per server, TLS both-or-neither, no
    credentials in plain env, volume targets, ceilings on memory, CPUs and replicas, secrets that have values).
  - Runs on the controller only and never contacts a host, so a bad spec fails before anything is deployed.
  - On failure the message lists every error, one per line, each with its field path (for example
    C(toolbox.servers[2].memory)) and what is allowed there; RV(errors) holds the same as data.
  - On success RV(spec) is the spec with every default filled in, the form agentopia.toolbox.toolbox_stack takes.
  - The spec is documented field by field in C(docs/toolbox-spec.md) of the collection.
  - This is an action plugin; it needs the C(jsonschema) Python library on the controller.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.attributes.controller_action
attributes:
  check_mode:
    details: It changes nothing, so check mode gives the same answer.
  diff_mode:
    support: none
options:
  spec:
    description:
      - The toolbox spec, the mapping with C(name), C(version), C(servers) and optionally C(gateway).
    type: raw
    required: true
  secret_names:
    description:
      - Names of the secrets whose values you supply (for example the keys of a dictionary from Ansible Vault).
      - When given, every secret the spec refers to (gateway token and TLS secrets, server secrets, PostgreSQL
        passwords, including the default names) must be among them.
    type: list
    elements: str
requirements:
  - jsonschema (on the controller)
notes:
  - Secret values never go into the spec; only their names do.
"""

EXAMPLES = r"""
- name: Check the toolbox before touching any host
  agentopia.toolbox.toolbox_validate:
    spec: "{{ toolbox }}"
    secret_names: "{{ vault_toolbox_secrets.keys() | list }}"
  register: checked
  delegate_to: localhost
  run_once: true

- name: Deploy the normalized spec
  ansible.builtin.debug:
    msg: "{{ checked.spec.servers | map(attribute='name') | list }}"
"""

RETURN = r"""
spec:
  description: The spec with every default filled in (sizes with upper-case units, env values as strings).
  returned: success
  type: dict
  sample:
    name: research
    version: "1.4.0"
    gateway: {port: 8811, replicas: 1, token_secrets: [research_token], tls: null, memory: 128M,
              memory_reservation: 32M, cpus: 0.5, cpus_reservation: 0.05, placement: []}
    servers:
      - {name: clock, kind: time, image: null, version: null, port: 8000, path: /mcp, transport: streamable-http,
         args: [], env: {}, secrets: [], volumes: [], memory: 256M, memory_reservation: 64M, cpus: 0.5,
         cpus_reservation: 0.05, replicas: 1, placement: [], postgres: null}
errors:
  description: Every problem found, in field order.
  returned: failure because of the spec
  type: list
  elements: dict
  contains:
    path:
      description: The field, like C(toolbox.servers[2].memory).
      type: str
    message:
      description: What is wrong and what is allowed.
      type: str
  sample:
    - path: toolbox.servers[2].memory
      message: "'256MB' is not allowed: must be a size: an integer followed by K, M or G, like 256M"
"""
