# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The toolbox spec: its JSON Schema, the checks a schema cannot express, and its defaults.

``validate()`` runs on the controller (the toolbox_validate action) and needs the jsonschema
library, imported lazily so that modules on hosts can import this file for ``normalize()`` alone.
Every error names the field by its path (``toolbox.servers[2].memory``) and says what is allowed.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

KINDS = ("filesystem", "git", "fetch", "time", "memory", "everything", "postgres")
TRANSPORTS = ("streamable-http",)
ROOT = "toolbox"

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,22}$"
# Swarm secret names get "_<12 hex>" appended (swarm_secret), and Docker allows 64 characters.
SECRET_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,50}$"
VOLUME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ENV_PATTERN = r"^[A-Z_][A-Z0-9_]{0,127}$"
SIZE_PATTERN = r"^[1-9][0-9]{0,9}[KMGkmg]$"
TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$"
IMAGE_PATTERN = (
    r"^(?:[A-Za-z0-9.-]+(?::[0-9]{1,5})?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
PATH_PATTERN = r"^/[A-Za-z0-9._~/-]{0,200}$"
TARGET_PATTERN = r"^/[A-Za-z0-9._@+/-]{0,250}$"
DATABASE_PATTERN = r"^[a-z_][a-z0-9_]{0,62}$"
HOST_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$"
PLACEMENT_PATTERN = (
    r"^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]{1,128})"
    r"|engine\.labels\.[A-Za-z0-9_.-]{1,128}) *(==|!=) *[^ ].{0,127}$"
)
# Values in env are visible to anyone who can inspect the service: these belong in secrets.
SECRET_ENV = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|KEY|CREDENTIAL")

# Ceilings: a typo (256G for 256M, 100 replicas) fails here instead of starving a host.
MAX_MEMORY = 64 * 1024**3
MIN_MEMORY = 16 * 1024**2
MAX_CPUS = 64
MAX_REPLICAS = 16
MAX_ENTRIES = 100
SIZE_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3}

# Mount points the stack owns or the kernel provides: a volume there would hide them.
RESERVED_TARGETS = ("/run/secrets", "/proc", "/sys", "/dev", "/opt/agentopia")
RESERVED_EXACT = ("/", "/tmp", "/run", "/etc", "/usr", "/bin", "/lib")

SERVER_DEFAULTS: dict[str, Any] = {
    "image": None,
    "version": None,
    "args": [],
    "env": {},
    "secrets": [],
    "volumes": [],
    "memory": "256M",
    "memory_reservation": "64M",
    "cpus": 0.5,
    "cpus_reservation": 0.05,
    "replicas": 1,
    "placement": [],
    "postgres": None,
}
CUSTOM_DEFAULTS: dict[str, Any] = {"port": 8000, "path": "/mcp", "transport": "streamable-http"}
GATEWAY_DEFAULTS: dict[str, Any] = {
    "port": 8811,
    "replicas": 1,
    "token_source": "secrets",
    "tls": None,
    "memory": "128M",
    "memory_reservation": "32M",
    "cpus": 0.5,
    "cpus_reservation": 0.05,
    "placement": [],
}
POSTGRES_DEFAULTS: dict[str, Any] = {"database": "app", "create_server": True, "host": None, "port": 5432}


def _s(pattern: str, allowed: str, max_length: int = 256) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern, "maxLength": max_length, "x-allowed": allowed}


NAME = _s(NAME_PATTERN, "a lowercase letter, then up to 22 lowercase letters, digits or '-'", 23)
SECRET = _s(
    SECRET_PATTERN, "a secret name: letters, digits, '_', '.', '-', starting with a letter or digit, at most 51", 51
)
SIZE = _s(SIZE_PATTERN, "a size: an integer followed by K, M or G, like 256M", 11)
CPUS = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": MAX_CPUS,
    "x-allowed": f"a number of CPUs above 0 and at most {MAX_CPUS}, like 0.5",
}
CPUS_RESERVATION = {
    "type": "number",
    "minimum": 0,
    "maximum": MAX_CPUS,
    "x-allowed": f"a number of CPUs from 0 to {MAX_CPUS}, like 0.05",
}
REPLICAS = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_REPLICAS,
    "x-allowed": f"an integer from 1 to {MAX_REPLICAS}",
}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535, "x-allowed": "a TCP port from 1 to 65535"}
PLACEMENT = {
    "type": "array",
    "maxItems": 32,
    "x-allowed": "a list of Swarm constraints",
    "items": _s(
        PLACEMENT_PATTERN,
        "a Swarm constraint like node.role==manager or node.labels.toolbox==research",
        300,
    ),
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://agentopia.dev/schemas/toolbox-spec.json",
    "title": "agentopia.toolbox toolbox spec",
    "type": "object",
    "x-allowed": "a mapping with name, version, servers and optionally gateway",
    "required": ["name", "version", "servers"],
    "additionalProperties": False,
    "properties": {
        "name": NAME,
        "version": _s(VERSION_PATTERN, 'a version string like "1.4.0" (quote it in YAML so it stays a string)', 64),
        "gateway": {
            "type": ["object", "null"],
            "x-allowed": "a mapping of gateway settings (or null for the defaults)",
            "additionalProperties": False,
            "properties": {
                "port": PORT,
                "replicas": REPLICAS,
                "token_secrets": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 16,
                    "uniqueItems": True,
                    "items": SECRET,
                    "x-allowed": "a list of 1 to 16 distinct secret names, each holding gateway tokens",
                },
                # Where the gateway reads those tokens: mounted Swarm secrets (a new token restarts the gateway), or
                # their sha256 digests in a file on the node that the gateway re-reads (rotation without a restart).
                "token_source": {
                    "enum": ["secrets", "digests"],
                    "x-allowed": "secrets (the tokens as Swarm secrets) or digests (their sha256 digests in a host "
                    "file the gateway re-reads: tokens rotate with no restart)",
                },
                "tls": {
                    "type": ["object", "null"],
                    "additionalProperties": False,
                    "x-allowed": "a mapping with cert_secret and key_secret, or null for plain HTTP",
                    "properties": {"cert_secret": SECRET, "key_secret": SECRET},
                },
                "memory": SIZE,
                "memory_reservation": SIZE,
                "cpus": CPUS,
                "cpus_reservation": CPUS_RESERVATION,
                "placement": PLACEMENT,
            },
        },
        "servers": {
            "type": "array",
            "minItems": 1,
            "maxItems": 64,
            "x-allowed": "a list of 1 to 64 servers",
            "items": {
                "type": "object",
                "x-allowed": "a mapping describing one MCP server",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": NAME,
                    # null is accepted where normalize() writes null, so a normalized spec validates.
                    "kind": {"enum": [*KINDS, None], "x-allowed": f"one of {', '.join(KINDS)}"},
                    "image": {
                        **_s(
                            IMAGE_PATTERN,
                            "an image reference like registry.lab:5000/acme/tool:1.2 or name@sha256:...",
                            512,
                        ),
                        "type": ["string", "null"],
                    },
                    "version": {**_s(TAG_PATTERN, "an image tag like 0.2.0", 128), "type": ["string", "null"]},
                    "port": PORT,
                    "path": _s(PATH_PATTERN, "an absolute URL path like /mcp", 201),
                    "transport": {
                        "enum": list(TRANSPORTS),
                        "x-allowed": "streamable-http (stdio servers need an image with the bridge, see docs)",
                    },
                    "args": {
                        "type": "array",
                        "maxItems": 64,
                        "x-allowed": "a list of strings (quote numbers)",
                        "items": {"type": "string", "maxLength": 4096, "x-allowed": "a string (quote numbers)"},
                    },
                    "env": {
                        "type": "object",
                        "maxProperties": 64,
                        "x-allowed": "a mapping of environment variable names to values",
                        "propertyNames": _s(ENV_PATTERN, "an upper-case name like LOG_LEVEL", 128),
                        "additionalProperties": {
                            "type": ["string", "number", "boolean"],
                            "maxLength": 4096,
                            "x-allowed": "a string, number or boolean",
                        },
                    },
                    "secrets": {
                        "type": "array",
                        "maxItems": 32,
                        "x-allowed": "a list of {name, env} mappings",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "additionalProperties": False,
                            "x-allowed": "a mapping with name and optionally env",
                            "properties": {
                                "name": SECRET,
                                "env": {
                                    **_s(ENV_PATTERN, "an upper-case name like DATABASE_URL_FILE", 128),
                                    "type": ["string", "null"],
                                },
                            },
                        },
                    },
                    "volumes": {
                        "type": "array",
                        "maxItems": 32,
                        "x-allowed": "a list of {source, target, read_only} mappings",
                        "items": {
                            "type": "object",
                            "required": ["source", "target"],
                            "additionalProperties": False,
                            "x-allowed": "a mapping with source, target and optionally read_only",
                            "properties": {
                                "source": _s(
                                    VOLUME_PATTERN, "a volume name: letters, digits, '_', '.', '-', at most 64", 64
                                ),
                                "target": _s(TARGET_PATTERN, "an absolute path in the container like /data", 251),
                                "read_only": {"type": "boolean", "x-allowed": "true or false"},
                            },
                        },
                    },
                    "memory": SIZE,
                    "memory_reservation": SIZE,
                    "cpus": CPUS,
                    "cpus_reservation": CPUS_RESERVATION,
                    "replicas": REPLICAS,
                    "placement": PLACEMENT,
                    "postgres": {
                        "type": ["object", "null"],
                        "additionalProperties": False,
                        "x-allowed": "a mapping with database, create_server, password_secret, host, port",
                        "properties": {
                            "database": _s(DATABASE_PATTERN, "a database name: lowercase letters, digits, '_'", 63),
                            "create_server": {"type": "boolean", "x-allowed": "true or false"},
                            "password_secret": SECRET,
                            "host": {
                                **_s(HOST_PATTERN, "a host name like db.internal", 254),
                                "type": ["string", "null"],
                            },
                            "port": PORT,
                            "user": _s(DATABASE_PATTERN, "a role name: lowercase letters, digits, '_'", 63),
                        },
                    },
                },
            },
        },
    },
}


class SpecError(NamedTuple):
    """One problem in a spec: where (``toolbox.servers[2].memory``) and what to do."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


Path = tuple[Any, ...]


def format_path(parts: Path, root: str = ROOT) -> str:
    text = root
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", part):
            text += f".{part}"
        else:
            text += f"[{_show(part)}]"
    return text


def _show(value: Any, limit: int = 60) -> str:
    """A short, safe rendering of a user value for a message."""
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails still gets a message
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def looks_secret(env_name: str) -> bool:
    """True for env names whose values are credentials; ``*_FILE`` names hold a path, not the value."""
    upper = env_name.upper()
    return not upper.endswith("_FILE") and bool(SECRET_ENV.search(upper))


def parse_size(size: str) -> int:
    return int(size[:-1]) * SIZE_UNITS[size[-1].upper()]


def _fullmatch_pattern(validator, pattern, instance, schema):
    # JSON Schema's "pattern" is a search and Python's "$" also matches before a final newline;
    # every pattern here is anchored, so a full match is the intended meaning.
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_VALIDATOR = None


def _validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        # Lazy: hosts import this file for normalize() and may not have jsonschema.
        from jsonschema import Draft202012Validator, validators

        Draft202012Validator.check_schema(SCHEMA)
        cls = validators.extend(Draft202012Validator, {"pattern": _fullmatch_pattern})
        _VALIDATOR = cls(SCHEMA)
    return _VALIDATOR


class _Unusable(Exception):
    """The spec is cyclic or absurdly deep: nothing else about it can be checked."""


def _string_keys(value: Any, parts: Path, errors: list[tuple[Path, str]], seen: frozenset[int] = frozenset()) -> Any:
    """A copy without non-string keys (each reported), so the schema checks the rest."""
    if not isinstance(value, (dict, list)):
        return value
    if id(value) in seen or len(parts) > 12:
        errors.append((parts, "is nested too deeply or refers to itself: a toolbox spec is a few levels deep"))
        raise _Unusable
    seen = seen | {id(value)}
    if len(value) > MAX_ENTRIES:
        # Checked no further than this: the schema's limits are all lower, and time stays bounded.
        errors.append(
            (parts, f"has {len(value)} entries, far more than a toolbox spec holds (limits: docs/toolbox-spec.md)")
        )
    if isinstance(value, list):
        return [_string_keys(item, (*parts, i), errors, seen) for i, item in enumerate(value[:MAX_ENTRIES])]
    copy = {}
    for key, item in list(value.items())[:MAX_ENTRIES]:
        if isinstance(key, str):
            copy[key] = _string_keys(item, (*parts, key), errors, seen)
        else:
            errors.append(((*parts, key), f"key {_show(key)} is {_a(_type_name(key))}: keys must be strings"))
    return copy


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _schema_message(error) -> list[tuple[Path, str]]:
    """Turn one jsonschema error into (path, message) pairs in the words of this spec."""
    parts = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    allowed = schema.get("x-allowed", "")
    instance = error.instance
    kind = error.validator
    if kind == "required":
        present = instance if isinstance(instance, dict) else {}
        return [
            ((*parts, key), f"is required: {_allowed_for(schema, key)}")
            for key in error.validator_value
            if key not in present
        ]
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        hint = ""
        if parts == () and "toolbox" in instance:
            hint = " (pass the mapping under toolbox:, not the toolbox: key itself)"
        return [
            ((*parts, key), f"is not a known field; allowed: {', '.join(known)}{hint}")
            for key in instance
            if key not in schema.get("properties", {})
        ]
    if kind == "type" and instance is None:
        return [(parts, f"is empty (null): must be {allowed}")]
    if kind == "type":
        return [(parts, f"is {_a(_type_name(instance))} ({_show(instance)}): must be {allowed}")]
    if kind == "enum":
        return [(parts, f"{_show(instance)} is not allowed: must be {allowed}")]
    if kind == "pattern":
        return [(parts, f"{_show(instance)} is not allowed: must be {allowed}")]
    if kind == "maxLength":
        return [(parts, f"is {len(instance)} characters long, at most {error.validator_value} allowed: {allowed}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return [(parts, f"{_show(instance)} is out of range: must be {allowed}")]
    if kind in ("minItems", "maxItems"):
        return [(parts, f"has {len(instance)} items: must be {allowed}")]
    if kind == "maxProperties":
        return [(parts, f"has {len(instance)} entries, at most {error.validator_value} allowed")]
    if kind == "uniqueItems":
        return [(parts, f"lists a name twice: must be {allowed}")]
    return [(parts, f"{error.message}; must be {allowed}" if allowed else error.message)]


def _allowed_for(schema: dict, key: str) -> str:
    sub = schema.get("properties", {}).get(key, {})
    return sub.get("x-allowed", "see docs/toolbox-spec.md")


def _schema_errors(spec: Any) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    for error in _validator().iter_errors(spec):
        if "propertyNames" in error.schema_path:
            # jsonschema reports a bad key at its object; the key itself is the field at fault.
            allowed = error.schema.get("x-allowed", "a valid name") if isinstance(error.schema, dict) else ""
            out.append(((*tuple(error.absolute_path), error.instance), f"is not a valid name: must be {allowed}"))
            continue
        out.extend(_schema_message(error))
    return out


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _good_size(value: Any) -> bool:
    return _str(value) and re.fullmatch(SIZE_PATTERN.strip("^$"), value) is not None


def _check_limits(block: dict, parts: Path, errors: list[tuple[Path, str]]) -> None:
    for key in ("memory", "memory_reservation"):
        value = block.get(key)
        if _good_size(value):
            size = parse_size(value)
            if size > MAX_MEMORY:
                errors.append(((*parts, key), f"{value} is above the ceiling of 64G: use a smaller size like 512M"))
            elif key == "memory" and size < MIN_MEMORY:
                errors.append(((*parts, key), f"{value} is below 16M, too little to start a server: use like 256M"))
    memory, reservation = block.get("memory"), block.get("memory_reservation")
    if _good_size(memory) and _good_size(reservation) and parse_size(reservation) > parse_size(memory):
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
            default = _default_password(toolbox, server["name"]) if toolbox else None
            password = postgres.get("password_secret", default)
            if _str(password):
                refs.append(((*parts, "postgres", "password_secret"), password))


def _default_password(toolbox: Any, server: str) -> str:
    return f"{toolbox}_{server}_password" if _str(toolbox) else f"{server}_password"


def _cross_errors(spec: dict, secret_names: list[str] | None) -> list[tuple[Path, str]]:
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


def _sort_key(parts: Path) -> tuple:
    return tuple(
        (0, part, "") if isinstance(part, int) and not isinstance(part, bool) else (1, 0, str(part)) for part in parts
    )


def validate(spec: Any, secret_names: list[str] | None = None) -> list[SpecError]:
    """Every problem in ``spec``, each with its field path; an empty list means the spec is valid.

    With ``secret_names`` (the names of the secret values supplied), every secret the spec
    refers to must be among them.
    """
    raw: list[tuple[Path, str]] = []
    if not _is_dict(spec):
        raw.append(
            ((), f"is {'empty (null)' if spec is None else _a(_type_name(spec))}: must be {SCHEMA['x-allowed']}")
        )
    else:
        try:
            clean = _string_keys(spec, (), raw)
        except _Unusable:
            clean = None
        if clean is not None:
            raw.extend(_schema_errors(clean))
            raw.extend(_cross_errors(clean, secret_names))
    # One message per field: the first found (the schema's, before the cross-field checks) is the basic one.
    first: dict[Path, str] = {}
    for parts, message in raw:
        first.setdefault(tuple(parts), message)
    ordered = sorted(first.items(), key=lambda item: _sort_key(item[0]))
    return [SpecError(format_path(parts), message) for parts, message in ordered]


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _size(value: str) -> str:
    return value[:-1] + value[-1].upper()


def normalize(spec: dict) -> dict:
    """The spec with every default filled in (contract 1 of docs/toolbox-spec.md).

    Expects a spec that ``validate()`` accepted. Sizes get an upper-case unit and env values
    become strings, so the result is what a deployment compares; normalizing twice changes nothing.
    """
    toolbox = spec["name"]
    gateway = {**GATEWAY_DEFAULTS, "token_secrets": [f"{toolbox}_token"], **(spec.get("gateway") or {})}
    tls = gateway.get("tls") or None
    given = spec.get("gateway") or {}
    memory = _size(gateway["memory"])
    reservation = _size(gateway["memory_reservation"])
    if "memory_reservation" not in given and parse_size(reservation) > parse_size(memory):
        reservation = memory
    gateway = {
        "port": gateway["port"],
        "replicas": gateway["replicas"],
        "token_secrets": list(gateway["token_secrets"]),
        "token_source": gateway["token_source"],
        "tls": {"cert_secret": tls["cert_secret"], "key_secret": tls["key_secret"]} if tls else None,
        "memory": memory,
        "memory_reservation": reservation,
        "cpus": gateway["cpus"],
        "cpus_reservation": given.get("cpus_reservation", min(GATEWAY_DEFAULTS["cpus_reservation"], gateway["cpus"])),
        "placement": list(gateway["placement"]),
    }
    return {
        "name": toolbox,
        "version": spec["version"],
        "gateway": gateway,
        "servers": [_normalize_server(toolbox, server) for server in spec["servers"]],
    }


def _normalize_server(toolbox: str, server: dict) -> dict:
    merged = {**SERVER_DEFAULTS, **CUSTOM_DEFAULTS, "kind": None, **server}
    postgres = None
    if merged["kind"] == "postgres":
        given = merged["postgres"] or {}
        postgres = {
            **POSTGRES_DEFAULTS,
            "user": "postgres",
            "password_secret": _default_password(toolbox, merged["name"]),
            **given,
        }
    memory = _size(merged["memory"])
    reservation = _size(merged["memory_reservation"])
    if "memory_reservation" not in server and parse_size(reservation) > parse_size(memory):
        reservation = memory  # the default reservation never exceeds a small limit
    cpus = merged["cpus"]
    cpus_reservation = server.get("cpus_reservation", min(SERVER_DEFAULTS["cpus_reservation"], cpus))
    return {
        "name": merged["name"],
        "kind": merged["kind"],
        "image": merged["image"],
        "version": merged["version"],
        "port": merged["port"],
        "path": merged["path"],
        "transport": merged["transport"],
        "args": list(merged["args"]),
        "env": {name: _env_value(value) for name, value in merged["env"].items()},
        "secrets": [{"name": secret["name"], "env": secret.get("env")} for secret in merged["secrets"]],
        "volumes": [
            {"source": v["source"], "target": v["target"], "read_only": v.get("read_only", True)}
            for v in merged["volumes"]
        ],
        "memory": memory,
        "memory_reservation": reservation,
        "cpus": cpus,
        "cpus_reservation": cpus_reservation,
        "replicas": merged["replicas"],
        "placement": list(merged["placement"]),
        "postgres": postgres,
    }
