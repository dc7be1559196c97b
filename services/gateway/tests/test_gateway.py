# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway end to end on loopback: real MCPServer backends, the gateway under uvicorn, the SDK client."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from gateway_helpers import (
    TOKEN,
    Killable,
    client,
    free_port,
    make_backend,
    serve_backend,
    serve_gateway,
    settings_for,
    wait_for,
)
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio

AUTH = {"Authorization": f"Bearer {TOKEN}"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def text(result: Any) -> str:
    return result.content[0].text


@contextlib.asynccontextmanager
async def two_backends(tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[Any, str]]:
    async with serve_backend("alpha") as pa, serve_backend("beta") as pb:
        settings = settings_for(
            tmp_path, {"alpha": f"http://127.0.0.1:{pa}/mcp", "beta": f"http://127.0.0.1:{pb}/mcp"}, **overrides
        )
        async with serve_gateway(settings) as (gateway, url):
            await wait_for(lambda: all(b.ready for b in gateway.backends.values()))
            yield gateway, url


async def test_aggregate_prefixes_both_ways(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (_gateway, url):
        await check_aggregate(url)


async def check_aggregate(url: str) -> None:
    async with client(url + "/mcp") as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert {"alpha__add", "alpha__whoami", "beta__add", "beta__whoami"} <= names
        assert all(n.split("__", 1)[0] in ("alpha", "beta") for n in names)
        assert text(await c.call_tool("alpha__whoami", {})) == "alpha"
        assert text(await c.call_tool("beta__whoami", {})) == "beta"
        assert text(await c.call_tool("beta__add", {"a": 40, "b": 2})) == "42"

        resources = {r.uri: r.name for r in (await c.list_resources()).resources}
        assert resources["beta+note://static"] == "beta__static_note"
        read = await c.read_resource("beta+note://static")
        assert read.contents[0].text == "static note from beta"
        assert read.contents[0].uri == "beta+note://static"
        templates = {t.uri_template for t in (await c.list_resource_templates()).resource_templates}
        assert "alpha+note://{label}/readme" in templates
        assert (await c.read_resource("alpha+note://x/readme")).contents[0].text == "readme of x"

        prompts = {p.name for p in (await c.list_prompts()).prompts}
        assert {"alpha__greet", "beta__greet"} <= prompts
        prompt = await c.get_prompt("beta__greet", {"who": "Ann"})
        assert "Greet Ann from beta" in prompt.messages[0].content.text

        with pytest.raises(MCPError, match="no server named 'gamma'"):
            await c.call_tool("gamma__add", {"a": 1, "b": 2})
        with pytest.raises(MCPError, match="<server>__<tool>"):
            await c.call_tool("add", {"a": 1, "b": 2})


async def test_pass_through_routes_to_its_server(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (_gateway, url):
        for name in ("alpha", "beta"):
            async with client(f"{url}/servers/{name}/mcp") as c:
                assert text(await c.call_tool("whoami", {})) == name
                assert "whoami" in {t.name for t in (await c.list_tools()).tools}
        async with httpx2.AsyncClient(headers=AUTH) as http:
            r = await http.post(f"{url}/servers/gamma/mcp", json=INIT, headers=MCP_HEADERS)
            assert r.status_code == 404 and r.json()["error"] == "unknown_server"
            r = await http.put(f"{url}/servers/alpha/mcp", content=b"{}")
            assert r.status_code == 405 and "POST" in r.headers["allow"]
            r = await http.get(f"{url}/nothing")
            assert r.status_code == 404


async def test_auth_missing_wrong_and_rotated(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (gateway, url), httpx2.AsyncClient() as http:
        for path in ("/mcp", "/servers/alpha/mcp"):
            r = await http.post(url + path, json=INIT, headers=MCP_HEADERS)
            assert r.status_code == 401
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.json() == {"error": "unauthorized", "message": "send Authorization: Bearer <token>"}
            r = await http.post(url + path, json=INIT, headers={**MCP_HEADERS, "Authorization": "Bearer wrong"})
            assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
            r = await http.post(url + path, json=INIT, headers={**MCP_HEADERS, "Authorization": f"Basic {TOKEN}"})
            assert r.status_code == 401
        assert (await http.get(url + "/health")).status_code == 200
        assert (await http.get(url + "/metrics")).status_code == 200

        # Rotation: the new token is added next to the old one, then the old one is removed.
        token_file = Path(gateway.settings.token_files[0])
        token_file.write_text(f"{TOKEN}\nnext-token-0000000000\n")
        await wait_for(lambda: gateway.tokens.count == 2)
        async with client(url + "/mcp", token="next-token-0000000000") as c:
            assert text(await c.call_tool("alpha__whoami", {})) == "alpha"
            token_file.write_text("next-token-0000000000\n")
            await wait_for(lambda: gateway.tokens.count == 1)
            assert text(await c.call_tool("alpha__whoami", {})) == "alpha"  # no failed request for the new token
        r = await http.post(url + "/mcp", json=INIT, headers={**MCP_HEADERS, **AUTH})
        assert r.status_code == 401
        # Access lines never carry tokens: only a short hash.
        assert TOKEN not in json.dumps(gateway.health())


async def test_host_and_origin_checks(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (_gateway, url), httpx2.AsyncClient(headers=AUTH) as http:
        r = await http.post(url + "/mcp", json=INIT, headers={**MCP_HEADERS, "Host": "evil.example.com"})
        assert r.status_code == 403 and r.json()["error"] == "forbidden_host"
        # Checked before auth: a rebinding page learns nothing about tokens.
        r = await http.post(
            url + "/mcp", json=INIT, headers={**MCP_HEADERS, "Host": "evil.example.com", "Authorization": ""}
        )
        assert r.status_code == 403
        r = await http.post(url + "/mcp", json=INIT, headers={**MCP_HEADERS, "Origin": "http://evil.example.com"})
        assert r.status_code == 403 and r.json()["error"] == "forbidden_origin"
        r = await http.post(url + "/mcp", json=INIT, headers={**MCP_HEADERS, "Origin": "http://localhost:6274"})
        assert r.status_code == 200
        # /health and /metrics come before the Host check (docs/architecture.md): callers use an address.
        for path in ("/health", "/metrics"):
            r = await http.get(url + path, headers={"Host": "10.0.3.7:8811", "Authorization": ""})
            assert r.status_code == 200, path


async def test_dead_backend_is_unavailable_then_comes_back(tmp_path: Path) -> None:
    dead_port = free_port()
    async with serve_backend("alpha") as pa:
        settings = settings_for(
            tmp_path, {"alpha": f"http://127.0.0.1:{pa}/mcp", "beta": f"http://127.0.0.1:{dead_port}/mcp"}
        )
        async with serve_gateway(settings) as (gateway, url), httpx2.AsyncClient() as http:
            await wait_for(lambda: gateway.backends["alpha"].ready)
            health = (await http.get(url + "/health")).json()
            assert health == {"status": "degraded", "backends": {"alpha": "ready", "beta": "unavailable"}}
            async with client(url + "/mcp") as c:
                names = {t.name for t in (await c.list_tools()).tools}
                assert "alpha__add" in names and not any(n.startswith("beta__") for n in names)
                with pytest.raises(MCPError, match="'beta' is unavailable"):
                    await c.call_tool("beta__whoami", {})
                assert text(await c.call_tool("alpha__whoami", {})) == "alpha"
            r = await http.post(url + "/servers/beta/mcp", json=INIT, headers={**MCP_HEADERS, **AUTH})
            assert r.status_code == 502 and r.json()["error"] == "backend_unavailable"

            async with serve_backend("beta", port=dead_port):
                await wait_for(lambda: gateway.backends["beta"].ready)
                assert (await http.get(url + "/health")).json()["status"] == "ok"
                async with client(url + "/mcp") as c:
                    await wait_for(lambda: gateway.pools["beta"].ready)
                    assert text(await c.call_tool("beta__whoami", {})) == "beta"
                    assert "beta__add" in {t.name for t in (await c.list_tools()).tools}
            await wait_for(lambda: not gateway.backends["beta"].ready)
            metrics = (await http.get(url + "/metrics")).text
            assert 'gateway_backend_up{server="beta"} 0.0' in metrics


async def test_slow_backend_times_out_without_blocking_others(tmp_path: Path) -> None:
    async with serve_backend("alpha") as pa, serve_backend("beta") as pb:
        settings = settings_for(tmp_path, {"alpha": f"http://127.0.0.1:{pa}/mcp", "beta": f"http://127.0.0.1:{pb}/mcp"})
        settings = settings.__class__(
            **{
                **{f: getattr(settings, f) for f in settings.__dataclass_fields__},
                "backends": tuple(b.__class__(b.name, b.url, 0.5) for b in settings.backends),
            }
        )
        async with serve_gateway(settings) as (gateway, url):
            await wait_for(lambda: all(p.ready for p in gateway.pools.values()))
            await check_timeout(url)


async def check_timeout(url: str) -> None:
    errors: list[str] = []
    async with client(url + "/mcp") as c:

        async def slow() -> None:
            try:
                await c.call_tool("beta__slow", {"seconds": 3})
            except MCPError as exc:
                errors.append(exc.error.message)

        async with anyio.create_task_group() as tg:
            tg.start_soon(slow)
            assert text(await c.call_tool("alpha__whoami", {})) == "alpha"
    assert errors == ["server 'beta' did not answer within 0.5 s"]


async def test_limits_413_and_429(tmp_path: Path) -> None:
    async with (
        two_backends(tmp_path, max_body_bytes=2000, rate_limit=1, rate_burst=3) as (_gateway, url),
        httpx2.AsyncClient(headers=AUTH) as http,
    ):
        big = {**INIT, "params": {**INIT["params"], "pad": "x" * 5000}}
        r = await http.post(url + "/servers/alpha/mcp", json=big, headers=MCP_HEADERS)
        assert r.status_code == 413 and r.json()["error"] == "body_too_large"
        r = await http.post(url + "/mcp", json=big, headers=MCP_HEADERS)
        assert r.status_code == 413
        statuses = [(await http.get(url + "/servers/alpha/mcp")).status_code for _round in range(3)]
        assert statuses[-1] == 429
        r = await http.get(url + "/servers/alpha/mcp")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and r.json()["error"] == "rate_limited"
        # /health is outside the limit
        assert (await http.get(url + "/health")).status_code == 200


async def test_pass_through_keeps_sessions_apart(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (gateway, url):
        async with httpx2.AsyncClient(headers={**AUTH, **MCP_HEADERS}) as http:
            ids = set()
            for _round in range(2):
                r = await http.post(url + "/servers/alpha/mcp", json=INIT)
                assert r.status_code == 200
                ids.add(r.headers["mcp-session-id"])
            assert len(ids) == 2 and gateway.backends["alpha"].pin_count == 2
            for sid in ids:
                r = await http.delete(url + "/servers/alpha/mcp", headers={"Mcp-Session-Id": sid})
                assert r.status_code < 300
            assert gateway.backends["alpha"].pin_count == 0

        # Two clients, each answering the server's elicitation with its own name, at the same time.
        def answering(name: str) -> Any:
            async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
                await anyio.sleep(0.05)
                return types.ElicitResult(action="accept", content={"name": name})

            return on_elicit

        answers: dict[str, str] = {}

        async def one(name: str) -> None:
            async with client(url + "/servers/alpha/mcp", mode="legacy", elicitation_callback=answering(name)) as c:
                answers[name] = text(await c.call_tool("ask_name", {}))

        async with anyio.create_task_group() as tg:
            for name in ("ann", "bob", "cy"):
                tg.start_soon(one, name)
        assert answers == {"ann": "hello ann", "bob": "hello bob", "cy": "hello cy"}


def recorder(seen: list[tuple[float, float | None, str | None]]) -> Any:
    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        seen.append((p, total, message))

    return on_progress


async def test_progress_survives_pass_through(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (_gateway, url):
        for path, tool in (("/servers/beta/mcp", "count"), ("/mcp", "beta__count")):
            seen: list[tuple[float, float | None, str | None]] = []
            on_progress = recorder(seen)

            async with client(url + path, mode="legacy") as c:
                result = await c.session.send_request(
                    types.CallToolRequest(params=types.CallToolRequestParams(name=tool, arguments={"steps": 3})),
                    types.CallToolResult,
                    progress_callback=on_progress,
                )
            assert text(result) == "counted 3"
            assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")], path


async def test_replicas_spread_pinned_and_failed_over(tmp_path: Path) -> None:
    open_security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    r1, r2 = (Killable(make_backend(n).streamable_http_app(transport_security=open_security)) for n in ("r1", "r2"))
    async with anyio.create_task_group() as tg:
        p1, p2 = await r1.start(tg), await r2.start(tg)

        async def resolver(host: str, port: int) -> list[tuple[str, int]]:
            assert (host, port) == ("multi.internal", 8000)
            return [("127.0.0.1", p1), ("127.0.0.1", p2)]

        settings = settings_for(tmp_path, {"multi": "http://multi.internal:8000/mcp"})
        async with serve_gateway(settings, resolver) as (gateway, url):
            backend = gateway.backends["multi"]
            await wait_for(lambda: len(backend.replicas) == 2 and all(r.up for r in backend.replicas.values()))
            async with httpx2.AsyncClient(headers={**AUTH, **MCP_HEADERS}) as http:
                call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami"}}

                async def ask(sid: str) -> httpx2.Response:
                    headers = {"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
                    return await http.post(url + "/servers/multi/mcp", json=call, headers=headers)

                sessions: dict[str, str] = {}
                for _round in range(4):
                    r = await http.post(url + "/servers/multi/mcp", json=INIT)
                    sid = r.headers["mcp-session-id"]
                    await http.post(
                        url + "/servers/multi/mcp",
                        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                        headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"},
                    )
                    # Pinned: every request of a session lands on the replica that created it.
                    answers = {
                        "r1" if '"text":"r1"' in (await ask(sid)).text.replace(" ", "") else "r2" for _round in "abc"
                    }
                    assert len(answers) == 1
                    sessions[sid] = answers.pop()
                assert sorted(sessions.values()) == ["r1", "r1", "r2", "r2"]  # new sessions spread evenly

                await r2.stop()
                r2_sid = next(s for s, who in sessions.items() if who == "r2")
                assert (await ask(r2_sid)).status_code in (404, 502)
                await wait_for(lambda: sum(rep.up for rep in backend.replicas.values()) == 1)
                assert (await ask(r2_sid)).status_code == 404  # its session went with it: client re-initializes
                for _round in range(3):  # new sessions all go to the survivor
                    assert (await http.post(url + "/servers/multi/mcp", json=INIT)).status_code == 200
                r1_sid = next(s for s, who in sessions.items() if who == "r1")
                assert (await ask(r1_sid)).status_code == 200
                async with client(url + "/mcp") as c:
                    assert text(await c.call_tool("multi__whoami", {})) == "r1"
        await r1.stop()


async def test_metrics_exposed(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (_gateway, url):
        async with client(url + "/mcp") as c:
            await c.call_tool("alpha__add", {"a": 1, "b": 2})
        async with httpx2.AsyncClient() as http:
            await http.post(url + "/mcp", json=INIT, headers=MCP_HEADERS)  # a 401
            r = await http.get(url + "/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        body = r.text
        assert 'gateway_tool_calls_total{outcome="ok",server="alpha",tool="add"} 1.0' in body
        assert 'gateway_backend_up{server="alpha"} 1.0' in body
        assert 'gateway_http_requests_total{method="POST",route="aggregate",status="401"} 1.0' in body
        assert "gateway_tool_call_duration_seconds_bucket" in body
        assert 'gateway_active_sessions{server="alpha"}' in body
        assert TOKEN not in body


async def test_get_stream_is_released_when_the_client_leaves(tmp_path: Path) -> None:
    async with two_backends(tmp_path) as (gateway, url), httpx2.AsyncClient(headers={**AUTH, **MCP_HEADERS}) as http:
        r = await http.post(url + "/servers/alpha/mcp", json=INIT)
        session = {"Mcp-Session-Id": r.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
        await http.post(
            url + "/servers/alpha/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session
        )

        def streams() -> float | None:
            return gateway.metrics.registry.get_sample_value("gateway_open_streams", {"route": "server"})

        async with http.stream(
            "GET", url + "/servers/alpha/mcp", headers={**session, "Accept": "text/event-stream"}
        ) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            await wait_for(lambda: streams() == 1)
        # The client hung up on an idle stream: the gateway notices and lets go of the backend's.
        await wait_for(lambda: streams() == 0)
        r = await http.delete(url + "/servers/alpha/mcp", headers=session)
        assert r.status_code < 300


async def test_pass_through_requests_queue_at_their_cap_but_streams_do_not(tmp_path: Path) -> None:
    # One connection for requests: three sessions' calls at once take turns on it and all succeed, while each
    # session's GET stream holds a connection of its own pool the whole time (it must never wait behind calls).
    async with (
        two_backends(tmp_path, passthrough_max_connections=1) as (gateway, url),
        httpx2.AsyncClient(headers={**AUTH, **MCP_HEADERS}, timeout=20) as http,
    ):
        sessions = []
        for _number in range(3):
            r = await http.post(url + "/servers/alpha/mcp", json=INIT)
            session = {"Mcp-Session-Id": r.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            assert (await http.post(url + "/servers/alpha/mcp", json=note, headers=session)).status_code == 202
            sessions.append(session)

        def streams() -> float | None:
            return gateway.metrics.registry.get_sample_value("gateway_open_streams", {"route": "server"})

        async with contextlib.AsyncExitStack() as held:
            for session in sessions:
                stream = await held.enter_async_context(
                    http.stream("GET", url + "/servers/alpha/mcp", headers={**session, "Accept": "text/event-stream"})
                )
                assert stream.status_code == 200
            await wait_for(lambda: streams() == 3)
            answers: list[int] = []

            async def call(session: dict[str, str], number: int) -> None:
                body = {"jsonrpc": "2.0", "id": 10 + number, "method": "tools/call",
                        "params": {"name": "add", "arguments": {"a": number, "b": 1}}}  # fmt: skip
                r = await http.post(url + "/servers/alpha/mcp", json=body, headers=session)
                assert r.status_code == 200 and '"isError":false' in r.text.replace(" ", "")
                answers.append(number)

            with anyio.fail_after(15):
                async with anyio.create_task_group() as tg:
                    for number, session in enumerate(sessions):
                        tg.start_soon(call, session, number)
            assert sorted(answers) == [0, 1, 2]
