# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus metrics, in a registry owned by one app instance (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Buckets from 0.5 ms: the gateway's own overhead is in the low milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "gateway_http_requests_total",
            "HTTP requests by route and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to the response headers, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "gateway_tool_calls_total",
            "tools/call through the aggregate endpoint, by server, tool and outcome "
            "(ok, error, unavailable, timeout, cancelled).",
            ["server", "tool", "outcome"],
            registry=self.registry,
        )
        self.tool_seconds = Histogram(
            "gateway_tool_call_duration_seconds",
            "tools/call latency through the aggregate endpoint, by server.",
            ["server"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.active_sessions = Gauge(
            "gateway_active_sessions",
            "Client sessions currently known: pass-through sessions pinned to a replica, per server.",
            ["server"],
            registry=self.registry,
        )
        self.open_streams = Gauge(
            "gateway_open_streams",
            "Responses being streamed right now (SSE included), by route.",
            ["route"],
            registry=self.registry,
        )
        self.backend_up = Gauge(
            "gateway_backend_up",
            "1 when at least one replica of the backend answers MCP, else 0.",
            ["server"],
            registry=self.registry,
        )
        self.backend_replicas = Gauge(
            "gateway_backend_replicas",
            "Replicas (resolved addresses) of each backend, by state.",
            ["server", "state"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "gateway_rejected_requests_total",
            "Requests refused before reaching a backend, by reason.",
            ["reason"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
