# SPDX-License-Identifier: GPL-3.0-or-later
"""The aggregate endpoint /mcp: one MCP server (the SDK's) whose handlers forward to long-lived, pooled
backend client sessions (the SDK's client), one per backend replica.

Names are prefixed per server: tool and prompt names become `<server>__<name>`, resource URIs and URI
templates become `<server>+<uri>`. Server names match ^[a-z][a-z0-9-]*$ and never contain "__" or "+",
so the first "__" (or "+") splits a prefixed name back into server and original, always.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError

from . import __version__
from .backends import Backend, BackendTransport, Replica
from .config import SERVER_NAME_RE, Settings
from .metrics import Metrics

logger = logging.getLogger("agentopia_gateway.aggregate")

NAME_SEP = "__"
URI_SEP = "+"


def prefix_name(server: str, name: str) -> str:
    return f"{server}{NAME_SEP}{name}"


def split_name(prefixed: str) -> tuple[str, str] | None:
    server, sep, name = prefixed.partition(NAME_SEP)
    if not sep or not name or not SERVER_NAME_RE.match(server):
        return None
    return server, name


def prefix_uri(server: str, uri: str) -> str:
    return f"{server}{URI_SEP}{uri}"


def split_uri(prefixed: str) -> tuple[str, str] | None:
    server, sep, uri = prefixed.partition(URI_SEP)
    if not sep or not uri or not SERVER_NAME_RE.match(server):
        return None
    return server, uri


class BackendTimeout(MCPError):
    """A backend did not answer within its timeout; the metrics count it as outcome "timeout"."""


@dataclass(slots=True)
class Link:
    """One pooled backend session: the SDK client, and what the raw tools/call path (endpoint.py) needs to
    post on that same session: its HTTP client, URL, session ID and negotiated protocol version."""

    client: Client
    http: httpx2.AsyncClient
    url: str
    session_id: str | None = None
    protocol_version: str = ""


class BackendPool:
    """Pooled client sessions to one backend's replicas, kept alive and probed; the cached tool list."""

    def __init__(self, backend: Backend, settings: Settings, metrics: Metrics) -> None:
        self.backend = backend
        self.settings = settings
        self.metrics = metrics
        self.sessions: dict[str, Link] = {}
        self._tools: list[types.Tool] | None = None
        self._tools_at = 0.0
        self._tools_lock = anyio.Lock()
        self._rr = 0
        self._wake = anyio.Event()

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def ready(self) -> bool:
        return bool(self.sessions)

    def invalidate(self) -> None:
        self._tools = None

    def pick(self) -> Link | None:
        live = [c for key, c in self.sessions.items() if (r := self.backend.replicas.get(key)) is not None and r.up]
        if not live:
            live = list(self.sessions.values())
        if not live:
            return None
        self._rr += 1
        return live[self._rr % len(live)]

    async def run(self) -> None:
        """Supervise: re-resolve the replicas and keep one session per replica, forever."""
        running: dict[str, anyio.CancelScope] = {}
        async with anyio.create_task_group() as tg:
            while True:
                await self.backend.resolve()
                self.backend.expire_pins()
                for key, replica in self.backend.replicas.items():
                    if key not in running:
                        scope = anyio.CancelScope()
                        running[key] = scope
                        tg.start_soon(self._replica_task, replica, scope, running)
                for key in set(running) - set(self.backend.replicas):
                    running.pop(key).cancel()
                with anyio.move_on_after(self.settings.health_interval):
                    await self._wake.wait()
                self._wake = anyio.Event()

    async def _replica_task(
        self, replica: Replica, scope: anyio.CancelScope, running: dict[str, anyio.CancelScope]
    ) -> None:
        reason = "stopped"
        try:
            with scope:
                reason = await self._serve_replica(replica, scope)
        finally:
            if running.get(replica.key) is scope:
                del running[replica.key]
            if self.sessions.pop(replica.key, None) is not None:
                self.invalidate()
            if replica.key in self.backend.replicas:
                self.backend.mark_down(replica, reason)

    async def _serve_replica(self, replica: Replica, scope: anyio.CancelScope) -> str:
        budget = self.settings.connect_timeout + self.backend.config.timeout
        http = httpx2.AsyncClient(
            headers={"Host": self.backend.host_header},
            timeout=httpx2.Timeout(connect=self.settings.connect_timeout, read=None, write=budget, pool=None),
            transport=BackendTransport(
                httpx2.Limits(
                    max_connections=self.settings.aggregate_max_connections,
                    keepalive_expiry=self.settings.backend_keepalive,
                ),
                drain_timeout=self.settings.backend_drain_timeout,
                drain_bytes=self.settings.backend_drain_bytes,
            ),
            follow_redirects=False,
            trust_env=False,
        )
        link: Link | None = None

        async def session_id_of(response: httpx2.Response) -> None:
            # The backend's session ID, from the initialize answer (the SDK client keeps it to itself).
            sid = response.headers.get("mcp-session-id")
            if sid and link is not None:
                link.session_id = sid

        http.event_hooks["response"] = [session_id_of]
        client = Client(
            streamable_http_client(replica.base_url, http_client=http),
            mode="legacy",
            cache=None,
            message_handler=self._on_message,
            client_info=types.Implementation(name="agentopia-gateway", version=__version__),
        )
        link = Link(client, http, replica.base_url)
        try:
            # Deadline on the whole task while the handshake runs; lifted once the session is up, so no
            # cancel scope opened here has to close before the client's own task groups do.
            scope.deadline = anyio.current_time() + budget
            async with http, client:
                scope.deadline = math.inf
                http.event_hooks["response"] = []  # the ID is known: no hook on every call
                link.protocol_version = client.protocol_version
                self.sessions[replica.key] = link
                self.backend.mark_up(replica)
                self.invalidate()
                while True:
                    await anyio.sleep(self.settings.health_interval)
                    try:
                        with anyio.fail_after(self.backend.config.timeout):
                            # ping is how legacy-era sessions are probed (Client.send_ping warns that the
                            # 2026-07-28 era has none; these sessions are legacy on purpose).
                            await client.session.send_request(types.PingRequest(), types.EmptyResult)
                    except TimeoutError:
                        return "ping timed out"
                    self.backend.mark_up(replica)
        except Exception as exc:  # any failure of the session ends it; the supervisor starts a new one
            logger.info("backend %s: session to %s ended (%s: %s)", self.name, replica.key, type(exc).__name__, exc)
            return type(exc).__name__
        finally:
            if scope.cancel_called and scope.deadline != math.inf:
                logger.info("backend %s: %s did not complete the MCP handshake in time", self.name, replica.key)

    async def _on_message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            logger.info("backend %s: tool list changed", self.name)
            self.invalidate()
        elif isinstance(message, Exception):
            logger.debug("backend %s: transport error %s", self.name, message)

    async def tools(self) -> list[types.Tool]:
        now = time.monotonic()
        tools = self._tools
        if tools is not None and now - self._tools_at < self.settings.tools_cache_ttl:
            return tools
        async with self._tools_lock:
            if self._tools is not None and time.monotonic() - self._tools_at < self.settings.tools_cache_ttl:
                return self._tools
            fetched = await self.call(_list_all_tools)
            self._tools = [t.model_copy(update={"name": prefix_name(self.name, t.name)}) for t in fetched]
            self._tools_at = time.monotonic()
            return self._tools

    def unavailable(self) -> MCPError:
        return MCPError(
            types.INTERNAL_ERROR,
            f"server {self.name!r} is unavailable (no replica answers); its tools return when it does",
        )

    def timed_out(self) -> BackendTimeout:
        return BackendTimeout(
            types.INTERNAL_ERROR, f"server {self.name!r} did not answer within {self.backend.config.timeout:g} s"
        )

    def failed(self, why: str) -> MCPError:
        self._wake.set()  # let the supervisor look at this replica now
        return MCPError(types.INTERNAL_ERROR, f"server {self.name!r} failed: {why}")

    async def call(self, op: Callable[[Client], Awaitable[Any]]) -> Any:
        link = self.pick()
        if link is None:
            raise self.unavailable()
        try:
            with anyio.fail_after(self.backend.config.timeout):
                return await op(link.client)
        except TimeoutError:
            raise self.timed_out() from None
        except MCPError:
            raise
        except Exception as exc:
            raise self.failed(type(exc).__name__) from None


async def _list_all_tools(client: Client) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        result = await client.session.list_tools(params=params)
        tools.extend(result.tools)
        cursor = result.next_cursor
        if not cursor:
            return tools


def _progress_token(ctx: ServerRequestContext[Any, Any]) -> Any:
    meta = ctx.meta
    if not meta:
        return None
    if isinstance(meta, dict):
        return meta.get("progress_token", meta.get("progressToken"))
    return getattr(meta, "progress_token", None)


class Aggregator:
    """Builds the SDK Server for /mcp over the pools."""

    def __init__(self, pools: dict[str, BackendPool], metrics: Metrics) -> None:
        self.pools = pools
        self.metrics = metrics

    def _pool(self, server: str, what: str, full: str) -> BackendPool:
        pool = self.pools.get(server)
        if pool is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown {what} {full!r}: no server named {server!r}")
        return pool

    def pool_and_name(self, full: str, what: str) -> tuple[BackendPool, str]:
        """The pool a prefixed name belongs to and the name on that server; MCPError if there is none."""
        parts = split_name(full)
        if parts is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown {what} {full!r}: names here are <server>{NAME_SEP}<{what}>")
        return self._pool(parts[0], what, full), parts[1]

    def _split_uri(self, full: str) -> tuple[BackendPool, str]:
        parts = split_uri(full)
        if parts is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown resource {full!r}: URIs here are <server>{URI_SEP}<uri>")
        return self._pool(parts[0], "resource", full), parts[1]

    async def _gather(self, fetch: Callable[[BackendPool], Awaitable[list[Any]]]) -> list[Any]:
        """Ask every ready backend at once; one that is down or slow only loses its own entries."""
        results: dict[str, list[Any]] = {}

        async def one(pool: BackendPool) -> None:
            try:
                results[pool.name] = await fetch(pool)
            except MCPError as exc:
                logger.info("backend %s left out of a listing: %s", pool.name, exc.message)

        async with anyio.create_task_group() as tg:
            for pool in self.pools.values():
                if pool.ready:
                    tg.start_soon(one, pool)
        return [item for name in self.pools if name in results for item in results[name]]

    async def list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await self._gather(lambda p: p.tools()))

    async def call_tool(self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams) -> Any:
        pool, name = self.pool_and_name(params.name, "tool")
        token = _progress_token(ctx)
        progress = None
        if token is not None:

            async def progress(value: float, total: float | None, message: str | None) -> None:
                try:
                    await ctx.session.send_progress_notification(
                        token, value, total, message, related_request_id=ctx.request_id
                    )
                except Exception as exc:  # the client may be gone; the call itself goes on
                    logger.debug("progress not delivered: %s", exc)

        started = time.perf_counter()
        outcome = "error"
        try:
            # send_request rather than session.call_tool: the gateway relays the backend's result as it is,
            # without validating it against the output schema (the client does that, against the same schema).
            request = types.CallToolRequest(params=types.CallToolRequestParams(name=name, arguments=params.arguments))
            result = await pool.call(
                lambda c: c.session.send_request(request, types.CallToolResult, progress_callback=progress)
            )
            outcome = "error" if getattr(result, "is_error", False) else "ok"
            return result
        except MCPError as exc:
            outcome = "timeout" if isinstance(exc, BackendTimeout) else "unavailable"
            raise
        finally:
            self.metrics.tool_calls.labels(pool.name, name, outcome).inc()
            self.metrics.tool_seconds.labels(pool.name).observe(time.perf_counter() - started)

    async def list_resources(self, ctx: Any, params: Any) -> types.ListResourcesResult:
        async def fetch(pool: BackendPool) -> list[types.Resource]:
            result = await pool.call(lambda c: c.session.list_resources())
            return [
                r.model_copy(update={"uri": prefix_uri(pool.name, r.uri), "name": prefix_name(pool.name, r.name)})
                for r in result.resources
            ]

        return types.ListResourcesResult(resources=await self._gather(fetch))

    async def list_resource_templates(self, ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        async def fetch(pool: BackendPool) -> list[types.ResourceTemplate]:
            result = await pool.call(lambda c: c.session.list_resource_templates())
            return [
                t.model_copy(
                    update={
                        "uri_template": prefix_uri(pool.name, t.uri_template),
                        "name": prefix_name(pool.name, t.name),
                    }
                )
                for t in result.resource_templates
            ]

        return types.ListResourceTemplatesResult(resource_templates=await self._gather(fetch))

    async def read_resource(self, ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        pool, uri = self._split_uri(params.uri)
        result = await pool.call(lambda c: c.session.read_resource(uri))
        contents = [
            c.model_copy(update={"uri": prefix_uri(pool.name, c.uri)}) if split_uri(c.uri) is None else c
            for c in result.contents
        ]
        return result.model_copy(update={"contents": contents})

    async def list_prompts(self, ctx: Any, params: Any) -> types.ListPromptsResult:
        async def fetch(pool: BackendPool) -> list[types.Prompt]:
            result = await pool.call(lambda c: c.session.list_prompts())
            return [p.model_copy(update={"name": prefix_name(pool.name, p.name)}) for p in result.prompts]

        return types.ListPromptsResult(prompts=await self._gather(fetch))

    async def get_prompt(self, ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        pool, name = self.pool_and_name(params.name, "prompt")
        return await pool.call(lambda c: c.session.get_prompt(name, params.arguments))

    async def complete(self, ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        ref = params.ref
        if isinstance(ref, types.PromptReference):
            pool, name = self.pool_and_name(ref.name, "prompt")
            backend_ref: Any = ref.model_copy(update={"name": name})
        else:
            pool, uri = self._split_uri(ref.uri)
            backend_ref = ref.model_copy(update={"uri": uri})
        context = params.context.arguments if params.context else None
        argument = {"name": params.argument.name, "value": params.argument.value}
        return await pool.call(lambda c: c.session.complete(backend_ref, argument, context))

    async def set_logging_level(self, ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        # The backend sessions behind /mcp are shared by every client, so one client's level must not reach
        # them: the level is accepted and nothing else changes (no backend log messages are relayed here).
        # A client that needs a server's log stream uses /servers/<name>/mcp, where the session is its own.
        return types.EmptyResult()

    def server(self) -> Server[Any]:
        return Server(
            "agentopia-gateway",
            version=__version__,
            instructions=(
                "Tools, prompts and resources of several MCP servers. Tool and prompt names are "
                f"<server>{NAME_SEP}<name>; resource URIs are <server>{URI_SEP}<uri>."
            ),
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_list_resources=self.list_resources,
            on_list_resource_templates=self.list_resource_templates,
            on_read_resource=self.read_resource,
            on_list_prompts=self.list_prompts,
            on_get_prompt=self.get_prompt,
            on_completion=self.complete,
            on_set_logging_level=self.set_logging_level,
        )
