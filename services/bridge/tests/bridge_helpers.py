# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the bridge (python -m agentopia_bridge) on loopback and talk MCP streamable HTTP to it, plainly."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# The bridge as a program: `python -m agentopia_bridge` (the images run the same package through image/__main__.py).
BRIDGE = [sys.executable, "-m", "agentopia_bridge"]
SERVICE = Path(__file__).resolve().parents[1]
FAKE = Path(__file__).with_name("fake_server.py")
TIME_SERVER = "mcp-server-time==2026.10.19"
ACCEPT_BOTH = "application/json, text/event-stream"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def health(port: int) -> int | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health")
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


def wait_health(port: int, want: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (status := health(port)) != want:
        if time.monotonic() > deadline:
            raise AssertionError(f"/health on port {port} is {status}, not {want}, after {timeout} s")
        time.sleep(0.1)


class Bridge:
    """One bridge process; `client()` opens an MCP session over raw HTTP."""

    def __init__(
        self, command: list[str], extra: list[str], wait_for: int = 200, program: list[str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        argv = [*(program or BRIDGE), "--listen", f"127.0.0.1:{self.port}", *extra, "--", *command]
        self.process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        try:
            wait_health(self.port, wait_for)
        except BaseException:
            self.stop()  # no bridge left behind by a failed start
            raise

    def stop(self) -> str:
        self.process.terminate()
        _stdout, stderr = self.process.communicate(timeout=15)
        return stderr

    def client(self, protocol_version: str = "2025-11-25") -> McpHttp:
        client = McpHttp(self.port)
        client.initialize(protocol_version)
        return client


class McpHttp:
    """A deliberately plain MCP streamable HTTP client, so tests see the wire."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.session: str | None = None
        self.init_result: dict[str, Any] = {}

    def post(
        self, body: Any, accept: str = ACCEPT_BOTH, session: str | None = None, raw: bytes | None = None
    ) -> tuple[int, dict[str, str], list[dict[str, Any]]]:
        """POST one message (or a batch); return status, headers and the messages in the answer."""
        headers = {"Content-Type": "application/json", "Accept": accept}
        if session or self.session:
            headers["Mcp-Session-Id"] = session or self.session or ""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", "/mcp", raw if raw is not None else json.dumps(body).encode(), headers)
        response = conn.getresponse()
        data = response.read().decode()
        conn.close()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        if answer_headers.get("content-type", "").startswith("text/event-stream"):
            messages = [json.loads(line[5:]) for line in data.splitlines() if line.startswith("data:")]
        elif data:
            parsed = json.loads(data)
            messages = parsed if isinstance(parsed, list) else [parsed]
        else:
            messages = []
        return response.status, answer_headers, messages

    def initialize(self, protocol_version: str = "2025-11-25") -> dict[str, Any]:
        params = {"protocolVersion": protocol_version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        status, headers, messages = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params})
        assert status == 200, messages
        self.session = headers["mcp-session-id"]
        self.init_result = messages[0]["result"]
        assert self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})[0] == 202
        return self.init_result

    def call(self, request_id: Any, tool: str, arguments: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"name": tool, "arguments": arguments}
        if "progress_token" in kwargs:
            params["_meta"] = {"progressToken": kwargs.pop("progress_token")}
        status, _headers, messages = self.post(
            {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}, **kwargs
        )
        assert status == 200, messages
        return messages

    def delete(self) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("DELETE", "/mcp", headers={"Mcp-Session-Id": self.session or ""})
        status = conn.getresponse().status
        conn.close()
        return status
