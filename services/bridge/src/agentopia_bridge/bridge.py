# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP side of the bridge: POST /mcp, DELETE /mcp, GET /health, and `serve` that runs it with its child."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from typing import Any

from agentopia_bridge import http11
from agentopia_bridge.child import Child
from agentopia_bridge.config import Settings
from agentopia_bridge.http11 import HttpError, Request, send, send_json
from agentopia_bridge.protocol import (
    HEALTH_AGENT,
    INVALID_REQUEST,
    PARSE_ERROR,
    PROTOCOL_VERSIONS,
    SERVER_UNAVAILABLE,
    error_message,
    log,
)
from agentopia_bridge.sessions import Sessions


class Bridge:
    """Sessions, POST /mcp, DELETE /mcp, GET /health, over one shared child."""

    def __init__(self, settings: Settings, child: Child) -> None:
        self.settings = settings
        self.child = child
        self.sessions = Sessions(settings.max_sessions, settings.session_idle_seconds)

    async def handle_connection(self, reader: Any, writer: Any) -> None:
        try:
            while True:
                try:
                    request = await asyncio.wait_for(
                        http11.read_request(reader, writer, self.settings.max_body_bytes),
                        self.settings.keepalive_seconds,
                    )
                except HttpError as exc:
                    body = error_message(None, INVALID_REQUEST, str(exc))
                    await send(writer, exc.status, json.dumps(body).encode(), close=True)
                    return
                if request is None:
                    return
                started = time.monotonic()
                status, label = await self._dispatch(request, writer)
                quiet = status < 400 and request.headers.get("user-agent") == HEALTH_AGENT
                log.log(
                    logging.DEBUG if quiet else logging.INFO,
                    "%s %s %d %s %.1f ms",
                    request.method,
                    request.path,
                    status,
                    label,
                    1000 * (time.monotonic() - started),
                )
                if request.headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except Exception as exc:  # a bug must cost one connection, not the bridge, and log one line
            log.error("connection dropped: %s: %s", type(exc).__name__, exc)
        finally:
            writer.close()

    async def _dispatch(self, request: Request, writer: Any) -> tuple[int, str]:
        if request.path == "/health" and request.method == "GET":
            return await self._health(writer), "health"
        if request.path != "/mcp":
            await send_json(writer, 404, error_message(None, INVALID_REQUEST, "not found: the endpoint is /mcp"))
            return 404, ""
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
            # DNS-rebinding guard: a browser page from elsewhere must not drive the server.
            await send_json(writer, 403, error_message(None, INVALID_REQUEST, "Origin does not match Host"))
            return 403, "origin"
        if request.method == "POST":
            return await self._post(request, writer)
        if request.method == "DELETE":
            return await self._delete(request, writer)
        await send(writer, 405, headers={"Allow": "POST, DELETE"})
        return 405, ""

    async def _health(self, writer: Any) -> int:
        if self.child.ready.is_set() and self.child.init_result is not None:
            info = self.child.init_result.get("serverInfo", {})
            await send_json(writer, 200, {"status": "ok", "server": info, "sessions": len(self.sessions)})
            return 200
        await send_json(writer, 503, {"status": "starting"})
        return 503

    async def _delete(self, request: Request, writer: Any) -> tuple[int, str]:
        session_id = request.headers.get("mcp-session-id", "")
        if not self.sessions.end(session_id):
            await send_json(writer, 404, error_message(None, INVALID_REQUEST, "session not found"))
            return 404, "delete"
        await self.child.cancel_session(session_id, "session ended")
        await send(writer, 200)
        return 200, "delete"

    async def _post(self, request: Request, writer: Any) -> tuple[int, str]:
        accept = request.headers.get("accept", "*/*").lower()
        sse = "text/event-stream" in accept
        if not (sse or "application/json" in accept or "*/*" in accept):
            message = "Accept must include application/json or text/event-stream"
            await send_json(writer, 406, error_message(None, INVALID_REQUEST, message))
            return 406, ""
        if not request.headers.get("content-type", "").lower().startswith("application/json"):
            message = "Content-Type must be application/json"
            await send_json(writer, 415, error_message(None, INVALID_REQUEST, message))
            return 415, ""
        try:
            body = json.loads(request.body)
        except ValueError:
            await send_json(writer, 400, error_message(None, PARSE_ERROR, "Parse error: the body is not JSON"))
            return 400, "parse-error"
        messages = body if isinstance(body, list) else [body]
        if not messages or not all(isinstance(m, dict) and m.get("jsonrpc") == "2.0" for m in messages):
            message = "Invalid Request: expected JSON-RPC 2.0 message objects"
            await send_json(writer, 400, error_message(None, INVALID_REQUEST, message))
            return 400, "invalid"
        if any(m.get("method") == "initialize" for m in messages):
            if len(messages) != 1 or "id" not in messages[0]:
                message = "initialize must be a request on its own"
                await send_json(writer, 400, error_message(None, INVALID_REQUEST, message))
                return 400, "initialize"
            return await self._initialize(messages[0], writer), "initialize"

        session_id = request.headers.get("mcp-session-id")
        first = messages[0].get("id")
        label = ",".join(str(m.get("method", "response"))[:60] for m in messages[:5]).encode("unicode_escape").decode()
        if session_id is None:
            message = "Bad Request: Mcp-Session-Id header is required (initialize first)"
            await send_json(writer, 400, error_message(first, INVALID_REQUEST, message))
            return 400, f"{label} (no session)"
        session = self.sessions.get(session_id)
        if session is None:
            await send_json(writer, 404, error_message(first, INVALID_REQUEST, "Session not found"))
            return 404, f"{label} (unknown session)"
        version = request.headers.get("mcp-protocol-version")
        if version is not None and version not in PROTOCOL_VERSIONS:
            message = f"Unsupported MCP-Protocol-Version {version!r}; supported: {', '.join(PROTOCOL_VERSIONS)}"
            await send_json(writer, 400, error_message(first, INVALID_REQUEST, message))
            return 400, f"{label} (bad version)"
        session.last_seen = time.monotonic()

        requests = [m for m in messages if "method" in m and "id" in m]
        for note in (m for m in messages if "method" in m and "id" not in m):
            await self._client_notification(session_id, note)
        # Responses from the client are ignored: the bridge never forwards server-to-client requests.
        if not requests:
            await send(writer, 202)
            return 202, label
        return await self._forward(session_id, requests, writer, sse, batch=isinstance(body, list)), label

    async def _client_notification(self, session_id: str, note: dict[str, Any]) -> None:
        if note.get("method") != "notifications/cancelled":
            return  # initialized, roots/list_changed, ...: the child was initialized once by the bridge
        params = note.get("params") or {}
        bridge_id = self.child.find(session_id, params.get("requestId"))
        if bridge_id is not None:
            await self.child.cancel(bridge_id, str(params.get("reason") or "cancelled by the client"))

    async def _initialize(self, message: dict[str, Any], writer: Any) -> int:
        if not await self._wait_ready():
            reply = error_message(message["id"], SERVER_UNAVAILABLE, "the MCP server is not ready yet")
            await send_json(writer, 503, reply)
            return 503
        init = dict(self.child.init_result or {})
        # Offer no newer revision than the child itself speaks.
        child_version = init.get("protocolVersion")
        usable = (
            PROTOCOL_VERSIONS[: PROTOCOL_VERSIONS.index(child_version) + 1]
            if child_version in PROTOCOL_VERSIONS
            else PROTOCOL_VERSIONS
        )
        requested = (message.get("params") or {}).get("protocolVersion")
        init["protocolVersion"] = requested if requested in usable else usable[-1]
        session_id = self.sessions.create(init["protocolVersion"])
        reply = {"jsonrpc": "2.0", "id": message["id"], "result": init}
        await send_json(writer, 200, reply, {"Mcp-Session-Id": session_id})
        return 200

    async def _wait_ready(self) -> bool:
        try:
            await asyncio.wait_for(self.child.ready.wait(), self.settings.ready_timeout)
        except TimeoutError:
            return False
        return True

    async def _forward(
        self, session_id: str, requests: list[dict[str, Any]], writer: Any, sse: bool, batch: bool
    ) -> int:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        bridge_ids = []
        for message in requests:
            if not await self._wait_ready():
                queue.put_nowait(error_message(message["id"], SERVER_UNAVAILABLE, "the MCP server is not ready"))
                continue
            try:
                bridge_ids.append(await self.child.send_request(session_id, message, queue))
            except (ConnectionError, OSError):
                queue.put_nowait(error_message(message["id"], SERVER_UNAVAILABLE, "the MCP server is not running"))
        if sse:
            http11.start_event_stream(writer)
        answered: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.settings.request_timeout
        try:
            while len(answered) < len(requests):
                if time.monotonic() >= deadline:
                    for bridge_id in bridge_ids:  # queues an error for each request still open
                        await self.child.cancel(bridge_id, "request timed out in the bridge")
                    deadline = float("inf")
                try:
                    message = await asyncio.wait_for(queue.get(), min(deadline - time.monotonic(), 3600))
                except TimeoutError:
                    continue
                if "method" not in message:
                    answered.append(message)
                if sse:
                    await http11.send_event(writer, message)
        except (ConnectionError, asyncio.CancelledError):
            self.child.forget(bridge_ids)  # the client is gone: nobody will read the answers
            raise
        if sse:
            await http11.end_event_stream(writer)
        else:
            await send_json(writer, 200, answered if batch else answered[0])
        return 200


async def serve(settings: Settings) -> None:
    """Run the child and the HTTP server until SIGTERM or SIGINT."""
    child = Child(settings)
    bridge = Bridge(settings, child)
    supervisor = asyncio.create_task(child.supervise())
    server = await asyncio.start_server(bridge.handle_connection, settings.host, settings.port)
    log.info("listening on %s:%d, /mcp and /health", settings.host, settings.port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("stopping")
    server.close()
    await child.stop()
    supervisor.cancel()
