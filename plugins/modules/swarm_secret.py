#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_secret
short_description: Swarm secrets named by their content, old versions pruned once unused
version_added: 0.1.0
description:
  - Creates the Swarm secret C(<name>_<hash>), where C(<hash>) is the first 12 hex digits of a SHA-256 over the name
    and the value. A new value is a new secret, so services move to it by a normal update (rotation without
    editing anything by hand), while services still on the old value keep working.
  - Removes older versions of the same secret once no service refers to them any more.
  - community.docker.docker_secret with C(rolling_versions) numbers versions and prunes by count, even a version a
    running service still uses; this module names versions by content and prunes by use.
  - The value never appears in the result, the secret's labels, or the module's diff.
  - Run it on a Swarm manager.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.docker
options:
  name:
    description: Logical name of the secret; versions are named C(<name>_<hash>). At most 51 characters.
    type: str
    required: true
  data:
    description: The secret value. Required with O(state=present).
    type: str
  labels:
    description: Extra labels for new versions (never put a secret value in a label).
    type: dict
    default: {}
  state:
    description: C(present) creates the current version; C(absent) removes every version no service uses.
    type: str
    choices: [present, absent]
    default: present
  prune:
    description: With O(state=present), remove older versions that no service uses.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Gateway token from Ansible Vault
  agentopia.toolbox.swarm_secret:
    name: research_token
    data: "{{ vault_research_token }}"
  no_log: true
  register: token

- name: Use the current version in a service
  ansible.builtin.debug:
    msg: "mount {{ token.secret_name }} as /run/secrets/research_token"

- name: Remove every unused version
  agentopia.toolbox.swarm_secret:
    name: research_token
    state: absent
"""

RETURN = r"""
secret_name:
  description: Name of the current version (with O(state=present)).
  returned: success and O(state=present)
  type: str
  sample: research_token_3f1c2a9b7d10
secret_id:
  description: ID of the current version; empty in check mode when it would be created.
  returned: success and O(state=present)
  type: str
versions:
  description: Names of the versions that remain.
  returned: success
  type: list
  elements: str
pruned:
  description: Names of the versions removed (or that would be, in check mode).
  returned: success
  type: list
  elements: str
in_use:
  description: Older versions kept because a service still refers to them, with the services' names.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    MANAGED_LABEL,
    ToolboxError,
    docker_client,
    services_by_secret,
    version_name,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import DOCKER_SDK, run_module

# Docker allows 64 characters; "_" and 12 hex digits take 13.
MAX_NAME = 51


class SwarmSecret:
    def __init__(self, module: AnsibleModule, client) -> None:
        self.module = module
        self.client = client
        self.name = module.params["name"]
        self.result = {"changed": False, "pruned": [], "in_use": {}}

    def versions(self):
        return self.client.secrets.list(filters={"label": f"{MANAGED_LABEL}={self.name}"})

    def present(self) -> dict:
        data = self.module.params["data"]
        wanted = version_name(self.name, data)
        versions = self.versions()
        current = next((v for v in versions if v.name == wanted), None)
        before = sorted(v.name for v in versions)
        if current is None:
            self.result["changed"] = True
            if not self.module.check_mode:
                labels = {**self.module.params["labels"], MANAGED_LABEL: self.name}
                current = self.client.secrets.create(name=wanted, data=data.encode(), labels=labels)
        self.result["secret_name"] = wanted
        self.result["secret_id"] = current.id if current is not None else ""
        if self.module.params["prune"]:
            self.remove_unused([v for v in versions if v.name != wanted])
        after = sorted({wanted, *before} - set(self.result["pruned"]))
        return self.finish(before, after)

    def absent(self) -> dict:
        versions = self.versions()
        before = sorted(v.name for v in versions)
        self.remove_unused(versions)
        return self.finish(before, sorted(set(before) - set(self.result["pruned"])))

    def remove_unused(self, candidates) -> None:
        users = services_by_secret(self.client) if candidates else {}
        for secret in candidates:
            if secret.id in users:
                self.result["in_use"][secret.name] = sorted(users[secret.id])
                continue
            self.result["pruned"].append(secret.name)
            self.result["changed"] = True
            if not self.module.check_mode:
                secret.remove()

    def finish(self, before: list[str], after: list[str]) -> dict:
        self.result["versions"] = after
        if self.module._diff:
            self.result["diff"] = {"before": {"versions": before}, "after": {"versions": after}}
        return self.result


def execute_module(module: AnsibleModule) -> dict:
    name = module.params["name"]
    if not name or len(name) > MAX_NAME:
        raise ToolboxError(f"swarm_secret name must be 1 to {MAX_NAME} characters, got {name!r}")
    # required_if only checks that data is given: data set to null (a variable that is null) passes it.
    if module.params["state"] == "present" and module.params["data"] is None:
        raise ToolboxError(f"swarm_secret {name}: data is required with state=present")
    client = docker_client(module.params["docker_host"], module.params["timeout"])
    secret = SwarmSecret(module, client)
    return secret.present() if module.params["state"] == "present" else secret.absent()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "data": {"type": "str", "no_log": True},
            "labels": {"type": "dict", "default": {}},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "prune": {"type": "bool", "default": True},
            **DOCKER_CLIENT_ARGS,
        },
        required_if=[("state", "present", ["data"])],
        supports_check_mode=True,
    )
    run_module(module, execute_module, name=f"swarm_secret {module.params['name']}", needs=(DOCKER_SDK,))


if __name__ == "__main__":
    main()
