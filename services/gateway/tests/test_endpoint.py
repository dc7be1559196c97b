# SPDX-License-Identifier: GPL-3.0-or-later
"""/mcp at the HTTP level (endpoint.py): sessions, the raw tools/call path, progress, cancellation, errors."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from gateway_helpers import TOKEN, serve_backend, serve_gateway, settings_for, wait_for

pytestmark = pytest.mark.anyio

HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
}
PV = "2025-06-18"


def init(msg_id: Any = 1, version: str = PV) -> dict[str, Any]:
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    return {"jsonrpc": "2.0", "id": msg_id, "method": "initialize", "params": params}


def call(msg_id: Any, name: str, arguments: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": msg_id, "method": "tools/call", "params": params}


def sse_messages(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]


@contextlib.asynccontextmanager
async def gateway(tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[Any, str, httpx2.AsyncClient]]:
    async with serve_backend("alpha") as port:
        settings = settings_for(tmp_path, {"alpha": f"http://127.0.0.1:{port}/mcp"}, **overrides)
        async with serve_gateway(settings) as (gw, url), httpx2.AsyncClient(headers=HEADERS, timeout=30) as http:
            await wait_for(lambda: gw.pools["alpha"].ready)
            yield gw, url + "/mcp", http


async def open_session(http: httpx2.AsyncClient, url: str) -> dict[str, str]:
    r = await http.post(url, json=init())
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    session = {"Mcp-Session-Id": r.headers["mcp-session-id"], "MCP-Protocol-Version": PV}
    r = await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
    assert r.status_code == 202
    return session


async def test_initialize_and_raw_tool_calls(tmp_path: Path) -> None:
    # No health pings during the test: a ping beside a call rightly takes a second connection.
    async with gateway(tmp_path, health_interval=60.0) as (gw, url, http):
        r = await http.post(url, json=init(7, "2025-03-26"))
        answer = r.json()
        assert answer["id"] == 7 and answer["result"]["protocolVersion"] == "2025-03-26"
        assert answer["result"]["serverInfo"]["name"] == "agentopia-gateway"
        assert set(answer["result"]["capabilities"]) == {"completions", "logging", "prompts", "resources", "tools"}
        # A revision the gateway does not speak: it offers its newest handshake revision.
        assert (await http.post(url, json=init(8, "1999-01-01"))).json()["result"]["protocolVersion"] == "2025-11-25"

        session = await open_session(http, url)
        # The backend's answer comes back as it is, under the client's ID (a string or a number).
        for msg_id in ("call-a", 41):
            r = await http.post(url, json=call(msg_id, "alpha__add", {"a": 40, "b": 2}), headers=session)
            message = r.json()
            assert r.status_code == 200 and message["id"] == msg_id
            assert message["result"]["content"][0]["text"] == "42" and message["result"]["isError"] is False
        # Sequential calls reuse one backend connection: each answer's stream is read to its end.
        # The connection each backend answer came on: httpcore's "network_stream" response extension.
        link = gw.pools["alpha"].pick()
        connections: list[Any] = []

        async def record_connection(response: httpx2.Response) -> None:
            connections.append(response.extensions["network_stream"])

        link.http.event_hooks["response"].append(record_connection)
        for n in range(10):
            r = await http.post(url, json=call(n, "alpha__add", {"a": n, "b": 1}), headers=session)
            assert r.json()["result"]["content"][0]["text"] == str(n + 1)
        link.http.event_hooks["response"].remove(record_connection)
        assert len(connections) == 10 and len(set(connections)) == 1
        # A tool error stays a result with isError; a bad name is a JSON-RPC error from the gateway.
        r = await http.post(url, json=call(2, "alpha__add", {"a": 1}), headers=session)
        assert r.json()["result"]["isError"] is True
        r = await http.post(url, json=call(3, "gamma__add", {}), headers=session)
        assert r.json()["error"]["message"] == "unknown tool 'gamma__add': no server named 'gamma'"
        r = await http.post(url, json=call(4, "add", {}), headers=session)
        assert "<server>__<tool>" in r.json()["error"]["message"]
        r = await http.post(url, json={"jsonrpc": "2.0", "id": 5, "method": "tools/call"}, headers=session)
        assert r.json()["error"]["code"] == -32602

        # The rest goes through the Aggregator, shaped for the session's revision.
        r = await http.post(url, json={"jsonrpc": "2.0", "id": 6, "method": "tools/list"}, headers=session)
        assert r.headers["content-type"].startswith("text/event-stream")
        tools = sse_messages(r.text)[0]["result"]
        assert "alpha__add" in {t["name"] for t in tools["tools"]} and "ttlMs" not in tools
        r = await http.post(url, json={"jsonrpc": "2.0", "id": 7, "method": "ping"}, headers=session)
        assert sse_messages(r.text) == [{"jsonrpc": "2.0", "id": 7, "result": {}}]
        r = await http.post(url, json={"jsonrpc": "2.0", "id": 8, "method": "nope/nope"}, headers=session)
        assert sse_messages(r.text)[0]["error"]["code"] == -32601
        body = {"jsonrpc": "2.0", "id": 9, "method": "resources/read", "params": {"uri": "alpha+note://static"}}
        r = await http.post(url, json=body, headers=session)
        assert sse_messages(r.text)[0]["result"]["contents"][0]["text"] == "static note from alpha"
        body = {"jsonrpc": "2.0", "id": 10, "method": "resources/read", "params": {}}
        assert sse_messages((await http.post(url, json=body, headers=session)).text)[0]["error"]["code"] == -32602

        metrics = (await http.get(url.replace("/mcp", "/metrics"))).text
        assert 'gateway_tool_calls_total{outcome="ok",server="alpha",tool="add"} 12.0' in metrics
        assert 'gateway_tool_calls_total{outcome="error",server="alpha",tool="add"} 1.0' in metrics
        assert len(gw.endpoint.sessions) == 3


async def test_http_errors_and_session_end(tmp_path: Path) -> None:
    async with gateway(tmp_path, max_sessions=2) as (gw, url, http):
        session = await open_session(http, url)
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        r = await http.post(url, json=ping)
        assert r.status_code == 400 and r.json()["error"]["message"] == "Bad Request: Missing session ID"
        r = await http.post(url, json=ping, headers={"Mcp-Session-Id": "nope"})
        assert r.status_code == 404
        r = await http.post(url, content=b"{not json", headers=session)
        assert r.status_code == 400 and r.json()["error"]["code"] == -32700
        r = await http.post(url, json=[ping], headers=session)
        assert r.status_code == 400 and r.json()["error"]["code"] == -32600
        r = await http.post(url, json={**ping, "id": {"not": "an id"}}, headers=session)
        assert r.status_code == 400 and r.json()["error"]["code"] == -32600
        r = await http.post(url, json=ping, headers={**session, "Accept": "text/html"})
        assert r.status_code == 406
        r = await http.post(url, content=json.dumps(ping), headers={**session, "Content-Type": "text/plain"})
        assert r.status_code == 415
        r = await http.put(url, json=ping, headers=session)
        assert r.status_code == 405 and r.headers["allow"] == "GET, POST, DELETE"

        # At the session limit a new session is refused; a DELETE frees its place.
        assert (await http.post(url, json=init())).status_code == 200
        assert (await http.post(url, json=init())).status_code == 503
        r = await http.delete(url, headers=session)
        assert r.status_code == 200
        assert (await http.post(url, json=ping, headers=session)).status_code == 404
        assert (await http.delete(url, headers=session)).status_code == 404
        assert (await http.post(url, json=init())).status_code == 200
        assert len(gw.endpoint.sessions) == 2


async def test_idle_sessions_are_forgotten(tmp_path: Path) -> None:
    async with gateway(tmp_path, session_idle_timeout=1.0, max_sessions=2) as (gw, url, http):
        session = await open_session(http, url)
        await open_session(http, url)
        await anyio.sleep(1.2)
        # Past the idle timeout a session is gone, whether or not the sweep came first.
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        assert (await http.post(url, json=ping, headers=session)).status_code == 404
        assert len(gw.endpoint.sessions) == 1
        # A full table is swept when a new session asks for a place: the other idle one goes too.
        await open_session(http, url)
        assert (await http.post(url, json=init())).status_code == 200
        assert len(gw.endpoint.sessions) == 2


async def test_progress_is_streamed_with_the_clients_token(tmp_path: Path) -> None:
    async with gateway(tmp_path) as (_gw, url, http):
        session = await open_session(http, url)
        r = await http.post(
            url, json=call("p", "alpha__count", {"steps": 3}, {"progressToken": "mine"}), headers=session
        )
        assert r.headers["content-type"].startswith("text/event-stream")
        messages = sse_messages(r.text)
        progress = [m["params"] for m in messages if m.get("method") == "notifications/progress"]
        assert [(p["progressToken"], p["progress"], p["total"]) for p in progress] == [
            ("mine", 1, 3),
            ("mine", 2, 3),
            ("mine", 3, 3),
        ]
        assert messages[-1]["id"] == "p" and messages[-1]["result"]["content"][0]["text"] == "counted 3"
        # Without a token: one plain JSON answer, no progress.
        r = await http.post(url, json=call("q", "alpha__count", {"steps": 2}), headers=session)
        assert r.headers["content-type"] == "application/json" and r.json()["id"] == "q"


async def test_cancel_timeout_and_get_stream(tmp_path: Path) -> None:
    async with gateway(tmp_path) as (gw, url, http):
        session = await open_session(http, url)
        answers: dict[str, Any] = {}

        async def slow() -> None:
            r = await http.post(url, json=call("s", "alpha__slow", {"seconds": 5}), headers=session)
            answers["slow"] = r.json()

        with anyio.fail_after(4):
            async with anyio.create_task_group() as tg:
                tg.start_soon(slow)
                await wait_for(lambda: any(s.calls for s in gw.endpoint.sessions.values()))
                cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "s"}}
                assert (await http.post(url, json=cancel, headers=session)).status_code == 202
        assert answers["slow"]["error"]["code"] == -32800
        metrics = (await http.get(url.replace("/mcp", "/metrics"))).text
        assert 'gateway_tool_calls_total{outcome="cancelled",server="alpha",tool="slow"} 1.0' in metrics

        gw.backends["alpha"].config = gw.backends["alpha"].config.__class__(
            "alpha", gw.backends["alpha"].config.url, 0.3
        )
        r = await http.post(url, json=call("t", "alpha__slow", {"seconds": 2}), headers=session)
        assert r.json()["error"]["message"] == "server 'alpha' did not answer within 0.3 s"
        timeouts = {"server": "alpha", "tool": "slow", "outcome": "timeout"}
        assert gw.metrics.registry.get_sample_value("gateway_tool_calls_total", timeouts) == 1.0

        # The standalone stream stays open (nothing is sent on it) until the session ends.
        def streams() -> float | None:
            return gw.metrics.registry.get_sample_value("gateway_open_streams", {"route": "aggregate"})

        async with http.stream("GET", url, headers={**session, "Accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200
            await wait_for(lambda: streams() == 1)
            assert (await http.delete(url, headers=session)).status_code == 200
            with anyio.fail_after(5):
                async for _chunk in stream.aiter_bytes():
                    pass
        assert streams() == 0


async def test_dead_backend_and_backend_session_lost(tmp_path: Path) -> None:
    async with gateway(tmp_path) as (gw, url, http):
        session = await open_session(http, url)
        pool = gw.pools["alpha"]
        link = pool.pick()
        assert link is not None
        # The backend forgot the pooled session (as after its restart): a clear error, and the pool opens anew.
        link.session_id = "forgotten"
        r = await http.post(url, json=call(1, "alpha__add", {"a": 1, "b": 2}), headers=session)
        assert r.json()["error"]["message"] == "server 'alpha' failed: HTTP 404"
        pool.sessions.clear()
        r = await http.post(url, json=call(2, "alpha__add", {"a": 1, "b": 2}), headers=session)
        assert "'alpha' is unavailable" in r.json()["error"]["message"]
        metrics = (await http.get(url.replace("/mcp", "/metrics"))).text
        assert 'gateway_tool_calls_total{outcome="unavailable",server="alpha",tool="add"} 2.0' in metrics


async def test_modern_revision_goes_to_the_sdk(tmp_path: Path) -> None:
    async with gateway(tmp_path) as (gw, url, http):
        meta = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}}
        r = await http.post(url, json=body, headers={"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"})
        # Answered by the SDK's server (its per-request envelope, no session), through the same handlers.
        messages = sse_messages(r.text) if r.headers["content-type"].startswith("text/event-stream") else [r.json()]
        assert "alpha__add" in {t["name"] for t in messages[-1]["result"]["tools"]}
        assert not gw.endpoint.sessions
