# SPDX-License-Identifier: GPL-3.0-or-later
"""Backends and their replicas: DNS resolution (Swarm dnsrr gives one A record per task), session pinning,
spreading new sessions, taking failing replicas out until they answer again."""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
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


@dataclass(slots=True)
class Replica:
    address: Address
    base_url: str
    up: bool = False  # until a handshake or a request proves it answers
    sessions: int = 0
    failures: int = 0
    last_error: str = ""

    @property
    def key(self) -> str:
        return _url_host(self.address)


@dataclass(slots=True)
class _Pin:
    replica: Replica
    last_used: float = field(default_factory=time.monotonic)


class Backend:
    """One configured server: its replicas, the pass-through session pins, one pooled HTTP client."""

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
        self.http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(connect=settings.connect_timeout, read=None, write=config.timeout, pool=None),
            limits=httpx2.Limits(
                max_connections=settings.backend_max_connections,
                max_keepalive_connections=settings.backend_max_connections,
                # Below the 5 s idle limit of uvicorn (and most servers), so we never reuse a connection
                # the backend is closing at that moment (that race shows up as ReadError under load).
                keepalive_expiry=settings.backend_keepalive,
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
        replica.failures += 1
        replica.last_error = reason
        if replica.up:
            replica.up = False
            logger.warning("backend %s: replica %s taken out (%s)", self.name, replica.key, reason)
            self._update_gauges()

    def mark_up(self, replica: Replica) -> None:
        replica.failures = 0
        replica.last_error = ""
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
