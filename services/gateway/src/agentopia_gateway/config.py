# SPDX-License-Identifier: GPL-3.0-or-later
"""Gateway settings: read once from the environment into one typed, immutable object."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

SERVER_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")

DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# Seconds a call to a backend may take, for backends whose GATEWAY_BACKENDS entry names no timeout.
DEFAULT_BACKEND_TIMEOUT = 30.0


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True, slots=True)
class BackendConfig:
    name: str
    url: str
    timeout: float

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def hostname(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True, slots=True)
class Settings:
    backends: tuple[BackendConfig, ...]
    token_files: tuple[str, ...]
    host: str = "0.0.0.0"
    port: int = 8811
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    max_body_bytes: int = 4 * 1024 * 1024
    # Requests per second per token; 0 turns the limit off. Burst is how many may arrive at once.
    rate_limit: float = 50.0
    rate_burst: int = 100
    log_level: str = "info"
    # Host header values accepted (DNS-rebinding protection); "*" accepts any.
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    # Origin values accepted when a browser sends one; empty means derived from allowed_hosts.
    allowed_origins: tuple[str, ...] = ()
    # Seconds between backend probes (DNS re-resolution + MCP ping on the pooled sessions).
    health_interval: float = 5.0
    # Seconds to open a TCP connection to a backend replica.
    connect_timeout: float = 5.0
    # Seconds the aggregate tool list may be served from cache without any change notice.
    tools_cache_ttl: float = 300.0
    # Seconds after which a pass-through session pin with no traffic is forgotten.
    session_pin_ttl: float = 3600.0
    # Idle seconds after which an aggregate (/mcp) client session is closed.
    session_idle_timeout: float = 1800.0
    # Seconds between re-reads of the token files (rotation takes effect within this).
    token_reload_interval: float = 1.0
    max_sessions: int = 10_000
    # Connections to one backend for pass-through GET streams (each holds one for its session's life).
    backend_max_connections: int = 512
    # Connections to one backend for pass-through requests (POST, DELETE); more wait in the gateway, as on /mcp.
    passthrough_max_connections: int = 64
    # Connections from /mcp to one backend replica (its pooled session's client). Calls past this wait for
    # a free one in the gateway (bounded by the backend's timeout) instead of piling connects on the
    # backend's accept queue, where a loaded backend lets them time out.
    aggregate_max_connections: int = 64
    # Seconds an idle pooled connection to a backend is kept; below the backend's own keep-alive limit.
    backend_keepalive: float = 4.0
    # When the /mcp backend client closes a response before its end: seconds and bytes it may still read
    # to keep the connection for the next call (past either, the connection is closed).
    backend_drain_timeout: float = 1.0
    backend_drain_bytes: int = 64 * 1024

    def backend(self, name: str) -> BackendConfig | None:
        return next((b for b in self.backends if b.name == name), None)


# The defaults are the Settings fields' own: load_settings reads them from here, never restates them.
DEFAULTS = {f.name: f.default for f in fields(Settings) if f.name not in ("backends", "token_files")}
# The numeric settings read from the environment: field, variable, lowest accepted value.
NUMERIC_SETTINGS = (
    ("max_body_bytes", "GATEWAY_MAX_BODY_BYTES", 1),
    ("rate_limit", "GATEWAY_RATE_LIMIT", 0.0),
    ("health_interval", "GATEWAY_HEALTH_INTERVAL", 0.05),
    ("connect_timeout", "GATEWAY_CONNECT_TIMEOUT", 0.05),
    ("tools_cache_ttl", "GATEWAY_TOOLS_CACHE_TTL", 0.0),
    ("session_pin_ttl", "GATEWAY_SESSION_PIN_TTL", 1.0),
    ("session_idle_timeout", "GATEWAY_SESSION_IDLE_TIMEOUT", 1.0),
    ("token_reload_interval", "GATEWAY_TOKEN_RELOAD_INTERVAL", 0.05),
    ("max_sessions", "GATEWAY_MAX_SESSIONS", 1),
    ("backend_max_connections", "GATEWAY_BACKEND_MAX_CONNECTIONS", 1),
    ("aggregate_max_connections", "GATEWAY_AGGREGATE_MAX_CONNECTIONS", 1),
    ("passthrough_max_connections", "GATEWAY_PASSTHROUGH_MAX_CONNECTIONS", 1),
    ("backend_keepalive", "GATEWAY_BACKEND_KEEPALIVE", 0.0),
    ("backend_drain_timeout", "GATEWAY_BACKEND_DRAIN_TIMEOUT", 0.0),
    ("backend_drain_bytes", "GATEWAY_BACKEND_DRAIN_BYTES", 0),
)


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to e.g. {default}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer; set it to e.g. {default}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def parse_backends(raw: str, default_timeout: float = DEFAULT_BACKEND_TIMEOUT) -> tuple[BackendConfig, ...]:
    """Parse GATEWAY_BACKENDS: a JSON object name -> URL string or {"url": ..., "timeout": ...}."""
    if not raw.strip():
        raise ConfigError('GATEWAY_BACKENDS is empty; set it to a JSON object like {"files": "http://files:8000/mcp"}')
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"GATEWAY_BACKENDS is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError("GATEWAY_BACKENDS must be a non-empty JSON object mapping server names to URLs")
    backends = []
    for name, spec in data.items():
        if not SERVER_NAME_RE.match(name) or "__" in name:
            raise ConfigError(
                f"GATEWAY_BACKENDS: server name {name!r} must match ^[a-z][a-z0-9-]*$ (lowercase, digits, dashes)"
            )
        if isinstance(spec, str):
            url, timeout = spec, default_timeout
        elif isinstance(spec, dict) and isinstance(spec.get("url"), str):
            url = spec["url"]
            timeout = spec.get("timeout", default_timeout)
            if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
                raise ConfigError(f"GATEWAY_BACKENDS[{name!r}].timeout must be a positive number of seconds")
        else:
            raise ConfigError(f'GATEWAY_BACKENDS[{name!r}] must be a URL string or {{"url": "...", "timeout": 30}}')
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"GATEWAY_BACKENDS[{name!r}].url {url!r} must be an http:// or https:// URL with a host")
        backends.append(BackendConfig(name=name, url=url, timeout=float(timeout)))
    return tuple(backends)


def _parse_listen(raw: str) -> tuple[str, int]:
    host, sep, port = raw.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"GATEWAY_LISTEN={raw!r} must be <address>:<port>, e.g. 0.0.0.0:8811")
    return host.strip("[]") or "0.0.0.0", int(port)


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build Settings from environment variables (docs/architecture.md); raise ConfigError naming the bad variable."""
    host, port = _parse_listen(env.get("GATEWAY_LISTEN", f"{DEFAULTS['host']}:{DEFAULTS['port']}"))
    default_timeout = _float(env, "GATEWAY_BACKEND_TIMEOUT", DEFAULT_BACKEND_TIMEOUT, minimum=0.001)
    backends = parse_backends(env.get("GATEWAY_BACKENDS", ""), default_timeout)
    token_files = _list(env, "GATEWAY_TOKEN_FILES")
    if not token_files:
        raise ConfigError("GATEWAY_TOKEN_FILES is empty; set it to comma-separated paths of files holding tokens")
    cert, key = env.get("GATEWAY_TLS_CERT_FILE") or None, env.get("GATEWAY_TLS_KEY_FILE") or None
    if bool(cert) != bool(key):
        raise ConfigError("set both GATEWAY_TLS_CERT_FILE and GATEWAY_TLS_KEY_FILE, or neither")
    log_level = env.get("GATEWAY_LOG_LEVEL", "").strip().lower() or DEFAULTS["log_level"]
    if log_level not in ("critical", "error", "warning", "info", "debug"):
        raise ConfigError(f"GATEWAY_LOG_LEVEL={log_level!r} must be one of critical, error, warning, info, debug")
    numbers = {
        name: (_int if isinstance(DEFAULTS[name], int) else _float)(env, variable, DEFAULTS[name], minimum)
        for name, variable, minimum in NUMERIC_SETTINGS
    }
    return Settings(
        backends=backends,
        token_files=token_files,
        host=host,
        port=port,
        tls_cert_file=cert,
        tls_key_file=key,
        # A burst of twice the rate unless set: the field's own default (100) is that for the default rate.
        rate_burst=_int(env, "GATEWAY_RATE_BURST", max(1, int(numbers["rate_limit"] * 2))),
        log_level=log_level,
        allowed_hosts=_list(env, "GATEWAY_ALLOWED_HOSTS") or DEFAULTS["allowed_hosts"],
        allowed_origins=_list(env, "GATEWAY_ALLOWED_ORIGINS"),
        **numbers,
    )
