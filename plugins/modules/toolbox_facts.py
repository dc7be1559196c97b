#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: toolbox_facts
short_description: Read the toolboxes' deployment records and compare them with what the swarm runs
version_added: 0.1.0
description:
  - Reads each toolbox's record that M(agentopia.toolbox.toolbox_record) keeps in C(<state_dir>/<name>.json) - the
    current version, the history of outcomes and the versions that can be deployed again - and returns it as the
    fact C(agentopia_toolboxes) (toolbox name -> facts) and as RV(toolboxes).
  - On a Swarm manager it also reads the labels of the toolboxes' services (C(org.agentopia.toolbox.version) and
    C(org.agentopia.toolbox.spec-hash)) and reports C(drift) when they disagree with the record, when a toolbox
    runs without a record, or when a recorded toolbox does not run.
  - On a worker, a host outside any swarm or without a reachable engine, the records are still returned, with
    C(live) null and RV(live_reason) saying why.
  - Reads only.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.docker
attributes:
  check_mode:
    details: The module reads only, so check mode gives the same answer.
  diff_mode:
    support: none
options:
  name:
    description: One toolbox to report; all recorded or live toolboxes when omitted.
    type: str
  state_dir:
    description: Directory of the state files.
    type: path
    default: /etc/agentopia/toolbox
notes:
  - A record that cannot be read is reported in that toolbox's C(error) (with C(drift) true), not as a failure,
    so one damaged file does not hide the others.
"""

EXAMPLES = r"""
- name: Read every toolbox's record and live state
  agentopia.toolbox.toolbox_facts:

- name: Stop when research is not what its record says
  ansible.builtin.assert:
    that: not agentopia_toolboxes.research.drift
    fail_msg: "{{ agentopia_toolboxes.research.drift_reasons | join('; ') }}"

- name: The versions research can be rolled back to
  ansible.builtin.debug:
    msg: "{{ agentopia_toolboxes.research.versions }}"
"""

RETURN = r"""
toolboxes:
  description:
    - Toolbox name -> its facts (the same as the fact C(agentopia_toolboxes)).
    - C(path) - its state file.
    - C(current) - what the record says runs (C(version), C(spec_hash), C(since), C(images), C(spec)), or null.
    - C(history) - list of C(time), C(version), C(spec_hash), C(outcome), C(detail) (and C(rolled_back) for
      failures), oldest first.
    - C(versions) - versions that can be deployed again, oldest first; C(recorded) holds their
      C(spec), C(images), C(spec_hash) and C(recorded) time.
    - C(live) - null, or C(version) (null when the services disagree), C(spec_hash) and C(services)
      (service name -> C(server), C(version), C(spec_hash)).
    - C(live_reason) - why C(live) is null, else null.
    - C(drift) - true when record and swarm disagree, null when the swarm could not be read; C(drift_reasons)
      says how.
    - C(error) - why the state file could not be read, else null.
  returned: always
  type: dict
  sample:
    research:
      path: /etc/agentopia/toolbox/research.json
      current: {version: "1.4.0", spec_hash: 3f1c0a9e5b7d2c41, since: "2026-11-25T14:12:03Z", images: {}, spec: {}}
      history: [{time: "2026-11-25T14:12:03Z", version: "1.4.0", spec_hash: 3f1c0a9e5b7d2c41, outcome: deployed,
                 detail: ""}]
      versions: ["1.4.0"]
      recorded: {}
      live: {version: "1.4.0", spec_hash: 3f1c0a9e5b7d2c41, services: {}}
      live_reason: null
      drift: false
      drift_reasons: []
      error: null
live_available:
  description: Whether the swarm's services could be read (this host is a reachable Swarm manager).
  returned: always
  type: bool
live_reason:
  description: Why the swarm's services could not be read, else null.
  returned: always
  type: str
  sample: this host is a swarm worker; live state is only known to managers (run toolbox_facts on a manager)
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils import _toolbox_state as state
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    DOCKER_IMPORT_ERROR,
    DockerException,
    ToolboxError,
    docker_client,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import run_module


def read_live(params: dict) -> tuple[dict | None, str | None]:
    """Toolbox name -> live state from the swarm, or None and the reason it cannot be read here."""
    if DOCKER_IMPORT_ERROR:
        return None, "the Docker SDK for Python is not installed on this host (Debian: python3-docker)"
    try:
        client = docker_client(params["docker_host"], params["timeout"])
    except ToolboxError as exc:
        return None, str(exc)
    try:
        swarm = client.info().get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active":
            return None, f"this host is not in a swarm (node state {swarm.get('LocalNodeState') or 'unknown'})"
        if not swarm.get("ControlAvailable"):
            return None, (
                "this host is a swarm worker; live state is only known to managers (run toolbox_facts on a manager)"
            )
        label = stack.TOOLBOX_LABEL + (f"={params['name']}" if params["name"] else "")
        services = client.api.services(filters={"label": label})
    except DockerException as exc:
        return None, f"the Docker engine at {params['docker_host']} refused to list services: {exc}"
    return state.live_toolboxes(services), None


def toolbox_facts(params: dict, name: str, live: dict | None, live_reason: str | None) -> dict:
    path = state.state_path(params["state_dir"], name)
    error = None
    try:
        doc = state.load(path, name)
    except state.StateError as exc:
        doc, error = None, str(exc)
    doc = doc or state.empty(name)
    facts = {
        "path": path,
        "current": doc["current"],
        "history": doc["history"],
        "versions": list(doc["versions"]),
        "recorded": doc["versions"],
        "live": None,
        "live_reason": live_reason,
        "drift": None,
        "drift_reasons": [],
        "error": error,
    }
    if live is not None:
        facts["live"] = live.get(name)
        if facts["live"] is None:
            facts["live_reason"] = f"no service on this swarm is labelled {stack.TOOLBOX_LABEL}={name}"
        facts["drift"], facts["drift_reasons"] = state.drift(doc["current"], facts["live"])
    if error:
        # Nothing can be said to match a record that cannot be read: show it as drift, with the reason.
        facts["drift"] = True
        facts["drift_reasons"] = ["the state file cannot be read"] + facts["drift_reasons"]
    return facts


def execute_module(module: AnsibleModule) -> dict:
    params = module.params
    if params["name"]:
        state.state_path(params["state_dir"], params["name"])  # a bad name fails before the engine is asked
    live, live_reason = read_live(params)
    if params["name"]:
        names = [params["name"]]
    else:
        names = sorted(set(state.recorded_names(params["state_dir"])) | set(live or {}))
    toolboxes = {name: toolbox_facts(params, name, live, live_reason) for name in names}
    return {
        "changed": False,
        "toolboxes": toolboxes,
        "live_available": live is not None,
        "live_reason": live_reason,
        "ansible_facts": {"agentopia_toolboxes": toolboxes},
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str"},
            "state_dir": {"type": "path", "default": state.DEFAULT_DIR},
            **DOCKER_CLIENT_ARGS,
        },
        supports_check_mode=True,
    )
    # Without the Docker SDK the facts still hold the records; read_live says why live state is missing.
    run_module(module, execute_module, name="toolbox_facts")


if __name__ == "__main__":
    main()
