# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rules of a toolbox spec that its JSON Schema cannot express: limits against each other, reserved
mount points, credentials in env, names used twice, and secrets that have no value.

Each check gets the spec as the schema saw it, possibly invalid: it looks only at values of the right type
and leaves the rest to the schema's messages.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ansible_collections.agentopia.toolbox.plugins.module_utils._size import is_size, size_bytes
from ansible_collections.agentopia.toolbox.plugins.module_utils._spec_schema import (
    CUSTOM_DEFAULTS,
    KINDS,
    MAX_MEMORY,
    MIN_MEMORY,
    NAME_PATTERN,
    SECRET_PATTERN,
    default_password_secret,
)

# Values in env are visible to anyone who can inspect the service: these belong in secrets.
SECRET_ENV = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|KEY|CREDENTIAL")

# Mount points the stack owns or the kernel provides: a volume there would hide them.
RESERVED_TARGETS = ("/run/secrets", "/proc", "/sys", "/dev", "/opt/agentopia")
RESERVED_EXACT = ("/", "/tmp", "/run", "/etc", "/usr", "/bin", "/lib")

Path = tuple[Any, ...]


def looks_secret(env_name: str) -> bool:
    """True for env names whose values are credentials; ``*_FILE`` names hold a path, not the value."""
    upper = env_name.upper()
    return not upper.endswith("_FILE") and bool(SECRET_ENV.search(upper))


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_limits(block: dict, parts: Path, errors: list[tuple[Path, str]]) -> None:
    for key in ("memory", "memory_reservation"):
        value = block.get(key)
        if is_size(value):
            size = size_bytes(value)
            if size > MAX_MEMORY:
                errors.append(((*parts, key), f"{value} is above the ceiling of 64G: use a smaller size like 512M"))
            elif key == "memory" and size < MIN_MEMORY:
                errors.append(((*parts, key), f"{value} is below 16M, too little to start a server: use like 256M"))
    memory, reservation = block.get("memory"), block.get("memory_reservation")
    if is_size(memory) and is_size(reservation) and size_bytes(reservation) > size_bytes(memory):
        errors.append(
            ((*parts, "memory_reservation"), f"{reservation} is above the memory limit {memory}: reserve less")
        )
    for key in ("cpus", "cpus_reservation"):
        value = block.get(key)
        if isinstance(value, float) and not math.isfinite(value):
            errors.append(((*parts, key), f"{value} is not a number of CPUs: use a finite number like 0.5"))
    cpus, cpus_reservation = block.get("cpus"), block.get("cpus_reservation")
    if _num(cpus) and _num(cpus_reservation) and cpus_reservation > cpus:
        errors.append(((*parts, "cpus_reservation"), f"{cpus_reservation} is above the CPU limit {cpus}: reserve less"))


def _check_target(target: str) -> str | None:
    if ".." in target.split("/") or "//" in target:
        return "must be a plain absolute path without '..' or '//'"
    clean = target.rstrip("/") or "/"
    if clean in RESERVED_EXACT:
        return f"{clean} belongs to the container's own filesystem: mount under a directory of its own, like /data"
    for reserved in RESERVED_TARGETS:
        if clean == reserved or clean.startswith(reserved + "/"):
            if reserved == "/run/secrets":
                return "is under /run/secrets, where secrets are mounted: use the server's secrets: list instead"
            return f"is under {reserved}, which the container needs: mount under a directory like /data"
    return None


def _check_server(
    server: dict, index: int, toolbox: Any, errors: list[tuple[Path, str]], refs: list[tuple[Path, str]]
) -> None:
    parts: Path = ("servers", index)
    kind, image = server.get("kind"), server.get("image")
    if kind is None and image is None:
        errors.append(
            (parts, f"needs kind (one of {', '.join(KINDS)}) or image (a custom image serving streamable HTTP)")
        )
    elif kind is not None and image is not None:
        errors.append(
            (
                (*parts, "image"),
                "a server has either kind or image, not both: drop image to use the kind's image "
                "(version: sets its tag), or drop kind",
            )
        )
    if kind is not None:
        for key, default in CUSTOM_DEFAULTS.items():
            # The defaults are what normalize() writes for every server.
            if key in server and server[key] != default:
                errors.append(
                    (
                        (*parts, key),
                        f"is only for custom image servers: a kind's image always serves streamable HTTP "
                        f"at {CUSTOM_DEFAULTS['port']}{CUSTOM_DEFAULTS['path']}; remove {key}",
                    )
                )
    if image is not None and server.get("version") is not None:
        errors.append(((*parts, "version"), "is only for kind servers: put the tag in image (name:tag or @sha256)"))
    if server.get("postgres") is not None and kind != "postgres":
        errors.append(((*parts, "postgres"), "is only for kind: postgres; remove it or set kind: postgres"))

    env = server.get("env") if _is_dict(server.get("env")) else {}
    for name in env:
        if _str(name) and looks_secret(name):
            errors.append(
                (
                    (*parts, "env", name),
                    f"{name} looks like a credential and env values are readable by anyone who can inspect the "
                    f"service: store it as a secret and list it under secrets: [{{name: <secret>, env: {name}_FILE}}]",
                )
            )

    seen_names: set[str] = set()
    seen_env: set[str] = set()
    for i, secret in enumerate(_list(server.get("secrets"))):
        if not _is_dict(secret):
            continue
        name, env_name = secret.get("name"), secret.get("env")
        if _str(name):
            if name in seen_names:
                errors.append(((*parts, "secrets", i, "name"), f"{name} is listed twice for this server"))
            seen_names.add(name)
            refs.append(((*parts, "secrets", i, "name"), name))
        if _str(env_name):
            if env_name in env:
                errors.append(((*parts, "secrets", i, "env"), f"{env_name} is also set in env: use one or the other"))
            if env_name in seen_env:
                errors.append(((*parts, "secrets", i, "env"), f"{env_name} is given to two secrets"))
            seen_env.add(env_name)

    targets: set[str] = set()
    for i, volume in enumerate(_list(server.get("volumes"))):
        if not _is_dict(volume) or not _str(volume.get("target")):
            continue
        target = volume["target"]
        problem = _check_target(target)
        if problem:
            errors.append(((*parts, "volumes", i, "target"), f"{target}: {problem}"))
        clean = target.rstrip("/") or "/"
        if clean in targets:
            errors.append(((*parts, "volumes", i, "target"), f"{target} is mounted twice: give each volume its own"))
        targets.add(clean)

    _check_limits(server, parts, errors)

    if kind == "postgres":
        postgres = server.get("postgres")
        postgres = postgres if _is_dict(postgres) else {}
        create = postgres.get("create_server", True)
        if create is False and postgres.get("host") is None:
            errors.append(
                (
                    (*parts, "postgres", "host"),
                    "is required with create_server: false (the existing PostgreSQL server to connect to)",
                )
            )
        if create is True and postgres.get("host") is not None:
            errors.append(
                ((*parts, "postgres", "host"), "is only for create_server: false; the stack runs its own server")
            )
        if _str(server.get("name")):
            default = default_password_secret(toolbox, server["name"]) if toolbox else None
            password = postgres.get("password_secret", default)
            if _str(password):
                refs.append(((*parts, "postgres", "password_secret"), password))


def cross_field_errors(spec: dict, secret_names: list[str] | None) -> list[tuple[Path, str]]:
    errors: list[tuple[Path, str]] = []
    refs: list[tuple[Path, str]] = []
    toolbox = spec.get("name")
    # Default secret names derive from the toolbox name; a bad name is reported once, by the schema.
    if not (_str(toolbox) and re.fullmatch(NAME_PATTERN[1:-1], toolbox)):
        toolbox = None

    gateway = spec.get("gateway")
    if _is_dict(gateway):
        tls = gateway.get("tls")
        if _is_dict(tls):
            for key, other in (("cert_secret", "key_secret"), ("key_secret", "cert_secret")):
                if key not in tls and other in tls:
                    errors.append(
                        (("gateway", "tls", key), f"is required with {other}: give both cert_secret and key_secret")
                    )
                if _str(tls.get(key)):
                    refs.append((("gateway", "tls", key), tls[key]))
        _check_limits(gateway, ("gateway",), errors)
        tokens = gateway.get("token_secrets")
        for i, name in enumerate(_list(tokens)):
            if _str(name):
                refs.append((("gateway", "token_secrets", i), name))
        if "token_secrets" not in gateway and _str(toolbox):
            refs.append((("gateway", "token_secrets"), f"{toolbox}_token"))
    elif gateway is None and _str(toolbox):
        refs.append((("gateway", "token_secrets"), f"{toolbox}_token"))

    names: dict[str, int] = {}
    for index, server in enumerate(_list(spec.get("servers"))):
        if not _is_dict(server):
            continue
        name = server.get("name")
        if _str(name):
            if name == "gateway":
                errors.append((("servers", index, "name"), "gateway is the gateway's own service name: pick another"))
            if name in names:
                errors.append(
                    (
                        ("servers", index, "name"),
                        f"{name} is already the name of servers[{names[name]}]: names are unique",
                    )
                )
            else:
                names[name] = index
        _check_server(server, index, toolbox, errors, refs)

    if secret_names is not None:
        supplied = {name for name in secret_names if isinstance(name, str)}
        listing = ", ".join(sorted(supplied)) if supplied else "none"
        for parts, name in refs:
            if name not in supplied and re.fullmatch(SECRET_PATTERN[1:-1], name):
                errors.append(
                    (
                        parts,
                        f"secret {name} has no value: add it to the secrets you supply (from Ansible Vault); "
                        f"supplied: {listing}",
                    )
                )
    return errors
