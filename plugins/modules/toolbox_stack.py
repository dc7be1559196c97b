#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: toolbox_stack
short_description: Deploy a toolbox (MCP servers behind one gateway) as a Swarm stack that converges or rolls back
version_added: 0.1.0
description:
  - Renders a toolbox spec (normalized by M(agentopia.toolbox.toolbox_validate)) into Swarm objects - one internal
    overlay network per toolbox, an edge network only the gateway joins, secrets named by their content, and one
    hardened service per server plus the gateway - and brings the swarm to it.
  - Every service runs as uid 10001 with a read-only root filesystem, all capabilities dropped, a tmpfs /tmp, pids,
    memory and CPU limits and reservations, the image's health check, a restart policy and log limits.
    No-new-privileges comes from the engine (role docker_engine sets it daemon-wide; Docker 20.10 services cannot).
  - Each service carries a hash of what makes Swarm replace its tasks; only services whose hash changed are updated,
    so changing one server restarts only that server.
  - After a change the module waits until every changed service has its replicas running and healthy. When one
    does not, it puts back the definitions that were deployed before (removing services it created, recreating
    those it removed) and fails with a report naming the service, its last task error and its last log lines.
  - O(state=absent) removes the toolbox's services; its networks, secrets and this node's volumes go only with
    O(purge=true). A purge whose networks a service outside the toolbox uses fails before removing anything.
  - Run it on a Swarm manager.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.docker
options:
  spec:
    description:
      - The toolbox, as returned by M(agentopia.toolbox.toolbox_validate) (defaults filled in).
      - See docs/toolbox-spec.md for every field.
    type: dict
    required: true
  images:
    description:
      - Image reference (preferably by digest) for each server kind in use and for C(gateway).
    type: dict
    default: {}
  secrets:
    description:
      - Secret name -> value for every secret the spec refers to. Values never appear in results, labels or the diff.
    type: dict
    default: {}
  state:
    description: C(present) deploys the toolbox; C(absent) removes its services.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description: With O(state=absent), also remove the toolbox's networks, secrets and volumes on this node.
    type: bool
    default: false
  endpoint_mode:
    description:
      - Endpoint mode of the servers. C(dnsrr) lets the gateway see and spread over every replica;
        it is also the only mode that works without IPVS (the lab).
    type: str
    choices: [dnsrr, vip]
    default: dnsrr
  publish_mode:
    description: How the gateway's port is published. C(ingress) needs the routing mesh; C(host) binds it on the node.
    type: str
    choices: [ingress, host]
    default: ingress
  gateway_hosts:
    description:
      - Host names and addresses clients reach the gateway by; requests naming any other Host are refused (DNS
        rebinding). Empty leaves the gateway's default (localhost only). C(*) accepts any.
    type: list
    elements: str
    default: []
  encrypted:
    description: Encrypt the toolbox's overlay networks (IPsec). Needs ESP between nodes.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the changed services to become healthy before rolling back.
    type: int
    default: 180
  rollback:
    description: Put back the previous definitions when a changed service does not become healthy.
    type: bool
    default: true
  log_lines:
    description: Last log lines of a failing service to include in the report.
    type: int
    default: 20
  token_dir:
    description:
      - Host directory for the token files of gateways with C(token_source=digests); each toolbox gets
        C(<token_dir>/<name>/tokens) with the sha256 digest of every token in its C(spec.gateway.token_secrets)
        values, never a token. The gateway mounts its toolbox's directory read-only, re-reads the file when it
        changes and is placed on the node the module runs on, which holds the file.
      - A new token value therefore rewrites the file and restarts nothing (playbooks/rotate-secrets.yml).
    type: path
    default: /etc/agentopia/toolbox/tokens
notes:
  - Volumes are created by Swarm on the node a task runs on; O(purge) removes those of the node the module runs on.
  - With C(token_source=digests) the token file is written before any service changes and put back as it was when
    a change is rolled back; O(state=absent) with O(purge=true) removes it.
"""

EXAMPLES = r"""
- name: Check the spec on the controller
  agentopia.toolbox.toolbox_validate:
    spec: "{{ toolbox }}"
    secret_names: "{{ toolbox_secrets.keys() | list }}"
  register: checked

- name: Deploy it
  agentopia.toolbox.toolbox_stack:
    spec: "{{ checked.spec }}"
    images: "{{ toolbox_images }}"
    secrets: "{{ toolbox_secrets }}"
    publish_mode: host
  register: stack

- name: Remove it and everything it owned
  agentopia.toolbox.toolbox_stack:
    spec: "{{ checked.spec }}"
    state: absent
    purge: true
"""

RETURN = r"""
actions:
  description: Service name -> C(create), C(update), C(relabel), C(remove) or C(unchanged).
  returned: always
  type: dict
  sample: {research_files: unchanged, research_time: update, research_gateway: unchanged}
services:
  description: Names of the toolbox's services after the run.
  returned: always
  type: list
  elements: str
networks:
  description: The internal and edge network names.
  returned: always
  type: dict
secrets:
  description: Secret name -> the Swarm secret (content-named version) services mount.
  returned: state=present
  type: dict
endpoint:
  description: Published port of the gateway.
  returned: state=present
  type: int
version:
  description: The toolbox version now labelled on its services.
  returned: state=present
  type: str
  sample: "1.4.0"
token_digests:
  description: Number of token digests in the gateway's token file (C(token_source=digests) only).
  returned: state=present and token_source=digests
  type: int
spec_hash:
  description: One hash over the services' hash labels; it changes exactly when some service's tasks would be replaced.
  returned: state=present
  type: str
  sample: 3f1c0a9e5b7d2c41
rolled_back:
  description: Services put back to their previous definition after a failed change.
  returned: failure after a change
  type: list
  elements: str
rollback_failed:
  description: Service -> the engine's error, for services the rollback could not put back.
  returned: failure after a change, when a rollback step failed
  type: dict
report:
  description: Per failing service, its last task state, error and log lines.
  returned: failure after a change
  type: dict
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack_health as health
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack_removal as removal
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack_rollback as rollback
from ansible_collections.agentopia.toolbox.plugins.module_utils import _token_file as token_file
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    MANAGED_LABEL,
    DockerException,
    ToolboxError,
    docker_client,
    services_by_secret,
    version_name,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import DOCKER_SDK, keeping, run_module

# The rollback waits for what it put back at most this long: the previous definitions ran before.
ROLLBACK_WAIT = 60


class Toolbox:
    """The engine calls of one toolbox; every decision is made in module_utils over their answers."""

    def __init__(self, module: AnsibleModule, client, clock=time.monotonic, sleep=time.sleep) -> None:
        self.module = module
        self.client = client
        self.clock, self.sleep = clock, sleep
        self.spec = module.params["spec"]
        self.name = self.spec.get("name") if isinstance(self.spec, dict) else None
        if not self.name:
            raise ToolboxError("toolbox_stack: spec.name is missing; pass the spec returned by toolbox_validate")
        self.networks = stack.network_names(self.name)
        self.token_dir = os.path.join(module.params["token_dir"], self.name)
        self.label = {"label": f"{stack.TOOLBOX_LABEL}={self.name}"}
        self.result: dict = {"changed": False, "actions": {}, "networks": self.networks}

    # --- what is deployed ---------------------------------------------------------------------------
    def deployed(self) -> dict[str, dict]:
        """Service name -> the engine's service object, for this toolbox."""
        return {service["Spec"]["Name"]: service for service in self.client.api.services(filters=self.label)}

    def observe(self, name: str) -> tuple[dict, list[dict]]:
        return self.client.api.inspect_service(name), self.client.api.tasks(filters={"service": name})

    def network_objects(self) -> list[dict]:
        names = set(self.networks.values())
        # The engine's name filter matches part of a name (rec_edge finds prec_edge): keep exact names only.
        return [net for net in self.client.api.networks(names=sorted(names)) if net["Name"] in names]

    # --- present ------------------------------------------------------------------------------------
    def present(self) -> dict:
        names = stack.referenced_secrets(self.spec)
        values = self.module.params["secrets"]
        missing = [name for name in names if name not in values]
        if missing:
            raise ToolboxError(
                f"toolbox {self.name}: no value for secret(s) {', '.join(missing)}; "
                "add them to the secrets option (from Ansible Vault)"
            )
        derived = stack.derived_secrets(self.spec, values)
        values = {**{name: str(values[name]) for name in names}, **derived}
        mounted = set(stack.referenced_secrets(self.spec, mounted=True)) | set(derived)
        versions = {
            name: version_name(f"{self.name}_{name}", value) for name, value in values.items() if name in mounted
        }
        tokens = self.token_state(values) if stack.reads_token_digests(self.spec) else None
        try:
            rendered = stack.render(
                self.spec,
                self.module.params["images"],
                versions,
                endpoint_mode=self.module.params["endpoint_mode"],
                publish_mode=self.module.params["publish_mode"],
                gateway_hosts=self.module.params["gateway_hosts"],
                token_dir=self.token_dir if tokens else None,
                node_id=tokens["node_id"] if tokens else None,
            )
        except KeyError as exc:
            raise ToolboxError(
                f"toolbox {self.name}: no image for {exc.args[0]!r}; "
                "add it to the images option (role mcp_images sets mcp_images_refs)"
            ) from exc
        wanted = rendered["services"]
        deployed = self.deployed()
        actions = stack.plan(wanted, {name: svc["Spec"] for name, svc in deployed.items()})
        self.result.update(
            actions=actions,
            secrets=versions,
            endpoint=int(self.spec["gateway"]["port"]),
            version=str(self.spec["version"]),
            spec_hash=stack.stack_hash(wanted),
        )
        self.result["services"] = sorted(wanted)
        changed_services = {name for name, action in actions.items() if action != "unchanged"}
        tokens_changed = bool(tokens) and tokens["before"] != tokens["after"]
        self.result["changed"] = (
            bool(changed_services) or tokens_changed or self.needs_networks() or self.needs_secrets(versions)
        )
        if tokens:
            self.result["token_digests"] = tokens["after"].count("sha256:")
        if self.module._diff:
            self.result["diff"] = {
                "before": {name: stack.summary(svc["Spec"]) for name, svc in sorted(deployed.items())},
                "after": {name: stack.summary(spec) for name, spec in sorted(wanted.items())},
            }
            if tokens:  # digests are not secret, but their count says all a reviewer needs
                self.result["diff"]["before"]["token_digests"] = (tokens["before"] or "").count("sha256:")
                self.result["diff"]["after"]["token_digests"] = self.result["token_digests"]
        if self.module.check_mode or not self.result["changed"]:
            return self.result

        if tokens_changed:  # before the gateway starts or changes, so it finds its tokens
            token_file.write(tokens["path"], tokens["after"])
        self.ensure_networks()
        self.ensure_secrets(versions, values)
        network_ids = {net["Name"]: net["Id"] for net in self.network_objects()}
        secret_ids = {s["Spec"]["Name"]: s["ID"] for s in self.client.api.secrets()}
        self.apply(actions, wanted, deployed, network_ids, secret_ids)
        changed = [name for name, action in actions.items() if action in ("create", "update")]
        failure = self.wait(changed, self.module.params["wait_timeout"])
        if failure:
            self.fail_after_change(failure, actions, deployed, tokens if tokens_changed else None)
        self.prune_secrets()
        return self.result

    def fail_after_change(self, failure: health.Unsettled, actions: dict, before: dict, tokens: dict | None) -> None:
        """Report the failing services, put back what this run changed when asked to, and fail saying both."""
        self.result["report"] = {name: self.report(name) for name in failure.names}
        undone = None
        if self.module.params["rollback"]:
            undone = self.roll_back(actions, before)
            self.result["rolled_back"] = undone.rolled_back
            if undone.failed:
                self.result["rollback_failed"] = undone.failed
            if tokens:
                token_file.write(tokens["path"], tokens["before"])
        # The result travels with the error: the report and what was rolled back belong in the failure.
        raise ToolboxError(rollback.failure_message(self.name, failure, self.result["report"], undone), self.result)

    def token_state(self, values: dict) -> dict:
        """The gateway's token file on this node: where it is, what it holds now and what it must hold."""
        path = os.path.join(self.token_dir, stack.TOKEN_FILE)
        try:
            with open(path, encoding="utf-8") as handle:
                before = handle.read()
        except FileNotFoundError:
            before = None
        after = stack.token_digests([values[name] for name in self.spec["gateway"]["token_secrets"]])
        node_id = self.client.info()["Swarm"]["NodeID"]
        return {"path": path, "before": before, "after": after, "node_id": node_id}

    def needs_networks(self) -> bool:
        existing = {net["Name"] for net in self.network_objects()}
        return not set(self.networks.values()) <= existing

    def ensure_networks(self) -> None:
        existing = {net["Name"]: net for net in self.network_objects()}
        for role, name in self.networks.items():
            internal = role == "internal"
            if name in existing:
                if bool(existing[name].get("Internal")) != internal:
                    raise ToolboxError(
                        f"toolbox {self.name}: network {name} exists with internal={not internal}; "
                        "remove the toolbox with state=absent purge=true to recreate it"
                    )
                continue
            options = {"encrypted": ""} if self.module.params["encrypted"] else {}
            self.client.api.create_network(
                name,
                driver="overlay",
                internal=internal,
                attachable=False,
                scope="swarm",
                options=options,
                labels={stack.NAMESPACE_LABEL: self.name, stack.TOOLBOX_LABEL: self.name, MANAGED_LABEL: name},
            )

    def existing_secrets(self) -> set[str]:
        return {s["Spec"]["Name"] for s in self.client.api.secrets(filters=self.label)}

    def needs_secrets(self, versions: dict) -> bool:
        return not set(versions.values()) <= self.existing_secrets()

    def ensure_secrets(self, versions: dict, values: dict) -> None:
        existing = self.existing_secrets()
        for name, version in versions.items():
            if version not in existing:
                self.client.api.create_secret(
                    version,
                    values[name].encode(),
                    labels={stack.TOOLBOX_LABEL: self.name, MANAGED_LABEL: f"{self.name}_{name}"},
                )

    def prune_secrets(self) -> None:
        """Old versions of this toolbox's secrets, once no service mounts them."""
        in_use = services_by_secret(self.client)
        for secret in self.client.api.secrets(filters=self.label):
            if secret["ID"] not in in_use:
                self.client.api.remove_secret(secret["ID"])

    # --- applying and undoing -----------------------------------------------------------------------
    @staticmethod
    def resolved(spec: dict, network_ids: dict, secret_ids: dict) -> dict:
        """The rendered spec with network and secret names replaced by the IDs the engine wants."""
        template = dict(spec["TaskTemplate"])
        template["Networks"] = [{**net, "Target": network_ids[net["Target"]]} for net in template["Networks"]]
        container = dict(template["ContainerSpec"])
        container["Secrets"] = [{**ref, "SecretID": secret_ids[ref["SecretName"]]} for ref in container["Secrets"]]
        template["ContainerSpec"] = container
        return {**spec, "TaskTemplate": template}

    def put(self, spec: dict, current: dict | None) -> None:
        """Create a service from a full ServiceSpec, or replace the spec of an existing one."""
        args = {
            "task_template": spec["TaskTemplate"],
            "name": spec["Name"],
            "labels": spec.get("Labels"),
            "mode": spec.get("Mode"),
            "update_config": spec.get("UpdateConfig"),
            "rollback_config": spec.get("RollbackConfig"),
            "endpoint_spec": spec.get("EndpointSpec"),
        }
        if current is None:
            self.client.api.create_service(**args)
        else:
            self.client.api.update_service(current["ID"], current["Version"]["Index"], **args)

    def apply(self, actions: dict, wanted: dict, deployed: dict, network_ids: dict, secret_ids: dict) -> None:
        for name, action in actions.items():
            if action == "remove":
                self.client.api.remove_service(deployed[name]["ID"])
            elif action in ("create", "update", "relabel"):
                self.put(self.resolved(wanted[name], network_ids, secret_ids), deployed.get(name))

    def roll_back(self, actions: dict, before: dict) -> rollback.RollbackOutcome:
        """Put every service this run touched back as it was. A step the engine refuses does not stop the
        others: the outcome says which failed, and which of those put back did not become healthy."""
        outcome = rollback.RollbackOutcome(actions)
        for step in rollback.rollback_steps(actions, before, self.deployed()):
            try:
                if step.spec is None:
                    self.client.api.remove_service(step.current["ID"])
                else:
                    self.put(step.spec, step.current)
            except DockerException as exc:
                outcome.failed[step.service] = str(exc)
        timeout = min(ROLLBACK_WAIT, self.module.params["wait_timeout"])
        outcome.unsettled = self.wait(rollback.to_wait_for(actions, outcome.failed), timeout, stop_on_failure=False)
        return outcome

    # --- waiting and reporting ----------------------------------------------------------------------
    def wait(self, names: list[str], timeout: float, stop_on_failure: bool = True) -> health.Unsettled | None:
        return health.wait(
            names, self.observe, timeout, stop_on_failure=stop_on_failure, clock=self.clock, sleep=self.sleep
        )

    def report(self, name: str) -> dict:
        service, tasks = self.observe(name)
        return health.service_report(health.current_tasks(service, tasks), self.logs(name))

    def logs(self, name: str) -> list[str]:
        lines = self.module.params["log_lines"]
        try:
            raw = self.client.api.service_logs(name, stdout=True, stderr=True, tail=lines, timestamps=False)
            text = b"".join(raw).decode(errors="replace")
        except Exception:  # pylint: disable=broad-exception-caught  # logs are a courtesy, never the failure
            return []
        return [line for line in text.splitlines() if line.strip()][-lines:]

    # --- absent -------------------------------------------------------------------------------------
    def absent(self) -> dict:
        deployed = self.deployed()
        self.result["actions"] = {name: "remove" for name in deployed}
        self.result["services"] = []
        purge = self.module.params["purge"]
        plan = removal.removal(
            deployed,
            self.network_objects() if purge else [],
            self.client.api.secrets(filters=self.label) if purge else [],
            self.toolbox_volumes() if purge else [],
            purge=purge,
            token_dir=purge and os.path.isdir(self.token_dir),
        )
        if plan.networks:
            users = removal.networks_in_use(plan.networks, self.client.api.services(), set(deployed))
            if users:
                raise ToolboxError(removal.in_use_message(self.name, users))
        self.result["changed"] = plan.changed
        if self.module._diff:
            self.result["diff"] = {
                "before": {name: stack.summary(s["Spec"]) for name, s in deployed.items()},
                "after": {},
            }
        if self.module.check_mode:
            return self.result
        for service in plan.services:
            self.client.api.remove_service(service["ID"])
        if purge:
            self.wait_gone(deployed)
            for secret in plan.secrets:
                self.client.api.remove_secret(secret["ID"])
            for net in plan.networks:
                self.client.api.remove_network(net["Id"])
            # Read again: a removed task's container may have created a volume after the plan was made.
            for volume in self.toolbox_volumes():
                self.client.api.remove_volume(volume)
            if plan.token_dir:
                token_file.remove(self.token_dir)
        return self.result

    def toolbox_volumes(self) -> list[str]:
        return removal.volume_names(self.client.api.volumes(filters=self.label))

    def wait_gone(self, removed: dict) -> None:
        """Networks and volumes stay busy until the removed services' containers are gone."""
        deadline = self.clock() + self.module.params["wait_timeout"]
        while self.clock() < deadline:
            if not self.client.api.containers(all=True, filters=self.label):
                return
            self.sleep(1)
        raise ToolboxError(
            f"toolbox {self.name}: containers of {', '.join(sorted(removed))} still present after removal"
        )


def execute_module(module: AnsibleModule) -> dict:
    client = docker_client(module.params["docker_host"], module.params["timeout"])
    toolbox = Toolbox(module, client)
    # A failure part-way still reports what was done (changed, actions).
    with keeping(toolbox.result):
        return toolbox.present() if module.params["state"] == "present" else toolbox.absent()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "spec": {"type": "dict", "required": True},
            "images": {"type": "dict", "default": {}},
            "secrets": {"type": "dict", "default": {}, "no_log": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "purge": {"type": "bool", "default": False},
            "endpoint_mode": {"type": "str", "choices": ["dnsrr", "vip"], "default": "dnsrr"},
            "publish_mode": {"type": "str", "choices": ["ingress", "host"], "default": "ingress"},
            "gateway_hosts": {"type": "list", "elements": "str", "default": []},
            "encrypted": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 180},
            "rollback": {"type": "bool", "default": True},
            "log_lines": {"type": "int", "default": 20},
            "token_dir": {"type": "path", "default": "/etc/agentopia/toolbox/tokens"},
            **DOCKER_CLIENT_ARGS,
        },
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="toolbox_stack", needs=(DOCKER_SDK,))


if __name__ == "__main__":
    main()
