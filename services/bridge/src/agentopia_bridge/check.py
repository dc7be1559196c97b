# SPDX-License-Identifier: GPL-3.0-or-later
"""`--check URL`: a real MCP exchange against an endpoint, for people (the images' HEALTHCHECK is mcp_health.sh)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from agentopia_bridge.protocol import BRIDGE_INFO, HEALTH_AGENT, PROTOCOL_VERSIONS


def check(url: str, timeout: float) -> int:
    """Initialize, notifications/initialized, ping, DELETE; print one line and return 0 (healthy) or 1."""
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
