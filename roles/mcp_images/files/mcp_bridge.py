# SPDX-License-Identifier: GPL-3.0-or-later
"""Serve one stdio MCP server over MCP streamable HTTP, with the standard library only.

    python3 mcp_bridge.py --listen 0.0.0.0:8000 -- <server command> [args...]
    python3 mcp_bridge.py --check http://127.0.0.1:8000/mcp

The bridge starts ONE child, initializes it once and lets many HTTP clients share it:
each client gets its own Mcp-Session-Id and an initialize result copied from the child's,
and every request id is renumbered on the way in so that clients never collide on the
child's single JSON-RPC id space. It declares no client capabilities to the child, so the
child has no reason to ask anything back; if it does, the bridge answers with an error.
`GET /health` is 200 while the child is up and initialized, else 503. `--check` is the
image's HEALTHCHECK: a real initialize + ping round trip. Python >= 3.11; see docs/architecture.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

if __name__ == "__main__" and "ssl" not in sys.modules:
    # asyncio loads ssl (libssl + libcrypto, ~4 MB RSS) for TLS transports the bridge never opens.
    sys.modules["ssl"] = None  # type: ignore[assignment]
# The HEALTHCHECK runs `--check` every few seconds: it needs neither asyncio nor the server (~90 ms less).
if sys.argv[1:2] != ["--check"]:
    import asyncio

# Streamable HTTP revisions, oldest to newest; the newest is the one offered to the child.
PROTOCOL_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INTERNAL_ERROR = -32700, -32600, -32601, -32603
SERVER_UNAVAILABLE, REQUEST_TIMEOUT, REQUEST_CANCELLED = -32002, -32001, -32800
BRIDGE_INFO = {"name": "agentopia-mcp-bridge", "version": "0.1.0"}
# The HEALTHCHECKs' User-Agent (mcp_health.sh and --check): their passing requests are logged at DEBUG only.
HEALTH_AGENT = "agentopia-health"
log = logging.getLogger("mcp_bridge")


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    command: list[str]
    max_body_bytes: int = 4 * 1024 * 1024  # one POST from a client
    max_message_bytes: int = 64 * 1024 * 1024  # one line from the child (tool results can be large)
    request_timeout: float = 300.0  # a forwarded request gets an error after this long
    ready_timeout: float = 20.0  # how long a request waits for a (re)starting child
    init_timeout: float = 30.0  # the child must answer initialize within this
    max_sessions: int = 1000  # least recently used sessions are dropped beyond this
    session_idle_seconds: float = 3600.0
    keepalive_seconds: float = 75.0  # idle HTTP connections are closed after this
    backoff_max: float = 30.0  # restart delay doubles from 0.5 s up to this


def error_message(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


@dataclass
class Pending:
    """One request forwarded to the child, waiting for its response."""

    session: str | None  # None for the bridge's own requests (initialize)
    client_id: Any
    queue: asyncio.Queue[dict[str, Any]]  # shared by the requests of one POST
    progress_token: Any = None  # the client's token, when it asked for progress


@dataclass
class Session:
    protocol_version: str
    last_seen: float = field(default_factory=time.monotonic)


class Child:
    """The stdio server: started, initialized, restarted with backoff; routes its messages."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ready = asyncio.Event()
        self.init_result: dict[str, Any] | None = None
        self.pending: dict[int, Pending] = {}
        self.next_id = 0
        self.stdin: Any = None
        self.process: Any = None
        self.stopping = False

    async def supervise(self) -> None:
        """Run the child forever; restart it when it exits, backing off while it keeps failing."""
        backoff = 0.5
        while not self.stopping:
            started = time.monotonic()
            try:
                await self._run_once()
            except Exception as exc:  # a failed start or handshake: log it and retry like an exit
                log.error("server failed: %s", exc)
            self.ready.clear()
            self._fail_all("the MCP server exited; the bridge is restarting it")
            if self.stopping:
                return
            if time.monotonic() - started > 60:
                backoff = 0.5
            log.warning("restarting the server in %.1f s", backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.backoff_max)

    async def _run_once(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.settings.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=self.settings.max_message_bytes,
        )
        self.stdin = self.process.stdin
        log.info("server started: pid %d", self.process.pid)
        reader = asyncio.create_task(self._read(self.process.stdout))
        try:
            queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            params = {
                "protocolVersion": PROTOCOL_VERSIONS[-1],
                "capabilities": {},
                "clientInfo": BRIDGE_INFO,
            }
            bridge_id = await self.send_request(None, {"id": 0, "method": "initialize", "params": params}, queue)
            answer_task = asyncio.ensure_future(queue.get())
            await asyncio.wait(
                [answer_task, reader], timeout=self.settings.init_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if not answer_task.done():
                answer_task.cancel()
                self.pending.pop(bridge_id, None)
                raise RuntimeError(f"no answer to initialize within {self.settings.init_timeout} s (or it exited)")
            answer = answer_task.result()
            if "result" not in answer:
                raise RuntimeError(f"initialize refused: {answer.get('error')}")
            await self.write({"jsonrpc": "2.0", "method": "notifications/initialized"})
            self.init_result = answer["result"]
            info = self.init_result.get("serverInfo", {})
            log.info(
                "server ready: %s %s, protocol %s",
                info.get("name"),
                info.get("version"),
                self.init_result.get("protocolVersion"),
            )
            self.ready.set()
            await reader
        finally:
            self.ready.clear()
            reader.cancel()
            await self._stop_process()

    async def _stop_process(self) -> None:
        process, self.process = self.process, None  # whoever comes first (exit or shutdown) reaps it
        if process is None:
            return
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
        code = await process.wait()
        log.log(logging.INFO if self.stopping else logging.WARNING, "server exited with status %s", code)

    async def stop(self) -> None:
        self.stopping = True
        await self._stop_process()

    async def write(self, message: dict[str, Any]) -> None:
        if self.stdin is None or self.stdin.is_closing():
            raise ConnectionError("the MCP server is not running")
        self.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await self.stdin.drain()

    async def send_request(self, session: str | None, message: dict[str, Any], queue: Any) -> int:
        """Forward a request under a fresh id; its response (and progress) will arrive on `queue`."""
        self.next_id += 1
        bridge_id = self.next_id
        pending = Pending(session, message["id"], queue)
        params = message.get("params")
        forwarded = {"jsonrpc": "2.0", "id": bridge_id, "method": message["method"]}
        if isinstance(params, dict):
            meta = params.get("_meta")
            if isinstance(meta, dict) and "progressToken" in meta:
                # Clients pick tokens independently; the bridge id is unique on the child.
                pending.progress_token = meta["progressToken"]
                params = {**params, "_meta": {**meta, "progressToken": bridge_id}}
        if params is not None:
            forwarded["params"] = params
        self.pending[bridge_id] = pending
        try:
            await self.write(forwarded)
        except (ConnectionError, OSError):
            self.pending.pop(bridge_id, None)
            raise
        return bridge_id

    async def cancel(self, bridge_id: int, reason: str) -> None:
        """Give up on a request: tell the child, and answer the client if it is still waiting."""
        pending = self.pending.pop(bridge_id, None)
        if pending is None:
            return
        pending.queue.put_nowait(error_message(pending.client_id, REQUEST_CANCELLED, reason))
        try:
            params = {"requestId": bridge_id, "reason": reason}
            await self.write({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params})
        except (ConnectionError, OSError):
            pass

    def find(self, session: str, client_id: Any) -> int | None:
        return next((b for b, p in self.pending.items() if p.session == session and p.client_id == client_id), None)

    def _fail_all(self, reason: str) -> None:
        for pending in self.pending.values():
            pending.queue.put_nowait(error_message(pending.client_id, SERVER_UNAVAILABLE, reason))
        self.pending.clear()

    async def _read(self, stdout: Any) -> None:
        while True:
            try:
                line = await stdout.readline()
            except ValueError:  # a line above max_message_bytes: the stream cannot be resynchronised
                log.error("the server wrote a message larger than %d bytes", self.settings.max_message_bytes)
                return
            if not line:
                return
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("ignored a line from the server that is not JSON (%d bytes)", len(line))
                continue
            if isinstance(message, dict):
                await self._route(message)

    async def _route(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is not None and "id" in message:
            # A server-to-client request: the bridge declared no capabilities, so only ping is answered.
            if method == "ping":
                await self.write({"jsonrpc": "2.0", "id": message["id"], "result": {}})
            else:
                log.warning("refused a %s request from the server (no client capabilities)", method)
                reply = error_message(message["id"], METHOD_NOT_FOUND, f"{method} is not supported by the bridge")
                await self.write(reply)
        elif method == "notifications/progress":
            params = message.get("params") or {}
            token = params.get("progressToken")
            pending = self.pending.get(token) if isinstance(token, int) else None
            if pending is not None and pending.progress_token is not None:
                pending.queue.put_nowait({**message, "params": {**params, "progressToken": pending.progress_token}})
        elif method == "notifications/message":
            # Stdio carries no link from a log message to a request: only an unambiguous one is delivered.
            clients = [p for p in self.pending.values() if p.session is not None]
            if len(clients) == 1:
                clients[0].queue.put_nowait(message)
        elif method is not None:
            log.debug("dropped a %s notification (no standalone stream)", method)
        else:
            bridge_id = message.get("id")
            pending = self.pending.pop(bridge_id, None) if isinstance(bridge_id, int) else None
            if pending is None:
                return  # cancelled or timed out meanwhile
            message["id"] = pending.client_id
            pending.queue.put_nowait(message)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


class Bridge:
    """The HTTP side: sessions, POST /mcp, DELETE /mcp, GET /health."""

    def __init__(self, settings: Settings, child: Child) -> None:
        self.settings = settings
        self.child = child
        self.sessions: dict[str, Session] = {}

    # --- HTTP/1.1 plumbing -------------------------------------------------------------
    async def handle_connection(self, reader: Any, writer: Any) -> None:
        try:
            while True:
                try:
                    request = await asyncio.wait_for(
                        self._read_request(reader, writer), self.settings.keepalive_seconds
                    )
                except HttpError as exc:
                    body = error_message(None, INVALID_REQUEST, str(exc))
                    await self._send(writer, exc.status, json.dumps(body).encode(), close=True)
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

    async def _read_request(self, reader: Any, writer: Any) -> Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise HttpError(400, "incomplete request head") from None
            return None
        except asyncio.LimitOverrunError:
            raise HttpError(431, "request head too large") from None
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            raise HttpError(400, "malformed request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise HttpError(411, "send the body with a Content-Length, not chunked")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise HttpError(400, "Content-Length is not a number") from None
        if length > self.settings.max_body_bytes:
            raise HttpError(413, f"body larger than the bridge's limit of {self.settings.max_body_bytes} bytes")
        if length > 0 and headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits a second for this on bodies over 1 KiB
        body = await reader.readexactly(length) if length > 0 else b""
        return Request(method, target.split("?", 1)[0], headers, body)

    async def _send(
        self, writer: Any, status: int, body: bytes = b"", headers: dict[str, str] | None = None, close: bool = False
    ) -> None:
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}", f"Content-Length: {len(body)}"]
        if body:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if close:
            head.append("Connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def _send_json(self, writer: Any, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        await self._send(writer, status, json.dumps(payload, separators=(",", ":")).encode(), headers)

    # --- routing -----------------------------------------------------------------------
    async def _dispatch(self, request: Request, writer: Any) -> tuple[int, str]:
        if request.path == "/health" and request.method == "GET":
            return await self._health(writer), "health"
        if request.path != "/mcp":
            await self._send_json(writer, 404, error_message(None, INVALID_REQUEST, "not found: the endpoint is /mcp"))
            return 404, ""
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host"):
            # DNS-rebinding guard: a browser page from elsewhere must not drive the server.
            await self._send_json(writer, 403, error_message(None, INVALID_REQUEST, "Origin does not match Host"))
            return 403, "origin"
        if request.method == "POST":
            return await self._post(request, writer)
        if request.method == "DELETE":
            return await self._delete(request, writer)
        await self._send(writer, 405, headers={"Allow": "POST, DELETE"})
        return 405, ""

    async def _health(self, writer: Any) -> int:
        if self.child.ready.is_set() and self.child.init_result is not None:
            info = self.child.init_result.get("serverInfo", {})
            await self._send_json(writer, 200, {"status": "ok", "server": info, "sessions": len(self.sessions)})
            return 200
        await self._send_json(writer, 503, {"status": "starting"})
        return 503

    async def _delete(self, request: Request, writer: Any) -> tuple[int, str]:
        session_id = request.headers.get("mcp-session-id", "")
        if self.sessions.pop(session_id, None) is None:
            await self._send_json(writer, 404, error_message(None, INVALID_REQUEST, "session not found"))
            return 404, "delete"
        for bridge_id, pending in list(self.child.pending.items()):
            if pending.session == session_id:
                await self.child.cancel(bridge_id, "session ended")
        await self._send(writer, 200)
        return 200, "delete"

    async def _post(self, request: Request, writer: Any) -> tuple[int, str]:
        accept = request.headers.get("accept", "*/*").lower()
        sse = "text/event-stream" in accept
        if not (sse or "application/json" in accept or "*/*" in accept):
            message = "Accept must include application/json or text/event-stream"
            await self._send_json(writer, 406, error_message(None, INVALID_REQUEST, message))
            return 406, ""
        if not request.headers.get("content-type", "").lower().startswith("application/json"):
            message = "Content-Type must be application/json"
            await self._send_json(writer, 415, error_message(None, INVALID_REQUEST, message))
            return 415, ""
        try:
            body = json.loads(request.body)
        except ValueError:
            await self._send_json(writer, 400, error_message(None, PARSE_ERROR, "Parse error: the body is not JSON"))
            return 400, "parse-error"
        messages = body if isinstance(body, list) else [body]
        if not messages or not all(isinstance(m, dict) and m.get("jsonrpc") == "2.0" for m in messages):
            message = "Invalid Request: expected JSON-RPC 2.0 message objects"
            await self._send_json(writer, 400, error_message(None, INVALID_REQUEST, message))
            return 400, "invalid"
        if any(m.get("method") == "initialize" for m in messages):
            if len(messages) != 1 or "id" not in messages[0]:
                message = "initialize must be a request on its own"
                await self._send_json(writer, 400, error_message(None, INVALID_REQUEST, message))
                return 400, "initialize"
            return await self._initialize(messages[0], writer), "initialize"

        session_id = request.headers.get("mcp-session-id")
        first = messages[0].get("id")
        label = ",".join(str(m.get("method", "response"))[:60] for m in messages[:5]).encode("unicode_escape").decode()
        if session_id is None:
            message = "Bad Request: Mcp-Session-Id header is required (initialize first)"
            await self._send_json(writer, 400, error_message(first, INVALID_REQUEST, message))
            return 400, f"{label} (no session)"
        session = self.sessions.get(session_id)
        if session is None:
            await self._send_json(writer, 404, error_message(first, INVALID_REQUEST, "Session not found"))
            return 404, f"{label} (unknown session)"
        version = request.headers.get("mcp-protocol-version")
        if version is not None and version not in PROTOCOL_VERSIONS:
            message = f"Unsupported MCP-Protocol-Version {version!r}; supported: {', '.join(PROTOCOL_VERSIONS)}"
            await self._send_json(writer, 400, error_message(first, INVALID_REQUEST, message))
            return 400, f"{label} (bad version)"
        session.last_seen = time.monotonic()

        requests = [m for m in messages if "method" in m and "id" in m]
        for note in (m for m in messages if "method" in m and "id" not in m):
            await self._client_notification(session_id, note)
        # Responses from the client are ignored: the bridge never forwards server-to-client requests.
        if not requests:
            await self._send(writer, 202)
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
            await self._send_json(writer, 503, reply)
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
        self._expire_sessions()
        session_id = os.urandom(16).hex()  # not `secrets`: it loads libcrypto (~4 MB RSS)
        self.sessions[session_id] = Session(init["protocolVersion"])
        reply = {"jsonrpc": "2.0", "id": message["id"], "result": init}
        await self._send_json(writer, 200, reply, {"Mcp-Session-Id": session_id})
        return 200

    def _expire_sessions(self) -> None:
        cutoff = time.monotonic() - self.settings.session_idle_seconds
        for session_id in [s for s, v in self.sessions.items() if v.last_seen < cutoff]:
            del self.sessions[session_id]
        while len(self.sessions) >= self.settings.max_sessions:
            del self.sessions[min(self.sessions, key=lambda s: self.sessions[s].last_seen)]

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
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            )
            writer.write(head.encode())
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
                    event = f"event: message\ndata: {json.dumps(message, separators=(',', ':'))}\n\n".encode()
                    writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                    await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            for bridge_id in bridge_ids:  # the client is gone: nobody will read the answers
                self.child.pending.pop(bridge_id, None)
            raise
        if sse:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        else:
            await self._send_json(writer, 200, answered if batch else answered[0])
        return 200


async def serve(settings: Settings) -> None:
    import signal

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


def check(url: str, timeout: float) -> int:
    """HEALTHCHECK: initialize, notifications/initialized, ping, DELETE; exit 0 or 1 with one line."""
    import urllib.error
    import urllib.request

    started = time.monotonic()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "User-Agent": HEALTH_AGENT,
    }

    def post(message: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        request = urllib.request.Request(url, json.dumps(message).encode(), headers, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode()
            if response.headers.get("Content-Type", "").startswith("text/event-stream"):
                events = [line[5:].strip() for line in body.splitlines() if line.startswith("data:")]
                body = next((e for e in reversed(events) if '"id"' in e), "null")
            return response.headers, json.loads(body) if body else None

    try:
        params = {"protocolVersion": PROTOCOL_VERSIONS[-1], "capabilities": {}, "clientInfo": BRIDGE_INFO}
        response_headers, init = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
        if not isinstance(init, dict) or "result" not in init:
            raise ValueError(f"initialize failed: {init}")
        headers["Mcp-Session-Id"] = response_headers.get("Mcp-Session-Id", "")
        headers["MCP-Protocol-Version"] = init["result"]["protocolVersion"]
        post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        _headers, pong = post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        if not isinstance(pong, dict) or "result" not in pong:
            raise ValueError(f"ping failed: {pong}")
        urllib.request.urlopen(urllib.request.Request(url, headers=headers, method="DELETE"), timeout=timeout).close()
    except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError) as exc:
        print(f"unhealthy: {url}: {exc}")
        return 1
    info = init["result"].get("serverInfo", {})
    elapsed = 1000 * (time.monotonic() - started)
    print(f"healthy: {info.get('name')} {info.get('version')} answered initialize and ping in {elapsed:.0f} ms")
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--listen", default="0.0.0.0:8000", help="host:port to serve on (default 0.0.0.0:8000)")
    parser.add_argument("--check", metavar="URL", help="health check an MCP endpoint, exit 0 (healthy) or 1")
    parser.add_argument("--timeout", type=float, default=5.0, help="--check: seconds per HTTP call (default 5)")
    parser.add_argument("--max-body-bytes", type=int, default=Settings.max_body_bytes)
    parser.add_argument("--request-timeout", type=float, default=Settings.request_timeout)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the stdio server command and its args")
    args = parser.parse_args(argv)
    if args.command and args.command[0] == "--":
        args.command = args.command[1:]
    if args.check is None and not args.command:
        parser.error("give the server command after --, e.g. -- mcp-server-time (or use --check URL)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.check is not None:
        return check(args.check, args.timeout)
    host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        print(f"mcp_bridge: --listen must be host:port, got {args.listen!r}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings(
        host=host.strip("[]") or "0.0.0.0",
        port=int(port),
        command=args.command,
        max_body_bytes=args.max_body_bytes,
        request_timeout=args.request_timeout,
    )
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
