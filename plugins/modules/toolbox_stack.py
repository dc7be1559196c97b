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
    O(purge=true).
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
report:
  description: Per failing service, its last task state, error and log lines.
  returned: failure after a change
  type: dict
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    DOCKER_IMPORT_ERROR,
    MANAGED_LABEL,
    ToolboxError,
    docker_client,
    services_by_secret,
    version_name,
)

TERMINAL_FAILURES = {"failed", "rejected", "orphaned"}
FAILURES_BEFORE_GIVING_UP = 3


class ServiceFailed(Exception):
    def __init__(self, report: dict, reason: str) -> None:
        super().__init__(reason)
        self.report = report
        self.reason = reason


class Toolbox:
    def __init__(self, module: AnsibleModule, client) -> None:
        self.module = module
        self.client = client
        self.spec = module.params["spec"]
        self.name = self.spec.get("name") if isinstance(self.spec, dict) else None
        if not self.name:
            raise ToolboxError("toolbox_stack: spec.name is missing; pass the spec returned by toolbox_validate")
        self.networks = stack.network_names(self.name)
        self.token_dir = os.path.join(module.params["token_dir"], self.name)
        self.result: dict = {"changed": False, "actions": {}, "networks": self.networks}

    # --- what is deployed ---------------------------------------------------------------------------
    def deployed(self) -> dict[str, dict]:
        """Service name -> the engine's service object, for this toolbox."""
        found = self.client.api.services(filters={"label": f"{stack.TOOLBOX_LABEL}={self.name}"})
        return {service["Spec"]["Name"]: service for service in found}

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
        tokens = self.token_file(values) if stack.reads_token_digests(self.spec) else None
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
            write_token_file(tokens["path"], tokens["after"])
        self.ensure_networks()
        self.ensure_secrets(versions, values)
        network_ids = {net["Name"]: net["Id"] for net in self.client.api.networks(names=list(self.networks.values()))}
        secret_ids = {s["Spec"]["Name"]: s["ID"] for s in self.client.api.secrets()}
        self.apply(actions, wanted, deployed, network_ids, secret_ids)
        try:
            self.wait([name for name, action in actions.items() if action in ("create", "update")])
        except ServiceFailed as failed:
            self.result["report"] = failed.report
            if self.module.params["rollback"]:
                self.result["rolled_back"] = self.roll_back(actions, deployed)
                if tokens_changed:
                    write_token_file(tokens["path"], tokens["before"])
            raise ToolboxError(self.failure_message(failed)) from None
        self.prune_secrets()
        return self.result

    def token_file(self, values: dict) -> dict:
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
        existing = {net["Name"] for net in self.client.api.networks(names=list(self.networks.values()))}
        return not set(self.networks.values()) <= existing

    def ensure_networks(self) -> None:
        existing = {net["Name"]: net for net in self.client.api.networks(names=list(self.networks.values()))}
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
        return {
            s["Spec"]["Name"] for s in self.client.api.secrets(filters={"label": f"{stack.TOOLBOX_LABEL}={self.name}"})
        }

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
        for secret in self.client.api.secrets(filters={"label": f"{stack.TOOLBOX_LABEL}={self.name}"}):
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

    def roll_back(self, actions: dict, before: dict) -> list[str]:
        """Put every service this run touched back as it was; returns their names."""
        now = self.deployed()
        touched = []
        for name, action in actions.items():
            if action == "unchanged":
                continue
            touched.append(name)
            if action == "create":
                if name in now:
                    self.client.api.remove_service(now[name]["ID"])
            else:  # update, relabel or remove: the spec deployed before this run
                self.put(before[name]["Spec"], now.get(name))
        self.wait(
            [name for name in touched if actions[name] != "create"],
            timeout=min(60, self.module.params["wait_timeout"]),
            strict=False,
        )
        return sorted(touched)

    # --- waiting ------------------------------------------------------------------------------------
    def wait(self, names: list[str], timeout: int | None = None, strict: bool = True) -> None:
        """Until each service has its replicas running on its current spec. Swarm reports a task
        `running` only once its health check passes, so running means healthy."""
        deadline = time.monotonic() + (timeout or self.module.params["wait_timeout"])
        pending = set(names)
        while pending:
            for name in sorted(pending):
                state = self.convergence(name)
                if state == "ready":
                    pending.discard(name)
                elif state == "failing" and strict:
                    raise ServiceFailed(self.report([name]), f"its tasks failed {FAILURES_BEFORE_GIVING_UP} times")
            if not pending:
                return
            if time.monotonic() > deadline:
                if strict:
                    waited = timeout or self.module.params["wait_timeout"]
                    raise ServiceFailed(self.report(sorted(pending)), f"not healthy within {waited} s")
                return
            time.sleep(1)

    def current_tasks(self, name: str) -> tuple[dict, list[dict]]:
        service = self.client.api.inspect_service(name)
        container = service["Spec"]["TaskTemplate"]["ContainerSpec"]
        tasks = self.client.api.tasks(filters={"service": name})
        # Tasks of an older spec are the ones being replaced: only the current spec's count.
        return service, [task for task in tasks if task["Spec"].get("ContainerSpec") == container]

    def convergence(self, name: str) -> str:
        service, tasks = self.current_tasks(name)
        replicas = service["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 1)
        running = [t for t in tasks if t["DesiredState"] == "running" and t["Status"]["State"] == "running"]
        failed = [t for t in tasks if t["Status"]["State"] in TERMINAL_FAILURES or _unhealthy_exit(t)]
        if len(running) >= replicas:
            return "ready"
        if len(failed) >= FAILURES_BEFORE_GIVING_UP:
            return "failing"
        return "waiting"

    def report(self, names: list[str]) -> dict:
        """Per service: where its newest task is, and the last error any of its tasks met."""
        report = {}
        for name in names:
            tasks = self.current_tasks(name)[1]
            tasks.sort(key=lambda t: t["Status"].get("Timestamp", ""))
            newest = tasks[-1]["Status"] if tasks else {}
            errors = [t["Status"] for t in tasks if t["Status"].get("Err")]
            last_error = errors[-1] if errors else {}
            report[name] = {
                "state": newest.get("State", "no task"),
                "error": last_error.get("Err", ""),
                "exit_code": last_error.get("ContainerStatus", {}).get("ExitCode"),
                "failed_tasks": len(errors),
                "logs": self.logs(name),
            }
        return report

    def logs(self, name: str) -> list[str]:
        try:
            raw = self.client.api.service_logs(
                name, stdout=True, stderr=True, tail=self.module.params["log_lines"], timestamps=False
            )
            text = b"".join(raw).decode(errors="replace")
        except Exception:  # pylint: disable=broad-exception-caught  # logs are a courtesy, never the failure
            return []
        return [line for line in text.splitlines() if line.strip()][-self.module.params["log_lines"] :]

    def failure_message(self, failed: ServiceFailed) -> str:
        parts = []
        for name, item in failed.report.items():
            logs = " | ".join(item["logs"][-5:]) or "no log lines"
            error = item["error"] or "no task error recorded"
            parts.append(
                f"{name} ({failed.reason}): newest task {item['state']}, last error: {error}; last logs: {logs}"
            )
        undone = self.result.get("rolled_back")
        tail = f" Rolled back to the previous definition: {', '.join(undone)}." if undone else " Not rolled back."
        return f"toolbox {self.name}: " + "; ".join(parts) + "." + tail

    # --- absent -------------------------------------------------------------------------------------
    def absent(self) -> dict:
        deployed = self.deployed()
        self.result["actions"] = {name: "remove" for name in deployed}
        self.result["services"] = []
        purge = self.module.params["purge"]
        networks = self.client.api.networks(names=list(self.networks.values())) if purge else []
        secrets = self.client.api.secrets(filters={"label": f"{stack.TOOLBOX_LABEL}={self.name}"}) if purge else []
        volumes = self.toolbox_volumes() if purge else []
        tokens = purge and os.path.isdir(self.token_dir)
        self.result["changed"] = bool(deployed or networks or secrets or volumes or tokens)
        if self.module._diff:
            self.result["diff"] = {
                "before": {name: stack.summary(s["Spec"]) for name, s in deployed.items()},
                "after": {},
            }
        if self.module.check_mode:
            return self.result
        for service in deployed.values():
            self.client.api.remove_service(service["ID"])
        if purge:
            self.wait_gone(deployed)
            for secret in secrets:
                self.client.api.remove_secret(secret["ID"])
            for net in networks:
                self.client.api.remove_network(net["Id"])
            for volume in self.toolbox_volumes():
                self.client.api.remove_volume(volume)
            if tokens:
                remove_token_file(self.token_dir)
        return self.result

    def toolbox_volumes(self) -> list[str]:
        found = self.client.api.volumes(filters={"label": f"{stack.TOOLBOX_LABEL}={self.name}"})
        return [volume["Name"] for volume in (found or {}).get("Volumes") or []]

    def wait_gone(self, removed: dict) -> None:
        """Networks and volumes stay busy until the removed services' containers are gone."""
        deadline = time.monotonic() + self.module.params["wait_timeout"]
        while time.monotonic() < deadline:
            if not self.client.api.containers(all=True, filters={"label": f"{stack.TOOLBOX_LABEL}={self.name}"}):
                return
            time.sleep(1)
        raise ToolboxError(
            f"toolbox {self.name}: containers of {', '.join(sorted(removed))} still present after removal"
        )


def write_token_file(path: str, content: str | None) -> None:
    """Replace the token file in one rename (the gateway sees the old file or the new one, never half of one);
    None removes it. Readable by the gateway's group only; the directory is what the gateway mounts."""
    if content is None:
        remove_token_file(os.path.dirname(path))
        return
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    os.chown(directory, 0, int(stack.UID))
    os.chmod(directory, 0o750)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tokens.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
            stream.flush()
            os.fchown(stream.fileno(), 0, int(stack.UID))
            os.fchmod(stream.fileno(), 0o640)
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def remove_token_file(directory: str) -> None:
    for entry in os.listdir(directory):
        os.unlink(os.path.join(directory, entry))
    os.rmdir(directory)


def _unhealthy_exit(task: dict) -> bool:
    """A task Swarm already replaced after its container exited or failed its health check."""
    status = task["Status"]
    return (
        task["DesiredState"] == "shutdown" and status["State"] in ("complete", "shutdown") and bool(status.get("Err"))
    )


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
    if DOCKER_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("docker (Debian: python3-docker)"), exception=DOCKER_IMPORT_ERROR)
    toolbox = None
    try:
        client = docker_client(module.params["docker_host"], module.params["timeout"])
        toolbox = Toolbox(module, client)
        result = toolbox.present() if module.params["state"] == "present" else toolbox.absent()
    except ToolboxError as exc:
        module.fail_json(msg=str(exc), **(toolbox.result if toolbox else {}))
    except Exception as exc:  # pylint: disable=broad-exception-caught  # the SDK raises many types
        module.fail_json(msg=f"toolbox_stack: the Docker engine refused: {exc}", **(toolbox.result if toolbox else {}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
