# SPDX-License-Identifier: GPL-3.0-or-later
"""Backends and their replicas: DNS resolution (Swarm dnsrr gives one A record per task), session pinning,
spreading new sessions, taking failing replicas out until they answer again."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpcore2
import httpx2

from .config import BackendConfig, Settings
from .metrics import Metrics

logger = logging.getLogger("agentopia_gateway.backends")

Address = tuple[str, int]
Resolver = Callable[[str, int], Awaitable[list[Address]]]


async def dns_resolver(host: str, port: int) -> list[Address]:
    """Every address the name resolves to (all tasks of a dnsrr service), in a stable order."""
    try:
        ipaddress.ip_address(host)
        return [(host, port)]
    except ValueError:
        pass
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({(str(info[4][0]), int(info[4][1])) for info in infos})


def _url_host(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class DrainOnClose(httpx2.AsyncByteStream):
    """A response body that, closed before its end, reads the rest (bounded) so its connection can be reused.

    The SDK's client closes a POST's SSE response as soon as the JSON-RPC response event is in, a few bytes
    before the stream's own end (the final chunk). A connection closed mid-body cannot go back to the pool,
    so every call through /mcp opened a new TCP connection to the backend: a connect per call, and under
    load thousands of sockets in TIME_WAIT. What is left after the response is normally that final chunk,
    already in flight; the read runs after the caller has its result, so it adds no latency to the call.
    """

    def __init__(self, inner: httpx2.AsyncByteStream, timeout: float, max_bytes: int) -> None:
        self._inner = inner
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._ended = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk
        self._ended = True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._ended:
            # A fresh iteration continues where the reader stopped (the HTTP/1.1 parser keeps the state).
            # Past the time or size bound, or on any error, the connection is closed as before.
            with anyio.move_on_after(self._timeout), contextlib.suppress(httpx2.HTTPError):
                seen = 0
                async with contextlib.aclosing(self._inner.__aiter__()) as rest:
                    async for chunk in rest:
                        seen += len(chunk)
                        if seen > self._max_bytes:
                            break
        await self._inner.aclose()


class ClosedUnanswered(httpcore2.ReadError):
    """The backend closed the connection (EOF) before the first byte of an answer to the request just written.

    httpcore reports that as a RemoteProtocolError, the same type as a malformed answer, told apart only by its
    message; the stream below raises this type instead, so the transport decides by type what it may send again.
    """


class CoalescingStream(httpcore2.AsyncNetworkStream):
    """Holds what HTTP/1.1 writes until the next read, then sends it in one piece.

    httpcore writes a request's head and its body separately: two send() calls, two loopback wake-ups of the
    backend, per request. An HTTP/1.1 client always reads the response after writing the whole request, so
    writing everything just before the first read changes nothing on the wire but the segment count.
    An EOF before any byte of the answer is raised as ClosedUnanswered.
    """

    def __init__(self, stream: httpcore2.AsyncNetworkStream) -> None:
        self._stream = stream
        self._pending: list[bytes] = []
        self._timeout: float | None = None
        self._answered = True  # has the backend sent a byte since the last request was written?

    async def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending.clear()
            await self._stream.write(data, self._timeout)
            self._answered = False

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._pending.append(buffer)
            self._timeout = timeout

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush()
        data = await self._stream.read(max_bytes, timeout)
        if not data and not self._answered:
            raise ClosedUnanswered("the backend closed the connection without answering")
        self._answered = True
        return data

    async def aclose(self) -> None:
        self._pending.clear()
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.AsyncNetworkStream:
        await self._flush()
        return CoalescingStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _CoalescingBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, backend: httpcore2.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        stream = await self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return CoalescingStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        return CoalescingStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


# Why the collection writes its own transport: httpx's AsyncHTTPTransport builds its httpcore pool itself and takes
# no network backend, and the coalescing backend above must sit under the pool. So BackendTransport owns a public
# httpcore pool and does the two conversions httpx's transport does: the request into httpcore's, the answer and
# httpcore's exceptions (when sending and while the body streams) back into httpx's. It has no proxy: backends are
# on the stack's own network, and nothing here reads the environment (httpx's trust_env, off).

# httpcore's exception types and httpx's, each subclass before its base: the first match is the most specific.
_HTTPX_ERROR_FOR: tuple[tuple[type[Exception], type[httpx2.TransportError]], ...] = (
    (httpcore2.PoolTimeout, httpx2.PoolTimeout),
    (httpcore2.ConnectTimeout, httpx2.ConnectTimeout),
    (httpcore2.ReadTimeout, httpx2.ReadTimeout),
    (httpcore2.WriteTimeout, httpx2.WriteTimeout),
    (httpcore2.TimeoutException, httpx2.TimeoutException),
    (httpcore2.ConnectError, httpx2.ConnectError),
    (httpcore2.ReadError, httpx2.ReadError),
    (httpcore2.WriteError, httpx2.WriteError),
    (httpcore2.NetworkError, httpx2.NetworkError),
    (httpcore2.RemoteProtocolError, httpx2.RemoteProtocolError),
    (httpcore2.LocalProtocolError, httpx2.LocalProtocolError),
    (httpcore2.ProtocolError, httpx2.ProtocolError),
    (httpcore2.UnsupportedProtocol, httpx2.UnsupportedProtocol),
)


@contextlib.contextmanager
def _httpx_errors(request: httpx2.Request) -> Iterator[None]:
    """httpcore's exceptions raised as httpx's (what the client and the gateway catch), the original as the cause."""
    try:
        yield
    except Exception as exc:
        for core_type, httpx_type in _HTTPX_ERROR_FOR:
            if isinstance(exc, core_type):
                raise httpx_type(str(exc), request=request) from exc
        raise


class _BackendBody(httpx2.AsyncByteStream):
    """An httpcore answer's body read through httpx; closing it gives its connection back to the pool."""

    def __init__(self, answer: httpcore2.Response, body: AsyncIterable[bytes], request: httpx2.Request) -> None:
        self._answer = answer
        self._body = body
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # The body stream itself, not answer.aiter_stream(): that one may be iterated only once, and DrainOnClose
        # iterates again to read what its reader left.
        with _httpx_errors(self._request):
            async for chunk in self._body:
                yield chunk

    async def aclose(self) -> None:
        with _httpx_errors(self._request):
            await self._answer.aclose()


class BackendTransport(httpx2.AsyncBaseTransport):
    """HTTP to backends: request head and body in one write; a request the backend closed a kept-alive
    connection on without reading it is sent once more; with `drain_timeout`, POST responses closed early
    are drained so their connection is reused (see DrainOnClose)."""

    def __init__(self, limits: httpx2.Limits, drain_timeout: float = 0.0, drain_bytes: int = 0) -> None:
        self._pool = httpcore2.AsyncConnectionPool(
            # What httpx gives its own pool with verify on and trust_env off: the default CA bundle, no SSL_CERT_*.
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CoalescingBackend(httpcore2.AnyIOBackend()),
        )
        self._drain_timeout = drain_timeout
        self._drain_bytes = drain_bytes

    async def _send(self, request: httpx2.Request) -> httpcore2.Response:
        core_request = httpcore2.Request(
            method=request.method,
            url=httpcore2.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,  # the timeouts, among others
        )
        return await self._pool.handle_async_request(core_request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        with _httpx_errors(request):
            try:
                answer = await self._send(request)
            except httpcore2.ReadError as exc:
                # Closed before any byte of an answer: an EOF (ClosedUnanswered, from CoalescingStream) or a reset
                # (a close with our request unread in its buffer sends RST). A malformed answer
                # (RemoteProtocolError) means the request ran, and is not sent again.
                # The HTTP/1.1 keep-alive race: the backend closed a pooled connection as idle while this request
                # was on its way (an overloaded backend's keep-alive timer fires before it reads the socket). It
                # closed without reading the request, so it never ran: send it once more, on another connection.
                logger.info(
                    "backend %s: kept-alive connection closed unanswered (%s); sent again",
                    request.url.netloc.decode(),
                    exc,
                )
                answer = await self._send(request)
        if not isinstance(answer.stream, AsyncIterable):
            raise TypeError("an async connection pool answered with a synchronous body")
        body: httpx2.AsyncByteStream = _BackendBody(answer, answer.stream, request)
        # Only POST answers end on their own; a GET stream is closed when the session ends and has no end.
        if self._drain_timeout > 0 and request.method == "POST":
            body = DrainOnClose(body, self._drain_timeout, self._drain_bytes)
        return httpx2.Response(
            status_code=answer.status, headers=answer.headers, stream=body, extensions=answer.extensions
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


@dataclass(slots=True)
class Replica:
    address: Address
    base_url: str
    up: bool = False  # until a handshake or a request proves it answers
    sessions: int = 0

    @property
    def key(self) -> str:
        return _url_host(self.address)


@dataclass(slots=True)
class _Pin:
    replica: Replica
    last_used: float = field(default_factory=time.monotonic)


class Backend:
    """One configured server: its replicas, the pass-through session pins, pooled HTTP clients.

    Two pools: `http` for requests (POST, DELETE), capped, so that a burst of calls waits for a free connection in
    the gateway instead of piling connects on the backend (under load those time out: 502s at 500 sessions); and
    `streams` for GET streams, which hold a connection for a session's whole life and so must not queue behind
    the cap.
    """

    def __init__(self, config: BackendConfig, settings: Settings, resolver: Resolver, metrics: Metrics) -> None:
        self.config = config
        self.name = config.name
        self._settings = settings
        self._resolver = resolver
        self._metrics = metrics
        self.replicas: dict[str, Replica] = {}
        self._pins: dict[str, _Pin] = {}
        self._rr = 0
        # Host header the backend expects: the configured name, even though we connect to an address.
        default_port = 443 if config.scheme == "https" else 80
        self.host_header = config.hostname if config.port == default_port else f"{config.hostname}:{config.port}"
        self.http = self._client(settings.passthrough_max_connections)
        self.streams = self._client(settings.backend_max_connections)

    def _client(self, max_connections: int) -> httpx2.AsyncClient:
        # pool=None: a request waits for a connection as long as the caller's per-backend timeout lets it.
        return httpx2.AsyncClient(
            timeout=httpx2.Timeout(
                connect=self._settings.connect_timeout, read=None, write=self.config.timeout, pool=None
            ),
            transport=BackendTransport(
                httpx2.Limits(
                    max_connections=max_connections,
                    max_keepalive_connections=max_connections,
                    # Below the 5 s idle limit of uvicorn (and most servers), so we never reuse a connection
                    # the backend is closing at that moment (that race shows up as ReadError under load).
                    keepalive_expiry=self._settings.backend_keepalive,
                )
            ),
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def ready(self) -> bool:
        return any(r.up for r in self.replicas.values())

    async def resolve(self) -> None:
        """Refresh the replica set from DNS; keep the state of addresses already known."""
        try:
            addresses = await self._resolver(self.config.hostname, self.config.port)
        except (OSError, socket.gaierror) as exc:
            # Keep what we had: a resolver hiccup must not drop live sessions.
            logger.warning("backend %s: cannot resolve %s (%s)", self.name, self.config.hostname, exc)
            if not self.replicas:
                self._update_gauges()
            return
        fresh: dict[str, Replica] = {}
        for address in addresses:
            key = _url_host(address)
            fresh[key] = self.replicas.get(key) or Replica(
                address=address, base_url=f"{self.config.scheme}://{key}{self.config.path}"
            )
        gone = set(self.replicas) - set(fresh)
        if gone:
            logger.info("backend %s: replicas gone: %s", self.name, ", ".join(sorted(gone)))
            for key, pin in list(self._pins.items()):
                if pin.replica.key in gone:
                    del self._pins[key]
        added = set(fresh) - set(self.replicas)
        if added:
            logger.info("backend %s: replicas added: %s", self.name, ", ".join(sorted(added)))
        self.replicas = fresh
        self._update_gauges()

    def _update_gauges(self) -> None:
        up = sum(1 for r in self.replicas.values() if r.up)
        self._metrics.backend_replicas.labels(self.name, "up").set(up)
        self._metrics.backend_replicas.labels(self.name, "down").set(len(self.replicas) - up)
        self._metrics.backend_up.labels(self.name).set(1 if up else 0)
        self._metrics.active_sessions.labels(self.name).set(len(self._pins))

    def mark_down(self, replica: Replica, reason: str) -> None:
        if replica.up:
            replica.up = False
            logger.warning("backend %s: replica %s taken out (%s)", self.name, replica.key, reason)
            self._update_gauges()

    def mark_up(self, replica: Replica) -> None:
        if not replica.up:
            replica.up = True
            logger.info("backend %s: replica %s is back", self.name, replica.key)
            self._update_gauges()

    def pick(self, exclude: set[str] | None = None) -> Replica | None:
        """A replica for a new session: the up replica with the fewest pinned sessions, round-robin on ties."""
        candidates = [r for r in self.replicas.values() if r.up and (not exclude or r.key not in exclude)]
        if not candidates:
            return None
        self._rr += 1
        least = min(r.sessions for r in candidates)
        tied = [r for r in candidates if r.sessions == least]
        return tied[self._rr % len(tied)]

    def pinned(self, session_id: str) -> Replica | None:
        pin = self._pins.get(session_id)
        if pin is None:
            return None
        pin.last_used = time.monotonic()
        return pin.replica

    def pin(self, session_id: str, replica: Replica) -> None:
        if session_id in self._pins:
            return
        self._pins[session_id] = _Pin(replica)
        replica.sessions += 1
        self._metrics.active_sessions.labels(self.name).set(len(self._pins))

    def unpin(self, session_id: str) -> None:
        pin = self._pins.pop(session_id, None)
        if pin is not None:
            pin.replica.sessions = max(0, pin.replica.sessions - 1)
            self._metrics.active_sessions.labels(self.name).set(len(self._pins))

    def expire_pins(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        stale = [sid for sid, pin in self._pins.items() if now - pin.last_used > self._settings.session_pin_ttl]
        for sid in stale:
            self.unpin(sid)
        return len(stale)

    @property
    def pin_count(self) -> int:
        return len(self._pins)

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.streams.aclose()
