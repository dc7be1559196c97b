# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The server kinds: what each one is, in one table (private to the collection).

The spec schema takes the kind names from here, the ``mcpServers`` importer the names a client's
command line starts a kind by, and the mcp_images role (through the ``mcp_kinds`` filter) the runtime
each image builds on and the settings its Dockerfile needs. The table's order is the build order.
What a user may choose (package versions, default args) stays in the role's defaults.
"""

from __future__ import annotations

from typing import Any, NamedTuple

# The runtime image a kind's image starts FROM.
NODE = "node"
PYTHON = "python"
# postgres-mcp needs Python >= 3.12, which Debian 12 lacks.
PYTHON_TRIXIE = "python-trixie"
RUNTIMES = (NODE, PYTHON, PYTHON_TRIXIE)


class Kind(NamedTuple):
    name: str
    runtime: str
    # The server's command in its image.
    bin: str
    # The npm or PyPI package (no version), as a client's npx / uvx command names it.
    package: str
    # The Python module a client may start with `python -m`.
    module: str | None = None
    # Environment, Debian packages and a setup command the image needs, and a command the server runs under.
    env: dict[str, str] | None = None
    apt: tuple[str, ...] = ()
    setup: str | None = None
    wrapper: tuple[str, ...] = ()

    def image_settings(self) -> dict[str, Any]:
        """What the image's Dockerfile needs besides the package: only the settings this kind has."""
        settings: dict[str, Any] = {"bin": self.bin}
        if self.env:
            settings["env"] = dict(self.env)
        if self.apt:
            settings["apt"] = list(self.apt)
        if self.setup:
            settings["setup"] = self.setup
        if self.wrapper:
            settings["wrapper"] = list(self.wrapper)
        return settings

    def as_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "bin": self.bin,
            "package": self.package,
            "module": self.module,
            "image": self.image_settings(),
        }


TABLE: tuple[Kind, ...] = (
    Kind("filesystem", NODE, "mcp-server-filesystem", "@modelcontextprotocol/server-filesystem"),
    Kind("git", PYTHON, "mcp-server-git", "mcp-server-git", module="mcp_server_git", apt=("git",),
         # Repositories on volumes belong to other users; git refuses those unless trusted.
         setup="git config --system safe.directory '*'"),
    Kind("fetch", PYTHON, "mcp-server-fetch", "mcp-server-fetch", module="mcp_server_fetch"),
    Kind("time", PYTHON, "mcp-server-time", "mcp-server-time", module="mcp_server_time"),
    Kind("memory", NODE, "mcp-server-memory", "@modelcontextprotocol/server-memory",
         env={"MEMORY_FILE_PATH": "/data/memory.jsonl"}),
    Kind("everything", NODE, "mcp-server-everything", "@modelcontextprotocol/server-everything"),
    Kind("postgres", PYTHON_TRIXIE, "postgres-mcp", "postgres-mcp", module="postgres_mcp",
         # postgres-mcp reads DATABASE_URI from the environment only: DATABASE_URI_FILE names the secret.
         wrapper=("python3", "/opt/agentopia/file_env.py")),
)  # fmt: skip

KINDS: dict[str, Kind] = {kind.name: kind for kind in TABLE}
NAMES: tuple[str, ...] = tuple(KINDS)


def by_runtime(runtime: str) -> dict[str, Kind]:
    """The kinds whose image builds on ``runtime``, in build order."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}: one of {', '.join(RUNTIMES)}")
    return {kind.name: kind for kind in TABLE if kind.runtime == runtime}


def launch_names() -> dict[str, str]:
    """Package, console script and binary names a client starts a kind by -> the kind."""
    names: dict[str, str] = {}
    for kind in TABLE:
        names[kind.package] = kind.name
        names[kind.bin] = kind.name
    return names


def python_modules() -> dict[str, str]:
    """``python -m`` module -> the kind."""
    return {kind.module: kind.name for kind in TABLE if kind.module}
