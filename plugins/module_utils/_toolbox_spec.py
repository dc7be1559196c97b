# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The toolbox spec: ``validate()`` and ``normalize()``, the names every caller imports.

The schema and defaults are in ``_spec_schema``, the checks a schema cannot express in ``_spec_checks``.

``validate()`` runs on the controller (the toolbox_validate action) and needs the jsonschema
library, imported lazily so that modules on hosts can import this file for ``normalize()`` alone.
Every error names the field by its path (``toolbox.servers[2].memory``) and says what is allowed.
"""

from __future__ import annotations

import contextlib
import re
import sys
from typing import Any, NamedTuple

from ansible_collections.agentopia.toolbox.plugins.module_utils._size import canonical_size, size_bytes
from ansible_collections.agentopia.toolbox.plugins.module_utils._spec_checks import cross_field_errors, looks_secret
from ansible_collections.agentopia.toolbox.plugins.module_utils._spec_schema import (
    CUSTOM_DEFAULTS,
    GATEWAY_DEFAULTS,
    KINDS,
    MAX_ENTRIES,
    NAME_PATTERN,
    POSTGRES_DEFAULTS,
    ROOT,
    SCHEMA,
    SECRET_PATTERN,
    SERVER_DEFAULTS,
    default_password_secret,
)

# Names callers import from here: the spec's public face stays this file.
__all__ = [
    "KINDS",
    "NAME_PATTERN",
    "SCHEMA",
    "SECRET_PATTERN",
    "SpecError",
    "format_path",
    "looks_secret",
    "normalize",
    "validate",
]


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


def _fullmatch_pattern(validator, pattern, instance, schema):
    # JSON Schema's "pattern" is a search and Python's "$" also matches before a final newline;
    # every pattern here is anchored, so a full match is the intended meaning.
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_VALIDATOR = None


@contextlib.contextmanager
def _without_module(name: str):
    """Import what the block imports as if module `name` were not installed, unless something loaded it already.

    jsonschema loads rfc3987_syntax, when it is installed (cyclonedx's validation extra brings it), for the iri
    formats, and that builds 38 parsers at import: 1.1 s of every toolbox run on the controller. The spec schema
    checks no format, so it does without.
    """
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # an import of it raises ImportError
    try:
        yield
    finally:
        del sys.modules[name]


def _validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        # Lazy: hosts import this file for normalize() and may not have jsonschema.
        with _without_module("rfc3987_syntax"):
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
    if not isinstance(spec, dict):
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
            raw.extend(cross_field_errors(clean, secret_names))
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


def normalize(spec: dict) -> dict:
    """The spec with every default filled in ("Defaults, normalized" in docs/toolbox-spec.md).

    Expects a spec that ``validate()`` accepted. Sizes get an upper-case unit and env values
    become strings, so the result is what a deployment compares; normalizing twice changes nothing.
    """
    toolbox = spec["name"]
    gateway = {**GATEWAY_DEFAULTS, "token_secrets": [f"{toolbox}_token"], **(spec.get("gateway") or {})}
    tls = gateway.get("tls") or None
    given = spec.get("gateway") or {}
    memory = canonical_size(gateway["memory"])
    reservation = canonical_size(gateway["memory_reservation"])
    if "memory_reservation" not in given and size_bytes(reservation) > size_bytes(memory):
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
            "password_secret": default_password_secret(toolbox, merged["name"]),
            **given,
        }
    memory = canonical_size(merged["memory"])
    reservation = canonical_size(merged["memory_reservation"])
    if "memory_reservation" not in server and size_bytes(reservation) > size_bytes(memory):
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
