# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP to backends: request head and body in one write, early-closed POST answers drained for reuse."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpcore2
import httpx2
import pytest
from agentopia_gateway.backends import BackendTransport, CoalescingStream, DrainOnClose
from gateway_helpers import client, make_backend, serve, serve_gateway, settings_for, wait_for

pytestmark = pytest.mark.anyio


class RecordingStream(httpcore2.AsyncNetworkStream):
    def __init__(self, incoming: list[bytes]) -> None:
        self.writes: list[tuple[bytes, float | None]] = []
        self.incoming = incoming
        self.closed = False

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.incoming.pop(0) if self.incoming else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.writes.append((buffer, timeout))

    async def aclose(self) -> None:
        self.closed = True

    def get_extra_info(self, info: str) -> Any:
        return f"extra:{info}"


async def test_coalescing_stream_writes_once_before_reading() -> None:
    inner = RecordingStream([b"HTTP/1.1 200 OK\r\n"])
    stream = CoalescingStream(inner)
    await stream.write(b"POST / HTTP/1.1\r\n\r\n", timeout=3.0)
    await stream.write(b"", timeout=3.0)
    await stream.write(b'{"jsonrpc": "2.0"}', timeout=3.0)
    assert inner.writes == []
    assert await stream.read(1024) == b"HTTP/1.1 200 OK\r\n"
    assert inner.writes == [(b'POST / HTTP/1.1\r\n\r\n{"jsonrpc": "2.0"}', 3.0)]
    await stream.read(1024)  # nothing pending: no empty write
    assert len(inner.writes) == 1
    assert stream.get_extra_info("is_readable") == "extra:is_readable"
    await stream.write(b"unsent")
    await stream.aclose()
    assert inner.closed and len(inner.writes) == 1


class ChunkStream(httpx2.AsyncByteStream):
    """A response body: chunks, each after an optional pause; records what was read and whether it was closed."""

    def __init__(self, chunks: list[tuple[float, bytes]]) -> None:
        self.chunks = list(chunks)
        self.read: list[bytes] = []
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.chunks:
            pause, chunk = self.chunks.pop(0)
            await anyio.sleep(pause)
            self.read.append(chunk)
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


async def first_then_close(stream: DrainOnClose) -> bytes:
    async for chunk in stream:
        first = chunk
        break
    await stream.aclose()
    return first


async def test_drain_reads_the_rest_of_an_early_closed_body() -> None:
    inner = ChunkStream([(0, b"event: message\r\ndata: {}\r\n\r\n"), (0, b"tail")])
    assert await first_then_close(DrainOnClose(inner, timeout=1.0, max_bytes=1024)) == inner.read[0]
    assert inner.read[1:] == [b"tail"] and inner.closed


async def test_drain_stops_at_its_time_and_size_bounds() -> None:
    slow = ChunkStream([(0, b"first"), (5.0, b"never waited for")])
    with anyio.fail_after(2):
        await first_then_close(DrainOnClose(slow, timeout=0.1, max_bytes=1024))
    assert slow.read == [b"first"] and slow.closed
    large = ChunkStream([(0, b"first"), (0, b"x" * 10), (0, b"y" * 10), (0, b"not read")])
    await first_then_close(DrainOnClose(large, timeout=1.0, max_bytes=15))
    assert large.read == [b"first", b"x" * 10, b"y" * 10] and large.closed


class ConnectionLog:
    """ASGI wrapper: the client address of every HTTP request a backend gets (one per TCP connection)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.posts: list[tuple[str, int]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            self.posts.append(tuple(scope["client"]))
        await self.app(scope, receive, send)


async def test_aggregate_calls_reuse_backend_connections(tmp_path: Path) -> None:
    """The SDK client closes each POST's SSE answer a few bytes early; the gateway keeps its connections."""
    backend = ConnectionLog(make_backend("alpha").streamable_http_app(host="127.0.0.1"))
    async with serve(backend) as port:
        # No health pings in between: only the calls' own POSTs.
        settings = settings_for(tmp_path, {"alpha": f"http://127.0.0.1:{port}/mcp"}, health_interval=60.0)
        async with serve_gateway(settings) as (gateway, url):
            await wait_for(lambda: gateway.backends["alpha"].ready)
            async with client(url + "/mcp") as c:
                await c.list_tools()
                before = len(backend.posts)
                for i in range(12):
                    result = await c.call_tool("alpha__add", {"a": i, "b": 1})
                    assert result.content[0].text == str(i + 1)
            calls = backend.posts[before:]
    assert len(calls) == 12
    # Without the drain every call arrived on a connection of its own (12 client ports).
    assert len(set(calls)) <= 2, f"{len(set(calls))} connections for 12 calls"


class ClosingServer:
    """A raw HTTP/1.1 server: answers "ok", but closes its first connection, unanswered, at the second request
    on it (what an overloaded backend does when its keep-alive timer fires before it reads the socket)."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        seen = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.requests += 1
                seen += 1
                if index == 0 and seen == 2:
                    return
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.parametrize("transport", ["plain", "backend"])
async def test_request_closed_unanswered_on_a_kept_alive_connection_is_sent_again(transport: str) -> None:
    server = ClosingServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    limits = httpx2.Limits(max_connections=4)
    chosen = BackendTransport(limits) if transport == "backend" else httpx2.AsyncHTTPTransport(limits=limits)
    try:
        async with httpx2.AsyncClient(transport=chosen, trust_env=False) as http:
            url = f"http://127.0.0.1:{port}/mcp"
            assert (await http.post(url, content=b'{"id": 1}')).text == "ok"
            if transport == "plain":
                # What the gateway did before: the race surfaced as a 502.
                with pytest.raises(httpx2.RemoteProtocolError, match="without sending a response"):
                    await http.post(url, content=b'{"id": 2}')
                return
            assert (await http.post(url, content=b'{"id": 2}')).text == "ok"
        assert (server.connections, server.requests) == (2, 3)
    finally:
        listener.close()
        await listener.wait_closed()


async def test_a_malformed_answer_is_not_sent_again() -> None:
    """Only a close before any answer is retried: a response that arrived, even broken, means the request ran."""
    requests = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        async with httpx2.AsyncClient(transport=BackendTransport(httpx2.Limits()), trust_env=False) as http:
            with pytest.raises(httpx2.RemoteProtocolError):
                await http.get(f"http://127.0.0.1:{port}/mcp")
        assert len(requests) == 1
    finally:
        listener.close()
        await listener.wait_closed()


@contextlib.asynccontextmanager
async def raw_server(handle: Any) -> AsyncIterator[str]:
    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/mcp"
    finally:
        listener.close()
        await listener.wait_closed()


async def test_httpcore_errors_reach_the_caller_as_httpx_errors_of_the_same_kind() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await reader.read()  # never answers; returns when the client hangs up

    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok")
        await writer.drain()
        writer.close()

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{unused.getsockname()[1]}/mcp"
    transport = BackendTransport(httpx2.Limits(max_connections=1))
    async with httpx2.AsyncClient(transport=transport, trust_env=False) as http:
        with pytest.raises(httpx2.ConnectError) as refused_error:
            await http.get(refused)
        assert refused_error.value.request.url == refused
        assert isinstance(refused_error.value.__cause__, httpcore2.ConnectError)

        async with raw_server(silent) as url:
            with pytest.raises(httpx2.ReadTimeout):
                await http.get(url, timeout=httpx2.Timeout(1.0, read=0.2))
            # The one connection is held by an open answer: the next request times out waiting for it.
            async with raw_server(cut_short) as short_url, http.stream("GET", short_url) as held:
                with pytest.raises(httpx2.PoolTimeout):
                    await http.get(url, timeout=httpx2.Timeout(1.0, pool=0.2))
                # A body that ends before its Content-Length, while it streams.
                with pytest.raises(httpx2.RemoteProtocolError) as cut_error:
                    await held.aread()
                assert isinstance(cut_error.value.__cause__, httpcore2.RemoteProtocolError)


async def test_closing_the_client_closes_the_backend_connections() -> None:
    hung_up = anyio.Event()

    async def answer_then_wait(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        if await reader.read() == b"":
            hung_up.set()
        writer.close()

    async with raw_server(answer_then_wait) as url:
        http = httpx2.AsyncClient(transport=BackendTransport(httpx2.Limits()), trust_env=False)
        assert (await http.get(url)).text == "ok"  # the connection stays open, kept alive in the pool
        assert not hung_up.is_set()
        await http.aclose()
        with anyio.fail_after(2):
            await hung_up.wait()
