# SPDX-License-Identifier: GPL-3.0-or-later
"""The stdio MCP server: started, initialized once, restarted with backoff, its messages routed.

Every request forwarded to the child gets a fresh integer id (the bridge id), so that clients
that pick the same ids never collide on the child's single JSON-RPC id space; `pending` maps
each bridge id back to its client, its client id and the queue its answer goes to.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from agentopia_bridge.config import Settings
from agentopia_bridge.protocol import (
    BRIDGE_INFO,
    METHOD_NOT_FOUND,
    PROTOCOL_VERSIONS,
    REQUEST_CANCELLED,
    SERVER_UNAVAILABLE,
    error_message,
    log,
)


class ChildStartError(Exception):
    """The child exited or refused before it answered initialize."""


@dataclass
class Pending:
    """One request forwarded to the child, waiting for its response."""

    session: str | None  # None for the bridge's own requests (initialize)
    client_id: Any
    queue: asyncio.Queue[dict[str, Any]]  # shared by the requests of one POST
    progress_token: Any = None  # the client's token, when it asked for progress


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
                raise ChildStartError(f"no answer to initialize within {self.settings.init_timeout} s (or it exited)")
            answer = answer_task.result()
            if "result" not in answer:
                raise ChildStartError(f"initialize refused: {answer.get('error')}")
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

    async def cancel_session(self, session: str, reason: str) -> None:
        """Cancel every request of a client session that is still open."""
        for bridge_id in [b for b, p in self.pending.items() if p.session == session]:
            await self.cancel(bridge_id, reason)

    def forget(self, bridge_ids: list[int]) -> None:
        """Drop requests whose client is gone: their answers, when they come, are discarded."""
        for bridge_id in bridge_ids:
            self.pending.pop(bridge_id, None)

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
