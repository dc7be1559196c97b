# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn a client's ``mcpServers`` JSON (Claude Desktop, VS Code, Cursor) into a toolbox spec."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.module_utils._kinds import launch_names, python_modules
from ansible_collections.agentopia.toolbox.plugins.module_utils._toolbox_spec import (
    NAME_PATTERN,
    SECRET_PATTERN,
    looks_secret,
    validate,
)

# npm packages, PyPI packages / console scripts, and Python modules of the reference servers: the kinds table's.
PACKAGES = launch_names()
MODULES = python_modules()
PYTHONS = re.compile(r"^(python|python3(\.\d+)?|py)$")
# Launcher options that take a value (the value is not the package).
VALUE_OPTIONS = {
    "npx": {"-p", "--package", "-c", "--call", "--registry", "--cache", "--userconfig"},
    "uvx": {"--from", "--with", "--with-requirements", "--python", "-p", "--index-url", "--extra-index-url", "--index"},
    "uv": {"--directory", "--project", "--with", "--python", "-p", "--from", "--index-url", "--extra-index-url"},
}
EVERYTHING_TRANSPORTS = {"stdio", "sse", "streamableHttp", "streamable-http"}
USE_IMAGE = (
    "build an image that serves it over streamable HTTP (see docs/toolbox-spec.md) and use "
    "image: <ref> for this server in the spec"
)


class _Problem(Exception):
    pass


def _launcher(command: str) -> str:
    base = re.split(r"[/\\]", command)[-1].lower()
    return re.sub(r"\.(exe|cmd|bat)$", "", base)


def _split_options(launcher: str, args: list[str]) -> tuple[dict[str, str], list[str]]:
    """Launcher options (with their values) and the rest, which starts at the package or command."""
    options: dict[str, str] = {}
    takes_value = VALUE_OPTIONS.get(launcher, set())
    i = 0
    while i < len(args) and args[i].startswith("-"):
        arg = args[i]
        if "=" in arg:
            key, value = arg.split("=", 1)
            options[key] = value
        elif arg in takes_value and i + 1 < len(args):
            options[arg] = args[i + 1]
            i += 1
        else:
            options[arg] = ""
        i += 1
    return options, args[i:]


def _package_name(spec: str) -> str:
    """``@scope/name@1.2`` -> ``@scope/name``; ``mcp-server-git==2025.1`` -> ``mcp-server-git``."""
    if spec.startswith("@"):
        scope, rest = [*spec[1:].split("/", 1), ""][:2]
        return f"@{scope}/{rest.split('@')[0]}"
    return re.split(r"[@=<>~!\[ ]", spec, maxsplit=1)[0]


def recognize(command: str, args: list[str]) -> tuple[str, list[str]] | None:
    """The kind of reference server a client command line starts, and the server's own args."""
    launcher = _launcher(command)
    if launcher in PACKAGES:
        return PACKAGES[launcher], args
    if launcher in ("npx", "uvx", "pnpx", "bunx"):
        options, rest = _split_options("uvx" if launcher == "uvx" else "npx", args)
        candidates = rest[:1] + [options[key] for key in ("--from", "--package", "-p") if options.get(key)]
        for candidate in candidates:
            kind = PACKAGES.get(_package_name(candidate))
            if kind:
                return kind, rest[1:]
        return None
    if launcher == "uv":
        rest = _split_options("uv", args)[1]
        if rest[:1] == ["run"]:
            return recognize("uvx", rest[1:])
        return None
    if PYTHONS.match(launcher):
        if len(args) >= 2 and args[0] == "-m" and args[1] in MODULES:
            return MODULES[args[1]], args[2:]
        return None
    if launcher == "node" and args:
        for package, kind in PACKAGES.items():
            if package.startswith("@") and package in args[0].replace("\\", "/"):
                return kind, args[1:]
    return None


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-")


def _server_name(key: str) -> str:
    name = _slug(key, 23)
    if name and not name[0].isalpha():
        name = _slug(f"s-{name}", 23)
    if not re.fullmatch(NAME_PATTERN[1:-1], name) or name == "gateway":
        raise _Problem(f"cannot make a server name from {key!r}: rename it to lowercase letters, digits and '-'")
    return name


def _basename(path: str) -> str:
    parts = [part for part in re.split(r"[/\\]", path) if part]
    return parts[-1] if parts else ""


def _volume(toolbox: str, server: str, label: str) -> str:
    return f"{toolbox}_{server}_{label}"[:64].rstrip("_.-")


def _filesystem(toolbox: str, server: str, args: list[str], notes: list[str]) -> dict[str, Any]:
    volumes, targets = [], []
    for directory in args:
        if directory.startswith("-"):
            raise _Problem(f"unknown option {directory!r} for server-filesystem (it takes directories only)")
        label = _slug(_basename(directory), 24) or "dir"
        target, n = f"/data/{label}", 2
        while target in targets:
            target, n = f"/data/{label}-{n}", n + 1
        targets.append(target)
        source = _volume(toolbox, server, target.rsplit("/", 1)[1])
        volumes.append({"source": source, "target": target, "read_only": True})
        notes.append(
            f"{server}: the directory {directory} becomes the volume {source}, mounted read-only at {target}; "
            "put the files into that volume on the nodes that may run the server"
        )
    if not args:
        notes.append(f"{server}: no directory was given; add volumes and list their targets in args")
    return {"kind": "filesystem", "args": targets, "volumes": volumes}


def _git(toolbox: str, server: str, args: list[str], notes: list[str]) -> dict[str, Any]:
    out, volumes, i = [], [], 0
    while i < len(args):
        arg = args[i]
        repository = None
        if arg in ("--repository", "-r") and i + 1 < len(args):
            repository, i = args[i + 1], i + 1
        elif arg.startswith("--repository="):
            repository = arg.split("=", 1)[1]
        if repository is None:
            out.append(arg)
        else:
            label = _slug(_basename(repository), 24) or "repo"
            target = f"/repos/{label}"
            source = _volume(toolbox, server, "repo")
            volumes.append({"source": source, "target": "/repos", "read_only": True})
            out += ["--repository", target]
            notes.append(
                f"{server}: the repository {repository} is expected at {target} in the volume {source}, mounted "
                "read-only at /repos; set read_only: false if the server should commit"
            )
        i += 1
    return {"kind": "git", "args": out, "volumes": volumes}


def _postgres(
    toolbox: str, server: str, args: list[str], env: dict[str, Any], notes: list[str], secrets: list[dict]
) -> dict[str, Any]:
    url = env.pop("DATABASE_URI", None) or env.pop("DATABASE_URL", None)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--access-mode", "--transport", "--sse-host", "--sse-port") and i + 1 < len(args):
            i += 1  # the image runs postgres-mcp read-only over stdio behind the bridge
        elif not arg.startswith("-") and "://" in arg:
            url = arg
        i += 1
    notes.append(f"{server}: postgres-mcp runs in its restricted (read-only) access mode in the toolbox")
    password_secret = f"{toolbox}_{server}_password"
    secrets.append(
        {"name": password_secret, "server": server, "env": None, "source": "the PostgreSQL password of " + server}
    )
    if not url:
        notes.append(f"{server}: no DATABASE_URI was given, so the stack runs its own PostgreSQL server")
        return {"kind": "postgres", "postgres": {"create_server": True, "password_secret": password_secret}}
    try:
        parts = urlsplit(str(url))
        hostname = parts.hostname
    except ValueError as error:
        raise _Problem(f"its database URL cannot be read ({error})") from None
    if not hostname:
        raise _Problem("cannot read the host from its database URL: use postgresql://user@host:5432/database")
    postgres: dict[str, Any] = {"create_server": False, "host": parts.hostname, "password_secret": password_secret}
    try:
        if parts.port:
            postgres["port"] = parts.port
    except ValueError as error:
        raise _Problem(f"its database URL has a bad port ({error})") from None
    database = unquote(parts.path.lstrip("/"))
    if database:
        postgres["database"] = database
    if parts.username:
        postgres["user"] = unquote(parts.username)
    if parts.hostname in ("localhost", "127.0.0.1", "::1"):
        notes.append(
            f"{server}: the database host {parts.hostname} is the container itself inside the toolbox; "
            "set postgres.host to an address the swarm nodes can reach"
        )
    return {"kind": "postgres", "postgres": postgres}


def _server(toolbox: str, key: str, entry: Any, notes: list[str], secrets: list[dict]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise _Problem("is not a mapping with command, args and env")
    if "url" in entry or entry.get("type") in ("http", "sse", "streamable-http", "streamableHttp"):
        raise _Problem(f"is a remote server (url), not one the toolbox can run; {USE_IMAGE}")
    command, args, env = entry.get("command"), entry.get("args", []), entry.get("env") or {}
    if not isinstance(command, str) or not command:
        raise _Problem("has no command")
    if not isinstance(args, list) or not all(isinstance(arg, (str, int, float)) for arg in args):
        raise _Problem("args must be a list of strings")
    if not isinstance(env, dict):
        raise _Problem("env must be a mapping of names to values")
    args, env = [str(arg) for arg in args], dict(env)
    name = _server_name(key)
    found = recognize(command, args)
    if found is None:
        line = " ".join([command, *args])[:120]
        raise _Problem(f"runs {line!r}, which is not one of the reference servers this importer knows; {USE_IMAGE}")
    kind, server_args = found
    server: dict[str, Any] = {"name": name}
    if kind == "filesystem":
        server.update(_filesystem(toolbox, name, server_args, notes))
    elif kind == "git":
        server.update(_git(toolbox, name, server_args, notes))
    elif kind == "postgres":
        server.update(_postgres(toolbox, name, server_args, env, notes, secrets))
    else:
        if kind == "everything":
            server_args = [arg for arg in server_args if arg not in EVERYTHING_TRANSPORTS]
        if kind == "memory" and env.pop("MEMORY_FILE_PATH", None) is not None:
            notes.append(
                f"{name}: MEMORY_FILE_PATH named a file on the client; the image keeps its store at "
                "/data/memory.jsonl: mount a volume at /data (read_only: false) to keep it"
            )
        server.update({"kind": kind, "args": server_args})
    server_secrets = []
    for env_name in list(env):
        if not looks_secret(str(env_name)):
            continue
        env.pop(env_name)
        secret = f"{toolbox}_{name}_{str(env_name).lower()}"
        if not re.fullmatch(SECRET_PATTERN[1:-1], secret):
            raise _Problem(f"the secret for env {env_name} would be named {secret!r}, too long: shorten the name")
        server_secrets.append({"name": secret, "env": f"{env_name}_FILE"})
        secrets.append({"name": secret, "server": name, "env": f"{env_name}_FILE", "source": f"env {env_name}"})
        notes.append(f"{name}: {env_name} is now the secret {secret}; the server reads its path from {env_name}_FILE")
    if env:
        server["env"] = {str(k): v if isinstance(v, (str, int, float, bool)) else str(v) for k, v in env.items()}
    if server_secrets:
        server["secrets"] = server_secrets
    if not server.get("args"):
        server.pop("args", None)
    return server


def mcp_servers_to_toolbox(config: Any, name: str, version: str = "0.1.0") -> dict[str, Any]:
    """Return ``{"toolbox": spec, "secrets": [...], "notes": [...]}`` for a client's mcpServers config.

    ``secrets`` lists every secret the user must supply (name, server, env, source), never a value;
    ``notes`` says what changed on the way (directories that became volumes, options dropped).
    """
    if isinstance(config, (str, bytes)):
        try:
            config = json.loads(config)
        except ValueError as error:
            raise AnsibleFilterError(f"mcp_servers_to_toolbox: the input is not JSON ({error})") from None
    servers_in = None
    if isinstance(config, dict):
        servers_in = config.get("mcpServers", config.get("servers"))
    if not isinstance(servers_in, dict) or not servers_in:
        raise AnsibleFilterError(
            'mcp_servers_to_toolbox expects {"mcpServers": {"<name>": {"command": ..., "args": [...], "env": {...}}}} '
            '(VS Code\'s {"servers": ...} works too) with at least one server'
        )
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN[1:-1], name):
        raise AnsibleFilterError(
            f"mcp_servers_to_toolbox: the toolbox name {name!r} must be a lowercase letter, then up to 22 "
            "lowercase letters, digits or '-'"
        )
    notes: list[str] = []
    secrets: list[dict] = []
    servers: list[dict] = []
    problems: list[str] = []
    for key, entry in servers_in.items():
        try:
            servers.append(_server(name, str(key), entry, notes, secrets))
        except _Problem as problem:
            problems.append(f"mcpServers.{key}: {problem}")
    spec = {"name": name, "version": str(version), "servers": servers}
    if not problems:
        seen: dict[str, str] = {}
        for key, server in zip(servers_in, servers, strict=True):
            if server["name"] in seen:
                problems.append(
                    f"mcpServers.{key}: its name becomes {server['name']}, "
                    f"like that of mcpServers.{seen[server['name']]}: rename one"
                )
            seen.setdefault(server["name"], str(key))
    if not problems:
        problems = [str(error) for error in validate(spec)]
    if problems:
        raise AnsibleFilterError("mcp_servers_to_toolbox cannot convert every server:\n" + "\n".join(problems))
    secrets.insert(
        0, {"name": f"{name}_token", "server": "gateway", "env": None, "source": "gateway tokens, one per line"}
    )
    return {"toolbox": spec, "secrets": secrets, "notes": notes}


class FilterModule:
    def filters(self):
        return {"mcp_servers_to_toolbox": mcp_servers_to_toolbox}
