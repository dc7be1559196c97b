# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A toolbox spec rendered into Swarm objects, as plain data (private to the collection).

Pure functions: no Docker access, so the rendering, hashing and planning are unit-tested on their own.
Services are rendered in the Engine API's ServiceSpec shape, with networks and secrets by *name*; the
module resolves names to IDs just before it talks to the engine. The hash of a service covers what
makes Swarm replace its tasks (task template, mode, endpoint), never the labels that only describe it.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

from ansible_collections.agentopia.toolbox.plugins.module_utils._size import size_bytes

# Labels on everything a toolbox owns. The stack namespace makes `docker stack ps <toolbox>` work.
NAMESPACE_LABEL = "com.docker.stack.namespace"
TOOLBOX_LABEL = "org.agentopia.toolbox.name"
SERVER_LABEL = "org.agentopia.toolbox.server"
VERSION_LABEL = "org.agentopia.toolbox.version"
HASH_LABEL = "org.agentopia.toolbox.spec-hash"

UID = "10001"
GATEWAY = "gateway"
GATEWAY_PORT = 8811
BRIDGE_PORT = 8000
SECONDS = 1_000_000_000  # the Engine API counts durations in nanoseconds
PIDS_LIMIT = 256
TMP_BYTES = 64 * 1024 * 1024
LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}


def nano_cpus(cpus: float) -> int:
    return round(float(cpus) * SECONDS)


def content_hash(data) -> str:
    """SHA-256 over canonical JSON: equal data, equal hash, whatever the key order."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def network_names(toolbox: str) -> dict[str, str]:
    """The internal overlay every service joins, and the edge network only the gateway joins."""
    return {"internal": f"{toolbox}_internal", "edge": f"{toolbox}_edge"}


# token_source "digests": the gateway reads its tokens' sha256 digests from a host directory, mounted read-only.
TOKEN_MOUNT = "/run/agentopia/tokens"
TOKEN_FILE = "tokens"


def reads_token_digests(spec: dict) -> bool:
    """The gateway takes its tokens as digests from a host file, not as Swarm secrets."""
    return spec["gateway"].get("token_source") == "digests"


def token_digests(values: list[str]) -> str:
    """The token file's content: one 'sha256:<hex>' line per token (a secret value may hold several, one a line)."""
    tokens = {line.strip() for value in values for line in str(value).splitlines() if line.strip()}
    digests = sorted(hashlib.sha256(token.encode()).hexdigest() for token in tokens)
    return "# gateway tokens as sha256 digests, written by agentopia.toolbox (toolbox_stack)\n" + "".join(
        f"sha256:{digest}\n" for digest in digests
    )


def referenced_secrets(spec: dict, *, mounted: bool = False) -> list[str]:
    """Every secret name the spec refers to, in a stable order; with mounted, only those services mount (token
    secrets of a gateway with token_source digests reach the node as digests, never as Swarm secrets)."""
    names = [] if mounted and reads_token_digests(spec) else list(spec["gateway"]["token_secrets"])
    tls = spec["gateway"].get("tls") or {}
    names += [tls[key] for key in ("cert_secret", "key_secret") if tls.get(key)]
    for server in spec["servers"]:
        names += [ref["name"] for ref in server.get("secrets") or []]
        if server.get("kind") == "postgres" and server.get("postgres"):
            names.append(server["postgres"]["password_secret"])
    return list(dict.fromkeys(names))


def database_host(spec: dict, server: dict) -> str:
    postgres = server["postgres"]
    return postgres.get("host") or f"{spec['name']}_{server['name']}-db"


def uri_secret(server: dict) -> str:
    return f"{server['name']}_database_uri"


def derived_secrets(spec: dict, values: dict) -> dict[str, str]:
    """Secrets the module composes from the user's: postgres-mcp wants one URI holding the password."""
    derived = {}
    for server in spec["servers"]:
        postgres = server.get("postgres")
        if server.get("kind") != "postgres" or not postgres:
            continue
        password = quote(str(values[postgres["password_secret"]]), safe="")
        user = quote(postgres["user"], safe="")
        derived[uri_secret(server)] = (
            f"postgresql://{user}:{password}@{database_host(spec, server)}:{postgres['port']}/{postgres['database']}"
        )
    return derived


def server_url(spec: dict, server: dict) -> str:
    """Where the gateway reaches a server: its service name on the internal overlay."""
    port, path = BRIDGE_PORT, "/mcp"
    if server.get("image"):  # a custom image says where it serves
        port, path = server.get("port") or BRIDGE_PORT, server.get("path") or "/mcp"
    return f"http://{spec['name']}_{server['name']}:{port}{path}"


def server_image(server: dict, images: dict) -> str:
    """A custom image as given; a kind's image from the built set, or its repository at another tag."""
    if server.get("image"):
        return server["image"]
    kind = server["kind"]
    if kind not in images:
        raise KeyError(kind)
    if not server.get("version"):
        return images[kind]
    repository = images[kind].split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return f"{repository}:{server['version']}"


def _secret_mounts(refs: list[tuple[str, str]]) -> list[dict]:
    # 0400 for uid 10001 only: the container user can read it, nobody else in the container can.
    return [
        {"SecretName": version, "File": {"Name": name, "UID": UID, "GID": UID, "Mode": 0o400}} for name, version in refs
    ]


def _task_template(
    *,
    image: str,
    args: list[str],
    env: dict,
    secrets: list[tuple[str, str]],
    volumes: list[dict],
    labels: dict,
    networks: list[dict],
    memory: str,
    memory_reservation: str,
    cpus: float,
    cpus_reservation: float,
    placement: list[str],
    binds: list[dict] | None = None,
) -> dict:
    """Every service's hardening in one place: non-root, read-only rootfs, no capabilities, limits."""
    mounts = [{"Type": "tmpfs", "Target": "/tmp", "TmpfsOptions": {"SizeBytes": TMP_BYTES, "Mode": 0o1777}}]
    mounts += [
        {
            "Type": "volume",
            "Source": volume["source"],
            "Target": volume["target"],
            "ReadOnly": bool(volume.get("read_only", True)),
            "VolumeOptions": {"Labels": labels},
        }
        for volume in volumes
    ]
    mounts += [
        {"Type": "bind", "Source": bind["source"], "Target": bind["target"], "ReadOnly": True} for bind in binds or []
    ]
    container = {
        "Image": image,
        "Env": sorted(f"{key}={_env_value(value)}" for key, value in env.items()),
        "User": f"{UID}:{UID}",
        "ReadOnly": True,
        "CapabilityDrop": ["ALL"],
        "Mounts": mounts,
        "Secrets": _secret_mounts(secrets),
        "Labels": labels,
        "StopGracePeriod": 10 * SECONDS,
    }
    if args:
        container["Args"] = list(args)
    template = {
        "ContainerSpec": container,
        "Resources": {
            "Limits": {"MemoryBytes": size_bytes(memory), "NanoCPUs": nano_cpus(cpus), "Pids": PIDS_LIMIT},
            "Reservations": {"MemoryBytes": size_bytes(memory_reservation), "NanoCPUs": nano_cpus(cpus_reservation)},
        },
        "RestartPolicy": {"Condition": "any", "Delay": 2 * SECONDS, "MaxAttempts": 0},
        "Networks": networks,
        "LogDriver": {"Name": "json-file", "Options": dict(LOG_OPTIONS)},
    }
    if placement:
        template["Placement"] = {"Constraints": list(placement)}
    return template


def _env_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _service(name: str, labels: dict, template: dict, replicas: int, endpoint: dict, order: str) -> dict:
    return {
        "Name": name,
        "Labels": labels,
        "TaskTemplate": template,
        "Mode": {"Replicated": {"Replicas": int(replicas)}},
        # start-first keeps a server answering during its update; the gateway's host-mode port cannot be
        # bound twice on one node, so it stops first.
        "UpdateConfig": {"Parallelism": 1, "Order": order, "FailureAction": "pause", "Monitor": 2 * SECONDS},
        "EndpointSpec": endpoint,
    }


def _database_service(spec, server, images, secret_versions, endpoint_mode, nets, base_labels) -> dict:
    """The PostgreSQL a postgres server asked for: on the internal network only, data on a named volume."""
    postgres = server["postgres"]
    labels = {**base_labels, SERVER_LABEL: f"{server['name']}-db"}
    password = postgres["password_secret"]
    template = _task_template(
        image=images["postgresql"],
        args=[],
        env={
            "POSTGRES_DB": postgres["database"],
            "POSTGRES_USER": postgres["user"],
            "POSTGRES_PASSWORD_FILE": f"/run/secrets/{password}",
        },
        secrets=[(password, secret_versions[password])],
        volumes=[
            {
                "source": f"{spec['name']}_{server['name']}_pgdata",
                "target": "/var/lib/postgresql/data",
                "read_only": False,
            }
        ],
        labels=labels,
        networks=[{"Target": nets["internal"], "Aliases": [f"{server['name']}-db"]}],
        memory=server["memory"],
        memory_reservation=server["memory_reservation"],
        cpus=server["cpus"],
        cpus_reservation=server["cpus_reservation"],
        placement=server.get("placement") or [],
    )
    # One writer on one volume: stop the old task before the new one starts.
    name = f"{spec['name']}_{server['name']}-db"
    return _service(name, labels, template, 1, {"Mode": endpoint_mode}, "stop-first")


def render(
    spec: dict,
    images: dict,
    secret_versions: dict,
    *,
    endpoint_mode: str,
    publish_mode: str,
    gateway_hosts: list[str] | None = None,
    token_dir: str | None = None,
    node_id: str | None = None,
) -> dict:
    """The toolbox's services (ServiceSpec by service name) and networks, each service with its hash label.

    images: kind (and "gateway") -> image reference; secret_versions: secret name -> Swarm secret name.
    With token_source "digests", token_dir is the host directory holding the token file and node_id the node
    that has it: the gateway is placed there.
    """
    toolbox = spec["name"]
    nets = network_names(toolbox)
    base_labels = {NAMESPACE_LABEL: toolbox, TOOLBOX_LABEL: toolbox}
    services = {}
    for server in spec["servers"]:
        labels = {**base_labels, SERVER_LABEL: server["name"]}
        refs = list(server.get("secrets") or [])
        if server.get("kind") == "postgres" and server.get("postgres"):
            refs.append({"name": uri_secret(server), "env": "DATABASE_URI_FILE"})
            if server["postgres"]["create_server"]:
                db = _database_service(spec, server, images, secret_versions, endpoint_mode, nets, base_labels)
                services[db["Name"]] = db
        env = dict(server.get("env") or {})
        env.update({ref["env"]: f"/run/secrets/{ref['name']}" for ref in refs if ref.get("env")})
        template = _task_template(
            image=server_image(server, images),
            args=server.get("args") or [],
            env=env,
            secrets=[(ref["name"], secret_versions[ref["name"]]) for ref in refs],
            volumes=server.get("volumes") or [],
            labels=labels,
            networks=[{"Target": nets["internal"], "Aliases": [server["name"]]}],
            memory=server["memory"],
            memory_reservation=server["memory_reservation"],
            cpus=server["cpus"],
            cpus_reservation=server["cpus_reservation"],
            placement=server.get("placement") or [],
        )
        name = f"{toolbox}_{server['name']}"
        services[name] = _service(name, labels, template, server["replicas"], {"Mode": endpoint_mode}, "start-first")

    gateway = spec["gateway"]
    labels = {**base_labels, SERVER_LABEL: GATEWAY}
    digests = reads_token_digests(spec)
    if digests and not (token_dir and node_id):
        raise ValueError("token_source digests needs the token directory and the node that holds it")
    token_names = [] if digests else list(gateway["token_secrets"])
    tls = gateway.get("tls") or {}
    tls_names = [tls[key] for key in ("cert_secret", "key_secret") if tls.get(key)]
    token_files = [f"{TOKEN_MOUNT}/{TOKEN_FILE}"] if digests else [f"/run/secrets/{name}" for name in token_names]
    env = {
        "GATEWAY_LISTEN": f"0.0.0.0:{GATEWAY_PORT}",
        "GATEWAY_BACKENDS": json.dumps(
            {server["name"]: {"url": server_url(spec, server)} for server in spec["servers"]}, sort_keys=True
        ),
        "GATEWAY_TOKEN_FILES": ",".join(token_files),
    }
    if gateway_hosts:  # the names clients use; anything else is refused (DNS rebinding)
        env["GATEWAY_ALLOWED_HOSTS"] = ",".join(sorted(set(gateway_hosts)))
    if tls_names:
        env["GATEWAY_TLS_CERT_FILE"] = f"/run/secrets/{tls['cert_secret']}"
        env["GATEWAY_TLS_KEY_FILE"] = f"/run/secrets/{tls['key_secret']}"
    template = _task_template(
        image=images[GATEWAY],
        args=[],
        env=env,
        secrets=[(name, secret_versions[name]) for name in token_names + tls_names],
        volumes=[],
        labels=labels,
        networks=[{"Target": nets["internal"], "Aliases": [GATEWAY]}, {"Target": nets["edge"], "Aliases": []}],
        memory=gateway["memory"],
        memory_reservation=gateway.get("memory_reservation", "32M"),
        cpus=gateway["cpus"],
        cpus_reservation=gateway.get("cpus_reservation", 0.05),
        placement=(gateway.get("placement") or []) + ([f"node.id=={node_id}"] if digests else []),
        binds=[{"source": token_dir, "target": TOKEN_MOUNT}] if digests else [],
    )
    # Ingress publishing needs a virtual IP; host-mode publishing (and the lab, which has no IPVS) works with dnsrr.
    endpoint = {
        "Mode": "vip" if publish_mode == "ingress" else endpoint_mode,
        "Ports": [
            {
                "Protocol": "tcp",
                "TargetPort": GATEWAY_PORT,
                "PublishedPort": int(gateway["port"]),
                "PublishMode": publish_mode,
            }
        ],
    }
    name = f"{toolbox}_{GATEWAY}"
    services[name] = _service(name, labels, template, gateway["replicas"], endpoint, "stop-first")

    for service in services.values():
        service["Labels"] = {
            **service["Labels"],
            HASH_LABEL: service_hash(service),
            VERSION_LABEL: str(spec["version"]),
        }
    return {"networks": nets, "services": services}


def service_hash(service: dict) -> str:
    """What makes Swarm replace tasks: task template, mode and endpoint (not labels, not the update policy)."""
    return content_hash({key: service[key] for key in ("TaskTemplate", "Mode", "EndpointSpec")})[:16]


def stack_hash(services: dict[str, dict]) -> str:
    """One hash for a whole toolbox, from its services' hash labels: what toolbox_facts compares."""
    return content_hash({name: (spec.get("Labels") or {}).get(HASH_LABEL, "") for name, spec in services.items()})[:16]


def plan(wanted: dict[str, dict], deployed: dict[str, dict]) -> dict[str, str]:
    """Service name -> create | update | relabel | remove | unchanged, from wanted and deployed specs.

    A service whose hash label matches is only relabelled when its descriptive labels (version) differ:
    Swarm applies that without replacing a task.
    """
    actions = {}
    for name, spec in wanted.items():
        current = deployed.get(name)
        if current is None:
            actions[name] = "create"
        elif (current.get("Labels") or {}).get(HASH_LABEL) != spec["Labels"][HASH_LABEL]:
            actions[name] = "update"
        elif (current.get("Labels") or {}) != spec["Labels"]:
            actions[name] = "relabel"
        else:
            actions[name] = "unchanged"
    for name in deployed:
        if name not in wanted:
            actions[name] = "remove"
    return actions


def summary(service: dict) -> dict:
    """A reviewable view of a service for --diff: what an operator reads, secrets by name only. Fields the
    engine leaves out of a service created some other way (no mounts, no limits, global mode) read as empty."""
    template = service["TaskTemplate"]
    container = template["ContainerSpec"]
    limits = template.get("Resources", {}).get("Limits", {})
    return {
        "image": container["Image"],
        "args": container.get("Args", []),
        "env": container.get("Env", []),
        "secrets": sorted(ref["SecretName"] for ref in container.get("Secrets") or []),
        "mounts": [
            f"{m.get('Source', 'tmpfs')}:{m['Target']}{':ro' if m.get('ReadOnly') else ''}"
            for m in container.get("Mounts") or []
        ],
        "replicas": service["Mode"].get("Replicated", {}).get("Replicas"),
        "memory": limits.get("MemoryBytes"),
        "nano_cpus": limits.get("NanoCPUs"),
        "networks": [net["Target"] for net in template.get("Networks") or []],
        "ports": [
            f"{p['PublishedPort']}:{p['TargetPort']}/{p['PublishMode']}"
            for p in service.get("EndpointSpec", {}).get("Ports", [])
        ],
        "hash": service["Labels"].get(HASH_LABEL, ""),
        "version": service["Labels"].get(VERSION_LABEL, ""),
    }
