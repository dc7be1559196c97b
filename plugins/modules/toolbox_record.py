#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: toolbox_record
short_description: Record a toolbox deployment's outcome in a state file on the host
version_added: 0.1.0
description:
  - Keeps the deployment record of one toolbox in C(<state_dir>/<name>.json) - what runs now, a history of outcomes,
    and the spec and images of every version deployed successfully - so the state survives any process and
    a playbook can redeploy a recorded version exactly. The format is described in docs/state.md.
  - O(outcome=deployed) and O(outcome=rolled_back) make the version current and remember its spec and images.
    Recording the version and spec hash that are already current changes nothing (no history entry), so a
    role rerun stays unchanged - except O(outcome=rolled_back) right after a C(failed) entry, which records
    the return to the current version once.
  - O(outcome=failed) adds a history entry and leaves the current version alone (a failed change that
    M(agentopia.toolbox.toolbox_stack) rolled back leaves the previous version running).
  - O(outcome=removed) clears the current version; it records nothing while nothing is current and the
    last entry already says removed.
  - The file is replaced atomically (a temporary file in the same directory, flushed to disk, then renamed),
    mode 0600 in a 0700 directory; run it as root.
  - A file that is not a valid record is never overwritten; the module fails naming the file and the fix.
  - Read the record with M(agentopia.toolbox.toolbox_facts).
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
options:
  name:
    description: The toolbox name (the spec's C(name)).
    type: str
    required: true
  outcome:
    description: What happened to the toolbox.
    type: str
    required: true
    choices: [deployed, failed, rolled_back, removed]
  version:
    description:
      - The toolbox version the outcome is about, as M(agentopia.toolbox.toolbox_stack) returns it.
      - Required unless O(outcome=removed), which defaults to the current version.
    type: str
  spec_hash:
    description:
      - The toolbox's spec hash, as M(agentopia.toolbox.toolbox_stack) returns it.
      - Required with O(outcome=deployed) and O(outcome=rolled_back).
    type: str
  spec:
    description:
      - The normalized toolbox spec that was deployed (from M(agentopia.toolbox.toolbox_validate)). It names
        secrets but holds no secret value, so it is safe to store.
      - Required with O(outcome=deployed) and O(outcome=rolled_back).
    type: dict
  images:
    description: Kind -> image reference, as given to M(agentopia.toolbox.toolbox_stack).
    type: dict
    default: {}
  detail:
    description: A note for the history entry, such as the failure message; kept up to 2000 characters.
    type: str
    default: ""
  rolled_back:
    description: With O(outcome=failed), the services M(agentopia.toolbox.toolbox_stack) put back (its C(rolled_back)).
    type: list
    elements: str
    default: []
  keep:
    description: History entries, and successfully deployed versions, to keep (the oldest go first).
    type: int
    default: 50
  state_dir:
    description: Directory of the state files.
    type: path
    default: /etc/agentopia/toolbox
"""

EXAMPLES = r"""
- name: Deploy the toolbox
  agentopia.toolbox.toolbox_stack:
    spec: "{{ checked.spec }}"
    images: "{{ toolbox_images }}"
    secrets: "{{ toolbox_secrets }}"
  register: stack

- name: Record it
  agentopia.toolbox.toolbox_record:
    name: "{{ checked.spec.name }}"
    outcome: deployed
    version: "{{ stack.version }}"
    spec_hash: "{{ stack.spec_hash }}"
    spec: "{{ checked.spec }}"
    images: "{{ toolbox_images }}"

- name: Record a failed change (after toolbox_stack failed; its result registered as stack)
  agentopia.toolbox.toolbox_record:
    name: research
    outcome: failed
    version: "{{ checked.spec.version }}"
    spec_hash: "{{ stack.spec_hash | default(omit) }}"
    detail: "{{ stack.msg }}"
    rolled_back: "{{ stack.rolled_back | default([]) }}"
"""

RETURN = r"""
path:
  description: The state file.
  returned: always
  type: str
  sample: /etc/agentopia/toolbox/research.json
entry:
  description: The history entry this run added (or would add in check mode); null when nothing changed.
  returned: always
  type: dict
  sample: {time: "2026-11-25T14:12:03Z", version: "1.4.0", spec_hash: 3f1c0a9e5b7d2c41, outcome: deployed, detail: ""}
record:
  description:
    - The whole record after this run (in check mode, as it would be) - C(schema), C(name), C(current),
      C(history) and C(versions), as docs/state.md describes.
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils import _toolbox_state as state
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import ToolboxError
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import run_module


def check_spec(params: dict) -> None:
    """The spec must be the one the outcome is about: a mix-up would make a later rollback deploy the wrong thing."""
    spec = params["spec"]
    if spec is None:
        return
    if spec.get("name") != params["name"]:
        raise ToolboxError(f"toolbox_record: spec.name is {spec.get('name')!r} but name is {params['name']!r}")
    if params["version"] is not None and str(spec.get("version")) != params["version"]:
        raise ToolboxError(
            f"toolbox {params['name']}: spec.version is {spec.get('version')!r} but version is "
            f"{params['version']!r}; pass the spec that was deployed"
        )


def execute_module(module: AnsibleModule) -> dict:
    params = module.params
    check_spec(params)
    path = state.state_path(params["state_dir"], params["name"])

    def apply(before: dict | None) -> tuple[dict, dict | None]:
        return state.record(
            before,
            params["name"],
            params["outcome"],
            version=params["version"],
            spec_hash=params["spec_hash"],
            spec=params["spec"],
            images=params["images"],
            detail=params["detail"],
            rolled_back=params["rolled_back"],
            keep=params["keep"],
        )

    if module.check_mode:
        before = state.load(path, params["name"])
        after, entry = apply(before)
    else:
        # Without a state dir nothing is recorded yet; a no-op must not create one.
        exists = os.path.isdir(params["state_dir"])
        before = state.load(path, params["name"]) if exists else None
        after, entry = apply(before)
        if entry is not None:
            with state.locked(params["state_dir"]):
                # Read again under the lock: another run may have recorded in between.
                before = state.load(path, params["name"])
                after, entry = apply(before)
                if entry is not None:
                    state.write(path, after)
    result = {"changed": entry is not None, "path": path, "entry": entry, "record": after}
    if module._diff:
        result["diff"] = {"before": state.diff_view(before), "after": state.diff_view(after)}
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "outcome": {"type": "str", "required": True, "choices": list(state.OUTCOMES)},
            "version": {"type": "str"},
            "spec_hash": {"type": "str"},
            "spec": {"type": "dict"},
            "images": {"type": "dict", "default": {}},
            "detail": {"type": "str", "default": ""},
            "rolled_back": {"type": "list", "elements": "str", "default": []},
            "keep": {"type": "int", "default": 50},
            "state_dir": {"type": "path", "default": state.DEFAULT_DIR},
        },
        required_if=[
            ("outcome", "deployed", ["version", "spec_hash", "spec"]),
            ("outcome", "rolled_back", ["version", "spec_hash", "spec"]),
            ("outcome", "failed", ["version"]),
        ],
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="toolbox_record")


if __name__ == "__main__":
    main()
