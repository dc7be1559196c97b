# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP side of /mcp: MCP streamable HTTP (the initialize-handshake era), sessions and tools/call done here.

Why not the SDK's StreamableHTTPSessionManager: measured on loopback (bench/gateway.py, py-spy), each open
client session cost ~46 KB (a server session with its task group, memory streams and dispatcher) and each
tools/call ~4.7 ms of gateway CPU against 2.1 ms for the raw pass-through: the SDK server's dispatch, an
sse-starlette response (a task group per response), then the SDK client's request task, SSE parser and
pydantic models on the way to the backend and back. /mcp only relays, so here:

- a session is a small record (no task), and answers are plain JSON unless progress must be streamed;
- tools/call goes to the backend as JSON-RPC on the pooled backend session (the one the SDK client opened
  and keeps alive, see aggregate.BackendPool), with its own request ID, and the backend's answer comes back
  as it is, with the client's ID: no model is built on either side;
- everything else (listings, resources, prompts, completion, logging) is rare and goes through the
  Aggregator's handlers as before, with the SDK's types;
- a request of a protocol revision without the initialize handshake (the MCP-Protocol-Version header names
  one) goes to the SDK's manager, as the SDK itself routes it.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from mcp_types.methods import serialize_server_result
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError
from starlette.types import Receive, Scope, Send

from . import __version__
from .aggregate import NAME_SEP, URI_SEP, Aggregator, BackendPool, BackendTimeout
from .config import Settings
from .errors import BodyTooLarge, json_error
from .metrics import Metrics
from .proxy import read_body, until_client_leaves

logger = logging.getLogger("agentopia_gateway.endpoint")

SESSION_HEADER = b"mcp-session-id"
VERSION_HEADER = b"mcp-protocol-version"
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache, no-transform")]
INSTRUCTIONS = (
    "Tools, prompts and resources of several MCP servers. Tool and prompt names are "
    f"<server>{NAME_SEP}<name>; resource URIs are <server>{URI_SEP}<uri>."
)
# What the SDK's Server announced for this set of handlers, kept as it was.
CAPABILITIES = {
    "completions": {},
    "logging": {},
    "prompts": {"listChanged": False},
    "resources": {"listChanged": False, "subscribe": False},
    "tools": {"listChanged": False},
}
REQUEST_CANCELLED = -32800  # JSON-RPC code for a request the client cancelled
SWEEP_INTERVAL = 30.0  # how often, at most, idle sessions are looked for (on a new session)


def _dumps(message: Any) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def _error(msg_id: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": msg_id, "error": error}


@dataclass(slots=True)
class _Session:
    protocol_version: str
    last_seen: float = field(default_factory=time.monotonic)
    calls: dict[Any, anyio.CancelScope] = field(default_factory=dict)  # tools/call in flight, by client ID
    closed: anyio.Event | None = None  # made by the first GET stream, set when the session ends

    def end(self) -> None:
        for scope in self.calls.values():
            scope.cancel()
        if self.closed is not None:
            self.closed.set()


# Methods answered through the Aggregator (and the SDK's types): method -> (params model, handler name).
_HANDLED: dict[str, tuple[type[BaseModel] | None, str]] = {
    "tools/list": (None, "list_tools"),
    "resources/list": (None, "list_resources"),
    "resources/templates/list": (None, "list_resource_templates"),
    "resources/read": (types.ReadResourceRequestParams, "read_resource"),
    "prompts/list": (None, "list_prompts"),
    "prompts/get": (types.GetPromptRequestParams, "get_prompt"),
    "completion/complete": (types.CompleteRequestParams, "complete"),
    "logging/setLevel": (types.SetLevelRequestParams, "set_logging_level"),
}


class AggregateEndpoint:
    """ASGI handler for /mcp (after Host, Origin, token and rate checks in app.py)."""

    def __init__(
        self, aggregator: Aggregator, sdk: StreamableHTTPSessionManager, settings: Settings, metrics: Metrics
    ) -> None:
        self.aggregator = aggregator
        self.sdk = sdk
        self.settings = settings
        self.metrics = metrics
        self.sessions: dict[str, _Session] = {}
        self._ids = itertools.count(1)
        self._swept = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])  # the last of a repeated header wins; none of these repeat
        version = headers.get(VERSION_HEADER)
        if version is not None and version.decode("latin-1") not in HANDSHAKE_PROTOCOL_VERSIONS:
            await self.sdk.handle_request(scope, receive, send)
            return
        method = scope["method"]
        if method == "POST":
            await self._post(scope, headers, receive, send)
        elif method == "GET":
            await self._get(headers, receive, send)
        elif method == "DELETE":
            await self._delete(headers, send)
        else:
            await self._reply(
                send,
                405,
                _error(None, types.INVALID_REQUEST, "Method Not Allowed"),
                None,
                [(b"allow", b"GET, POST, DELETE")],
            )

    # -- responses ----------------------------------------------------------------------------------------

    async def _reply(
        self, send: Send, status: int, message: Any, sid: str | None, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        body = b"" if message is None else _dumps(message)
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        if sid is not None:
            headers.append((SESSION_HEADER, sid.encode()))
        if extra:
            headers.extend(extra)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _reply_sse(self, send: Send, message: Any, sid: str) -> None:
        """One answer as a one-event SSE stream, as the SDK's server sent every answer. Used for the rare
        requests (listings, ping, ...), so clients and the conformance suite still see SSE from /mcp;
        tools/call answers plain JSON unless it streams progress (a chunked stream costs a write more)."""
        headers = [*SSE_HEADERS, (SESSION_HEADER, sid.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"event: message\ndata: " + _dumps(message) + b"\n\n"})

    def _session(self, headers: dict[bytes, bytes]) -> tuple[str | None, _Session | None, tuple[int, str] | None]:
        raw = headers.get(SESSION_HEADER)
        if raw is None:
            return None, None, (400, "Bad Request: Missing session ID")
        sid = raw.decode("latin-1")
        session = self.sessions.get(sid)
        now = time.monotonic()
        if session is not None and now - session.last_seen > self.settings.session_idle_timeout and not session.calls:
            del self.sessions[sid]  # idle past the timeout: ended, as if the sweep had come first
            session.end()
            session = None
        if session is None:
            return sid, None, (404, "Session not found")
        session.last_seen = now
        return sid, session, None

    # -- POST ---------------------------------------------------------------------------------------------

    async def _post(self, scope: Scope, headers: dict[bytes, bytes], receive: Receive, send: Send) -> None:
        accept = headers.get(b"accept", b"").decode("latin-1")
        if not (
            ("application/json" in accept or "application/*" in accept or "*/*" in accept)
            and ("text/event-stream" in accept or "text/*" in accept or "*/*" in accept)
        ):
            message = "Not Acceptable: Client must accept both application/json and text/event-stream"
            return await self._reply(send, 406, _error(None, types.INVALID_REQUEST, message), None)
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if content_type != "application/json":
            message = "Unsupported Media Type: Content-Type must be application/json"
            return await self._reply(send, 415, _error(None, types.INVALID_REQUEST, message), None)
        declared = headers.get(b"content-length")
        try:
            body = await read_body(receive, self.settings.max_body_bytes, int(declared) if declared else None)
        except BodyTooLarge as exc:
            await json_error(send, 413, "body_too_large", f"request body over {exc.limit} bytes")
            return
        except ValueError:
            await json_error(send, 400, "bad_request", "Content-Length is not a number")
            return
        except anyio.EndOfStream:
            return
        try:
            message = json.loads(body)
        except ValueError as exc:
            return await self._reply(send, 400, _error(None, types.PARSE_ERROR, f"Parse error: {exc}"), None)
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            invalid = "Invalid Request: one JSON-RPC 2.0 message per POST"
            return await self._reply(send, 400, _error(None, types.INVALID_REQUEST, invalid), None)
        method = message.get("method")
        is_request = isinstance(method, str) and "id" in message
        if is_request and method == "initialize":
            return await self._initialize(message, headers, send)
        sid, session, problem = self._session(headers)
        if problem is not None or session is None or sid is None:
            status, text = problem or (404, "Session not found")
            return await self._reply(send, status, _error(None, types.INVALID_REQUEST, text), None)
        if not is_request:
            # A notification or a client's response (the gateway asks clients nothing): accepted.
            if method == "notifications/cancelled":
                params = message.get("params")
                target = params.get("requestId") if isinstance(params, dict) else None
                call = session.calls.get(target) if isinstance(target, (str, int)) else None
                if call is not None:
                    call.cancel()
            return await self._reply(send, 202, None, sid)
        msg_id = message["id"]
        if not isinstance(msg_id, (str, int)) or isinstance(msg_id, bool):
            invalid = "Invalid Request: a request ID is a string or an integer"
            return await self._reply(send, 400, _error(None, types.INVALID_REQUEST, invalid), sid)
        params = message.get("params")
        if params is not None and not isinstance(params, dict):
            return await self._reply(send, 200, _error(msg_id, types.INVALID_PARAMS, "params must be an object"), sid)
        if method == "tools/call":
            await self._call_tool(session, sid, msg_id, params or {}, send)
        elif method == "ping":
            await self._reply_sse(send, {"jsonrpc": "2.0", "id": msg_id, "result": {}}, sid)
        else:
            await self._reply_sse(send, await self._handled(method, msg_id, params, session.protocol_version), sid)

    async def _initialize(self, message: dict[str, Any], headers: dict[bytes, bytes], send: Send) -> None:
        if SESSION_HEADER in headers and headers[SESSION_HEADER].decode("latin-1") not in self.sessions:
            return await self._reply(send, 404, _error(None, types.INVALID_REQUEST, "Session not found"), None)
        params = message.get("params")
        asked = params.get("protocolVersion") if isinstance(params, dict) else None
        version = asked if asked in HANDSHAKE_PROTOCOL_VERSIONS else HANDSHAKE_PROTOCOL_VERSIONS[-1]
        self._sweep()
        if len(self.sessions) >= self.settings.max_sessions:
            logger.warning("refusing a new /mcp session: %d sessions are open", len(self.sessions))
            return await self._reply(send, 503, _error(None, types.INTERNAL_ERROR, "Too many open sessions"), None)
        sid = uuid.uuid4().hex
        self.sessions[sid] = _Session(version)
        result = {
            "capabilities": CAPABILITIES,
            "instructions": INSTRUCTIONS,
            "protocolVersion": version,
            "serverInfo": {"name": "agentopia-gateway", "version": __version__},
        }
        await self._reply(send, 200, {"jsonrpc": "2.0", "id": message["id"], "result": result}, sid)

    def _sweep(self) -> None:
        """Forget sessions idle longer than the idle timeout (looked for on new sessions, at most every 30 s)."""
        now = time.monotonic()
        if now - self._swept < SWEEP_INTERVAL and len(self.sessions) < self.settings.max_sessions:
            return
        self._swept = now
        limit = self.settings.session_idle_timeout
        for sid in [s for s, session in self.sessions.items() if now - session.last_seen > limit and not session.calls]:
            self.sessions.pop(sid).end()

    async def _handled(self, method: str, msg_id: Any, params: dict[str, Any] | None, version: str) -> dict[str, Any]:
        """A request other than tools/call and ping: through the Aggregator's handler, with the SDK's types."""
        entry = _HANDLED.get(method)
        if entry is None:
            return _error(msg_id, types.METHOD_NOT_FOUND, "Method not found", method)
        model, name = entry
        handler: Callable[[Any, Any], Awaitable[BaseModel]] = getattr(self.aggregator, name)
        try:
            typed = model.model_validate(params or {}, by_name=False) if model is not None else params
        except ValidationError:
            return _error(msg_id, types.INVALID_PARAMS, "Invalid request parameters", "")
        try:
            result = await handler(None, typed)
            # Shaped for the session's protocol revision, as the SDK's server does (fields it lacks are left out).
            data = serialize_server_result(
                method, version, result.model_dump(by_alias=True, mode="json", exclude_none=True)
            )
        except MCPError as exc:
            return _error(msg_id, exc.error.code, exc.error.message, exc.error.data)
        except Exception as exc:
            logger.exception("/mcp %s failed", method)
            return _error(msg_id, types.INTERNAL_ERROR, f"{method} failed: {type(exc).__name__}")
        return {"jsonrpc": "2.0", "id": msg_id, "result": data}

    # -- tools/call ---------------------------------------------------------------------------------------

    async def _call_tool(self, session: _Session, sid: str, msg_id: Any, params: dict[str, Any], send: Send) -> None:
        name = params.get("name")
        arguments = params.get("arguments")
        meta = params.get("_meta")
        if (
            not isinstance(name, str)
            or not isinstance(arguments, (dict, type(None)))
            or not isinstance(meta, (dict, type(None)))
        ):
            return await self._reply(
                send, 200, _error(msg_id, types.INVALID_PARAMS, "Invalid request parameters", ""), sid
            )
        try:
            pool, tool = self.aggregator.pool_and_name(name, "tool")
        except MCPError as exc:
            return await self._reply(send, 200, _error(msg_id, exc.error.code, exc.error.message), sid)

        token = meta.get("progressToken") if meta else None
        streaming = False  # the answer turns into an SSE stream at the first progress notification
        answered = False
        outcome = "error"

        async def relay(message: dict[str, Any]) -> None:
            """A progress notification (the client's token put back) or the answer (the client's ID)."""
            nonlocal streaming, answered, outcome
            if message.get("method") == "notifications/progress":
                message["params"]["progressToken"] = token
                if not streaming:
                    streaming = True
                    headers = [*SSE_HEADERS, (SESSION_HEADER, sid.encode())]
                    await send({"type": "http.response.start", "status": 200, "headers": headers})
                event = b"event: message\ndata: " + _dumps(message) + b"\n\n"
                await send({"type": "http.response.body", "body": event, "more_body": True})
                return
            answered = True
            message["id"] = msg_id
            if "result" in message:
                result = message["result"]
                outcome = "error" if isinstance(result, dict) and result.get("isError") else "ok"
            if streaming:
                event = b"event: message\ndata: " + _dumps(message) + b"\n\n"
                await send({"type": "http.response.body", "body": event})
            else:
                await self._reply(send, 200, message, sid)

        started = time.perf_counter()
        scope = anyio.CancelScope()
        session.calls[msg_id] = scope
        error: dict[str, Any] | None = None
        try:
            with scope:
                await self._forward(pool, tool, params, token is not None, relay)
            if scope.cancel_called and not answered:
                outcome = "cancelled"
                error = _error(msg_id, REQUEST_CANCELLED, "request cancelled")
        except MCPError as exc:
            if not answered:  # past the answer, a failure only costs the connection
                outcome = "timeout" if isinstance(exc, BackendTimeout) else "unavailable"
                error = _error(msg_id, exc.error.code, exc.error.message)
        finally:
            session.calls.pop(msg_id, None)
            self.metrics.tool_calls.labels(pool.name, tool, outcome).inc()
            self.metrics.tool_seconds.labels(pool.name).observe(time.perf_counter() - started)
        if error is not None:
            await relay(error)

    async def _forward(
        self,
        pool: BackendPool,
        tool: str,
        params: dict[str, Any],
        with_progress: bool,
        relay: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        """POST tools/call on a pooled backend session; relay its progress and its answer as they come.

        Our request ID is unique in this process, so it cannot collide with another client's (or the SDK
        client's integer IDs) on the shared backend session; it is also the progress token the backend sees.
        After the answer, the rest of the backend's SSE stream (its end, normally already in flight) is read
        here, bounded like backends.DrainOnClose: leaving the iteration early instead leaves generators
        that Python closes later, and one closed before the connection is done with takes the connection
        down with it (py-spy showed a TCP connect on about every second call that way).
        """
        link = pool.pick()
        if link is None or link.session_id is None:
            raise pool.unavailable()
        our_id = f"gw-{next(self._ids)}"
        forwarded = {**params, "name": tool}
        if with_progress:
            forwarded["_meta"] = {**params["_meta"], "progressToken": our_id}
        body = _dumps({"jsonrpc": "2.0", "id": our_id, "method": "tools/call", "params": forwarded})
        headers = {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "mcp-session-id": link.session_id,
            "mcp-protocol-version": link.protocol_version,
        }
        answered = False
        try:
            with anyio.fail_after(pool.backend.config.timeout) as deadline:
                async with link.http.stream("POST", link.url, content=body, headers=headers) as response:
                    if response.status_code != 200:
                        # 404: the backend forgot the session (restarted); the supervisor opens a new one.
                        raise pool.failed(f"HTTP {response.status_code}")
                    if not response.headers.get("content-type", "").startswith("text/event-stream"):
                        answer = json.loads(await response.aread())
                        if not (isinstance(answer, dict) and answer.get("id") == our_id):
                            raise pool.failed("an answer that is not the call's response")
                        await relay(answer)
                        return
                    buffer = b""
                    rest = 0  # bytes read after the answer
                    async for chunk in response.aiter_bytes():
                        if answered:
                            rest += len(chunk)
                            if rest > self.settings.backend_drain_bytes:
                                break
                            continue
                        # Events end with a blank line; sse-starlette writes CRLF line ends.
                        buffer = (buffer + chunk).replace(b"\r\n", b"\n")
                        while not answered and (end := buffer.find(b"\n\n")) >= 0:
                            block, buffer = buffer[:end], buffer[end + 2 :]
                            data = [line[5:].lstrip(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
                            event = json.loads(b"\n".join(data)) if data else None
                            if not isinstance(event, dict):
                                continue
                            if event.get("id") == our_id and ("result" in event or "error" in event):
                                answered = True
                                await relay(event)
                                # From here on only the stream's end is awaited, for a short while.
                                deadline.deadline = anyio.current_time() + self.settings.backend_drain_timeout
                            elif (
                                with_progress
                                and event.get("method") == "notifications/progress"
                                and isinstance(event.get("params"), dict)
                                and event["params"].get("progressToken") == our_id
                            ):
                                await relay(event)
                            # Anything else on this stream (log messages, requests to the client) is not
                            # relayed: the backend session is shared, and was opened with no client capabilities.
                    if not answered:
                        raise pool.failed("the answer stream ended without a response")
        except TimeoutError:
            if not answered:
                raise pool.timed_out() from None
        except (httpx2.HTTPError, ValueError, OSError) as exc:
            if not answered:
                raise pool.failed(type(exc).__name__) from None

    # -- GET, DELETE --------------------------------------------------------------------------------------

    async def _get(self, headers: dict[bytes, bytes], receive: Receive, send: Send) -> None:
        """The standalone SSE stream. The gateway sends nothing on it (no list_changed to relay) but holds it
        open, as the SDK did, so clients do not retry it; it ends with the session or the client."""
        if b"text/event-stream" not in headers.get(b"accept", b"") and b"*/*" not in headers.get(b"accept", b""):
            message = "Not Acceptable: Client must accept text/event-stream"
            return await self._reply(send, 406, _error(None, types.INVALID_REQUEST, message), None)
        sid, session, problem = self._session(headers)
        if problem is not None or session is None or sid is None:
            status, text = problem or (404, "Session not found")
            return await self._reply(send, status, _error(None, types.INVALID_REQUEST, text), None)
        if session.closed is None:
            session.closed = anyio.Event()
        closed = session.closed
        await send(
            {"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS, (SESSION_HEADER, sid.encode())]}
        )
        await send({"type": "http.response.body", "body": b": stream open\n\n", "more_body": True})
        streams = self.metrics.open_streams.labels("aggregate")
        streams.inc()
        try:
            await until_client_leaves(receive, closed.wait())
        finally:
            streams.dec()
        await send({"type": "http.response.body", "body": b""})

    async def _delete(self, headers: dict[bytes, bytes], send: Send) -> None:
        sid, session, problem = self._session(headers)
        if problem is not None or session is None or sid is None:
            status, text = problem or (404, "Session not found")
            return await self._reply(send, status, _error(None, types.INVALID_REQUEST, text), None)
        self.sessions.pop(sid, None)
        session.end()
        await self._reply(send, 200, None, sid)
