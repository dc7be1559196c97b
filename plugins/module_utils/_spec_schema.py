# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The toolbox spec's shape: its fields and their patterns, the ceilings, the defaults and the JSON Schema.

Plain data, no checks: ``_toolbox_spec.validate()`` applies the schema and ``_spec_checks`` the rules a
schema cannot express; ``_toolbox_spec.normalize()`` fills in the defaults.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.agentopia.toolbox.plugins.module_utils._kinds import NAMES as KINDS
from ansible_collections.agentopia.toolbox.plugins.module_utils._size import SIZE_PATTERN

TRANSPORTS = ("streamable-http",)
ROOT = "toolbox"

NAME_PATTERN = r"^[a-z][a-z0-9-]{0,22}$"
# Swarm secret names get "_<12 hex>" appended (swarm_secret), and Docker allows 64 characters.
SECRET_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,50}$"
VOLUME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ENV_PATTERN = r"^[A-Z_][A-Z0-9_]{0,127}$"
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
# Ceilings: a typo (256G for 256M, 100 replicas) fails here instead of starving a host.
MAX_MEMORY = 64 * 1024**3
MIN_MEMORY = 16 * 1024**2
MAX_CPUS = 64
MAX_REPLICAS = 16
MAX_ENTRIES = 100

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


def default_password_secret(toolbox: Any, server: str) -> str:
    """The secret holding a postgres server's password when the spec names none."""
    return f"{toolbox}_{server}_password" if isinstance(toolbox, str) else f"{server}_password"


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
