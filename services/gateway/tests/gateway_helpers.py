# SPDX-License-Identifier: GPL-3.0-or-later
"""Loopback MCP backends (the SDK's MCPServer) and the gateway, all served by uvicorn in the test's event loop.

A module of its own name, not conftest: every service's tests can run in one pytest session."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from agentopia_gateway.app import Gateway
from agentopia_gateway.config import BackendConfig, Settings
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

TOKEN = "test-token-0123456789abcdef"


class Answer(BaseModel):
    name: str


def make_backend(label: str) -> MCPServer:
    """A small server whose tools expose who answered, so tests can tell replicas and sessions apart."""
    server = MCPServer(label)
    calls = {"n": 0}

    @server.tool()
    def whoami() -> str:
        """Name of the backend that answered."""
        return label

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        calls["n"] += 1
        return a + b

    @server.tool()
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await anyio.sleep(seconds)
        return "done"

    @server.tool()
    async def count(steps: int, ctx: Context) -> str:
        """Report progress for each step."""
        for i in range(steps):
            await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        return f"counted {steps}"

    @server.tool()
    async def ask_name(ctx: Context) -> str:
        """Ask the client for a name (elicitation: a server-to-client request)."""
        result = await ctx.elicit("What is your name?", Answer)
        if result.action == "accept" and result.data is not None:
            return f"hello {result.data.name}"
        return f"no name ({result.action})"

    @server.resource("note://{label}/readme")
    def readme(label: str) -> str:
        """A templated note."""
        return f"readme of {label}"

    @server.resource("note://static")
    def static_note() -> str:
        """A fixed note."""
        return f"static note from {label}"

    @server.prompt()
    def greet(who: str) -> str:
        """A greeting prompt."""
        return f"Greet {who} from {label}"

    return server


@contextlib.asynccontextmanager
async def serve(app: Any, port: int = 0) -> AsyncIterator[int]:
    """Run an ASGI app with uvicorn on 127.0.0.1 inside the current event loop; yield its port."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                if server.should_exit:
                    raise RuntimeError("uvicorn failed to start")
                await anyio.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield bound
        finally:
            server.should_exit = True
            server.force_exit = True
            tg.cancel_scope.deadline = anyio.current_time() + 5


class Killable:
    """A uvicorn server in its own task that a test can stop while other servers keep running."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on")
        )
        self.port = 0

    async def start(self, tg: Any) -> int:
        tg.start_soon(self.server.serve)
        await wait_for(lambda: self.server.started)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        self.server.should_exit = True
        self.server.force_exit = True
        await wait_for(lambda: not self.server.servers or all(not s.is_serving() for s in self.server.servers))


@contextlib.asynccontextmanager
async def serve_backend(label: str, port: int = 0) -> AsyncIterator[int]:
    app = make_backend(label).streamable_http_app(host="127.0.0.1")
    async with serve(app, port) as bound:
        yield bound


def settings_for(tmp_path: Path, backends: dict[str, str], **overrides: Any) -> Settings:
    token_file = tmp_path / "tokens"
    if not token_file.exists():
        token_file.write_text(TOKEN + "\n")
    base = Settings(
        # Generous: the unit tier shares a small host with other work; the timeout test sets its own.
        backends=tuple(BackendConfig(name=n, url=u, timeout=15.0) for n, u in backends.items()),
        token_files=(str(token_file),),
        health_interval=0.2,
        connect_timeout=1.0,
        token_reload_interval=0.05,
        rate_limit=0,
    )
    return replace(base, **overrides)


@contextlib.asynccontextmanager
async def serve_gateway(settings: Settings, resolver: Any = None) -> AsyncIterator[tuple[Gateway, str]]:
    gateway = Gateway(settings, resolver) if resolver else Gateway(settings)
    async with serve(gateway) as port:
        yield gateway, f"http://127.0.0.1:{port}"


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    with anyio.fail_after(timeout):
        while not predicate():
            await anyio.sleep(0.02)


@contextlib.asynccontextmanager
async def client(url: str, token: str = TOKEN, **kwargs: Any) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), cache=None, **kwargs) as c,
    ):
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
