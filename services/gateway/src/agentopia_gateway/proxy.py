# SPDX-License-Identifier: GPL-3.0-or-later
"""The one-to-one pass-through at /servers/<name>/mcp: an HTTP-level streaming reverse proxy.

Each client session is the backend's own session (its Mcp-Session-Id goes both ways untouched), so everything
that belongs to a client - log level, subscriptions, progress, server-to-client requests and their answers,
the GET stream - stays with that client. Request bodies (one JSON-RPC message each) are read whole, up to the
size limit, so a refused connection can be retried on another replica; responses, SSE included, are streamed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable

import anyio
import httpx2
from starlette.types import Receive, Scope, Send

from .backends import Backend, Replica
from .errors import BodyTooLarge, json_error
from .metrics import Metrics

logger = logging.getLogger("agentopia_gateway.proxy")

SESSION_HEADER = "mcp-session-id"

# RFC 9110 7.6.1 hop-by-hop fields, plus what the gateway owns: the client's credentials, the Host it was
# reached on, and the Origin it already checked (the backend sees the gateway, not the browser).
_DROP_REQUEST = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "authorization",
        "host",
        "origin",
        "cookie",
        "content-length",
        "expect",
    }
)
_DROP_RESPONSE = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "set-cookie",
        "server",
        "date",
    }
)
ALLOWED_METHODS = ("GET", "POST", "DELETE")


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes:
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise anyio.EndOfStream
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def until_client_leaves(receive: Receive, work: Awaitable[None]) -> None:
    """Await `work`, stopping it as soon as the client disconnects: a silent stream would never notice."""
    async with anyio.create_task_group() as tg:

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            tg.cancel_scope.cancel()

        tg.start_soon(watch_disconnect)
        await work
        tg.cancel_scope.cancel()


def _request_headers(scope: Scope, backend: Backend) -> list[tuple[str, str]]:
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    named_in_connection = set()
    for key, value in raw:
        if key == b"connection":
            named_in_connection.update(p.strip().lower() for p in value.decode("latin-1").split(","))
    headers = [("host", backend.host_header)]
    for key, value in raw:
        name = key.decode("latin-1")
        if name in _DROP_REQUEST or name in named_in_connection:
            continue
        headers.append((name, value.decode("latin-1")))
    return headers


def _response_headers(response: httpx2.Response) -> list[tuple[bytes, bytes]]:
    named = {p.strip().lower() for p in response.headers.get("connection", "").split(",") if p.strip()}
    out = []
    for key, value in response.headers.raw:
        name = key.decode("latin-1").lower()
        if name in _DROP_RESPONSE or name in named:
            continue
        out.append((name.encode("latin-1"), value))
    return out


class PassThrough:
    def __init__(self, max_body_bytes: int, metrics: Metrics) -> None:
        self.max_body_bytes = max_body_bytes
        self.streams = metrics.open_streams.labels("server")

    async def __call__(self, scope: Scope, receive: Receive, send: Send, backend: Backend) -> int:
        """Serve one request; returns the status sent (for the access log and metrics)."""
        method: str = scope["method"]
        if method not in ALLOWED_METHODS:
            return await json_error(
                send,
                405,
                "method_not_allowed",
                f"{method} is not supported here",
                {"allow": ", ".join(ALLOWED_METHODS)},
            )
        headers = _request_headers(scope, backend)
        session_id = next((v for k, v in headers if k == SESSION_HEADER), None)
        body = b""
        if method == "POST":
            declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
            try:
                body = await read_body(receive, self.max_body_bytes, int(declared) if declared else None)
            except BodyTooLarge as exc:
                return await json_error(send, 413, "body_too_large", f"request body over {exc.limit} bytes")
            except ValueError:
                return await json_error(send, 400, "bad_request", "Content-Length is not a number")
            except anyio.EndOfStream:
                return 499
            headers.append(("content-length", str(len(body))))

        tried: set[str] = set()
        while True:
            replica, error = self._choose(backend, session_id, tried)
            if replica is None:
                status, code, message = error
                return await json_error(send, status, code, message)
            tried.add(replica.key)
            query = scope.get("query_string", b"").decode("latin-1")
            url = replica.base_url + (("&" if "?" in replica.base_url else "?") + query if query else "")
            client = backend.streams if method == "GET" else backend.http
            request = client.build_request(method, url, headers=headers, content=body)
            try:
                with anyio.fail_after(backend.config.timeout):
                    response = await client.send(request, stream=True)
            except TimeoutError:
                return await json_error(
                    send,
                    504,
                    "backend_timeout",
                    f"server {backend.name!r} did not answer in {backend.config.timeout:g} s",
                )
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                backend.mark_down(replica, type(exc).__name__)
                if session_id is None:
                    # Nothing reached the backend: a new session may go to another replica.
                    if backend.pick(exclude=tried) is not None:
                        continue
                elif isinstance(exc, httpx2.ConnectError):
                    # Refused: the process that held this session is gone, and the session with it.
                    backend.unpin(session_id)
                    return await json_error(send, 404, "session_not_found", "session not found; initialize a new one")
                return await json_error(send, 502, "backend_unavailable", f"server {backend.name!r} is unavailable")
            except httpx2.HTTPError as exc:
                logger.warning("backend %s: %s on %s", backend.name, type(exc).__name__, replica.key)
                return await json_error(send, 502, "backend_error", f"server {backend.name!r} failed to answer")
            break
        backend.mark_up(replica)
        return await self._relay(scope, receive, send, backend, replica, session_id, method, response)

    def _choose(
        self, backend: Backend, session_id: str | None, tried: set[str]
    ) -> tuple[Replica | None, tuple[int, str, str]]:
        if session_id is not None:
            replica = backend.pinned(session_id)
            if replica is not None:
                if replica.key not in backend.replicas or replica.key in tried:
                    # Its replica left DNS (the task is gone): the session went with it. 404 tells the client
                    # to initialize again, on a live replica.
                    backend.unpin(session_id)
                    return None, (404, "session_not_found", "session not found; initialize a new one")
                # Even when marked down: only that replica knows the session; a refusal ends it (above).
                return replica, (0, "", "")
            # Not pinned here (gateway restarted, or pins expired): any replica; the backend decides.
        replica = backend.pick(exclude=tried)
        if replica is None and not tried:
            # Nothing is marked up: try one anyway, it may be back before the next probe notices.
            replica = next(iter(backend.replicas.values()), None)
        if replica is None:
            return None, (502, "backend_unavailable", f"server {backend.name!r} is unavailable")
        return replica, (0, "", "")

    async def _relay(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        backend: Backend,
        replica: Replica,
        session_id: str | None,
        method: str,
        response: httpx2.Response,
    ) -> int:
        status = response.status_code
        new_session = response.headers.get(SESSION_HEADER)
        if new_session and session_id is None and status < 400:
            backend.pin(new_session, replica)
        if session_id is not None and (status == 404 or (method == "DELETE" and status < 300)):
            backend.unpin(session_id)
        self.streams.inc()
        try:
            await send({"type": "http.response.start", "status": status, "headers": _response_headers(response)})
            if method != "GET":
                # A POST's answer ends on its own; a client that leaves shows up as a failed send.
                await self._pump(response.aiter_raw(), send, backend, method)
            else:
                # A GET stream may stay silent for long: watch for the client leaving, to free the backend.
                await until_client_leaves(receive, self._pump(response.aiter_raw(), send, backend, method))
        except OSError:
            pass  # the client went away mid-stream
        finally:
            self.streams.dec()
            with anyio.CancelScope(shield=True):
                await response.aclose()
        return status

    async def _pump(self, chunks: AsyncIterator[bytes], send: Send, backend: Backend, method: str) -> None:
        try:
            if method == "POST":
                # A POST's answer (JSON or an SSE stream ending with the response) must keep moving: the
                # per-backend timeout bounds the silence between chunks. GET streams may idle for long.
                iterator = chunks.__aiter__()
                while True:
                    with anyio.fail_after(backend.config.timeout):
                        try:
                            chunk = await iterator.__anext__()
                        except StopAsyncIteration:
                            break
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            else:
                async for chunk in chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except TimeoutError:
            logger.warning("backend %s: response stalled for %g s; closing it", backend.name, backend.config.timeout)
        except httpx2.HTTPError as exc:
            logger.info("backend %s: stream ended early (%s)", backend.name, type(exc).__name__)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
