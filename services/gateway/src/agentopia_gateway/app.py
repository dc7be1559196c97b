# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway as one explicit ASGI app: checks in a fixed order, then the route.

Order for every request: /health and /metrics (GET, no auth, no Host check) -> Host (DNS rebinding, 403) ->
Origin (403) -> Bearer token (401) -> per-token rate limit (429) -> route (/mcp, /servers/<name>/mcp, else 404).
/health and /metrics come first because their callers reach the gateway by address, not by a published name:
the HEALTHCHECK by 127.0.0.1, Prometheus by the task's overlay IP. They are read-only and carry no secret.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.types import Message, Receive, Scope, Send

from .aggregate import Aggregator, BackendPool
from .auth import HostPolicy, RateLimiter, TokenStore
from .backends import Backend, Resolver, dns_resolver
from .config import Settings
from .endpoint import AggregateEndpoint
from .errors import json_error
from .metrics import Metrics
from .proxy import PassThrough

access_log = logging.getLogger("agentopia_gateway.access")
logger = logging.getLogger("agentopia_gateway")

REALM = 'Bearer realm="agentopia-gateway"'


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


class Gateway:
    def __init__(self, settings: Settings, resolver: Resolver = dns_resolver) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.tokens = TokenStore(settings.token_files)
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_burst)
        self.hosts = HostPolicy(settings.allowed_hosts, settings.allowed_origins)
        self.backends = {b.name: Backend(b, settings, resolver, self.metrics) for b in settings.backends}
        self.pools = {name: BackendPool(backend, settings, self.metrics) for name, backend in self.backends.items()}
        self.aggregator = Aggregator(self.pools, self.metrics)
        self.mcp_server = self.aggregator.server()
        # The SDK's per-message OpenTelemetry middleware costs CPU on every call and this gateway exports no
        # traces (its metrics are Prometheus): leave it out.
        self.mcp_server.middleware = []
        self.session_manager = StreamableHTTPSessionManager(
            app=self.mcp_server,
            max_request_body_size=settings.max_body_bytes,
            session_idle_timeout=settings.session_idle_timeout,
            max_sessions=settings.max_sessions,
        )
        # /mcp is served by our endpoint; the SDK's manager above only takes the requests of protocol
        # revisions without the initialize handshake (endpoint.py says why).
        self.endpoint = AggregateEndpoint(self.aggregator, self.session_manager, settings, self.metrics)
        self.passthrough = PassThrough(settings.max_body_bytes, self.metrics)

    # -- lifecycle -----------------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(self.tokens.reload)
        self.tokens.require_some()
        try:
            async with self.session_manager.run(), anyio.create_task_group() as tg:
                tg.start_soon(self._reload_tokens)
                for pool in self.pools.values():
                    tg.start_soon(pool.run)
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                for backend in self.backends.values():
                    await backend.aclose()

    async def _reload_tokens(self) -> None:
        while True:
            await anyio.sleep(self.settings.token_reload_interval)
            await anyio.to_thread.run_sync(self.tokens.reload)

    # -- ASGI ----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        started = False
        try:
            async with self.lifespan():
                await send({"type": "lifespan.startup.complete"})
                started = True
                message = await receive()
        except Exception as exc:
            if started:
                raise
            logger.error("startup failed: %s", exc)
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        status_box = [0]
        header_time = [0.0]

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                header_time[0] = time.perf_counter()
            await send(message)

        route, server = self._route(path)
        token_label = "-"
        try:
            token_label = await self._dispatch(scope, receive, tracked_send, route, server)
        finally:
            status = status_box[0] or 499
            elapsed = (header_time[0] or time.perf_counter()) - started
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.request_seconds.labels(route).observe(elapsed)
            if route not in ("health", "metrics"):
                client = scope.get("client")
                access_log.info(
                    json.dumps(
                        {
                            "ts": round(time.time(), 3),
                            "method": method,
                            "route": route,
                            "server": server,
                            "status": status,
                            "ms": round(elapsed * 1000, 2),
                            "total_ms": round((time.perf_counter() - started) * 1000, 2),
                            "token": token_label,
                            "client": client[0] if client else None,
                        },
                        separators=(",", ":"),
                    )
                )

    def _route(self, path: str) -> tuple[str, str | None]:
        if path == "/health":
            return "health", None
        if path == "/metrics":
            return "metrics", None
        if path in ("/mcp", "/mcp/"):
            return "aggregate", None
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "servers" and parts[2] == "mcp":
            # Only configured names reach labels and logs: no unbounded label values from URLs.
            return "server", parts[1] if parts[1] in self.backends else None
        return "other", None

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send, route: str, server: str | None) -> str:
        if route in ("health", "metrics"):
            if scope["method"] not in ("GET", "HEAD"):
                await json_error(send, 405, "method_not_allowed", "use GET", {"allow": "GET"})
            elif route == "health":
                await self._health(send)
            else:
                await self._metrics(send)
            return "-"
        if not self.hosts.host_ok(_header(scope, b"host")):
            self.metrics.rejected.labels("host").inc()
            await json_error(send, 403, "forbidden_host", "Host header is not one this gateway serves")
            return "-"
        if not self.hosts.origin_ok(_header(scope, b"origin")):
            self.metrics.rejected.labels("origin").inc()
            await json_error(send, 403, "forbidden_origin", "Origin is not allowed")
            return "-"
        authorization = _header(scope, b"authorization")
        if not authorization:
            self.metrics.rejected.labels("no_token").inc()
            await json_error(
                send, 401, "unauthorized", "send Authorization: Bearer <token>", {"www-authenticate": REALM}
            )
            return "-"
        scheme, _sep, presented = authorization.partition(" ")
        ident = self.tokens.verify(presented.strip()) if scheme.lower() == "bearer" and presented.strip() else None
        if ident is None:
            self.metrics.rejected.labels("bad_token").inc()
            await json_error(
                send,
                401,
                "unauthorized",
                "the bearer token is not valid",
                {"www-authenticate": REALM + ', error="invalid_token"'},
            )
            return "-"
        allowed, retry_after = self.limiter.allow(ident)
        if not allowed:
            self.metrics.rejected.labels("rate_limit").inc()
            await json_error(
                send,
                429,
                "rate_limited",
                f"over {self.settings.rate_limit:g} requests per second for this token",
                {"retry-after": str(max(1, round(retry_after + 0.5)))},
            )
            return ident
        if route == "aggregate":
            await self.endpoint(scope, receive, send)
        elif route == "server" and server is not None:
            await self.passthrough(scope, receive, send, self.backends[server])
        elif route == "server":
            await json_error(send, 404, "unknown_server", "no server by that name; GET /health lists them")
        else:
            await json_error(send, 404, "not_found", "endpoints: /mcp, /servers/<name>/mcp, /health, /metrics")
        return ident

    def health(self) -> dict[str, Any]:
        backends = {name: "ready" if b.ready else "unavailable" for name, b in self.backends.items()}
        status = "ok" if all(v == "ready" for v in backends.values()) else "degraded"
        return {"status": status, "backends": backends}

    async def _health(self, send: Send) -> None:
        body = json.dumps(self.health()).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _metrics(self, send: Send) -> None:
        body, content_type = self.metrics.render()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type.encode())]}
        )
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings, resolver: Resolver = dns_resolver) -> Gateway:
    return Gateway(settings, resolver)
