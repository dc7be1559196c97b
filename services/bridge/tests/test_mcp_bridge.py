# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge on loopback: a fake stdio server for the edge cases, mcp-server-time for the real thing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import urlopen

import anyio
import pytest
from bridge_helpers import ACCEPT_BOTH, BRIDGE, FAKE, SERVICE, McpHttp, free_port, health, wait_health
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client


def tool_payload(messages: list[dict[str, Any]]) -> Any:
    """The JSON a fake tool returned, from the response (the last message of the stream)."""
    return json.loads(messages[-1]["result"]["content"][0]["text"])


HEALTH_SH = SERVICE / "image/mcp_health.sh"
# The image's HEALTHCHECK (bash) and the bridge's own --check (Python) must agree on every case.
BOTH_CHECKS = pytest.mark.parametrize("program", ["bash", "python"])


def check(url: str, program: str = "python") -> subprocess.CompletedProcess[str]:
    parts = urlsplit(url)
    command = (
        ["bash", str(HEALTH_SH), str(parts.port), parts.path]
        if program == "bash"
        else [*BRIDGE, "--check", url, "--timeout", "5"]
    )
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


# --- sessions and the handshake ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offered", "agreed"),
    [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ],
)
def test_initialize_negotiates_version_and_gives_fresh_sessions(fake_bridge, offered, agreed):
    first, second = McpHttp(fake_bridge.port), McpHttp(fake_bridge.port)
    assert first.initialize(offered)["protocolVersion"] == agreed
    second.initialize(offered)
    assert first.session != second.session
    # Both come from the child's one initialize: same process behind both sessions.
    assert first.init_result["serverInfo"] == second.init_result["serverInfo"]
    assert first.init_result["capabilities"] == {"tools": {}, "logging": {}}


def test_unknown_session_is_404_and_missing_session_is_400(fake_bridge):
    ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
    status, _headers, messages = McpHttp(fake_bridge.port).post(ping, session="0" * 32)
    assert status == 404
    assert messages[0]["id"] == 7
    status, _headers, messages = McpHttp(fake_bridge.port).post(ping)
    assert status == 400
    assert "Mcp-Session-Id" in messages[0]["error"]["message"]


def test_delete_ends_the_session(fake_bridge):
    client = fake_bridge.client()
    assert client.delete() == 200
    status, _headers, _messages = client.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert status == 404
    assert client.delete() == 404


def test_malformed_json_is_a_400_parse_error(fake_bridge):
    client = fake_bridge.client()
    status, _headers, messages = client.post(None, raw=b'{"jsonrpc": "2.0", "id": 1,')
    assert status == 400
    assert messages == [
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": messages[0]["error"]["message"]}}
    ]
    status, _headers, messages = client.post({"id": 1, "method": "ping"})
    assert (status, messages[0]["error"]["code"]) == (400, -32600)


def test_body_over_the_cap_is_413(start_bridge):
    bridge = start_bridge([sys.executable, str(FAKE)], ["--max-body-bytes", "1000"])
    client = bridge.client()
    status, _headers, _messages = client.post(
        None, raw=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "x" * 2000}).encode()
    )
    assert status == 413
    assert client.call(2, "echo", {"small": True})[-1]["result"]  # the bridge still serves


def test_get_is_405_and_other_paths_404(fake_bridge):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", fake_bridge.port, timeout=5)
    conn.request("GET", "/mcp", headers={"Accept": "text/event-stream"})
    assert conn.getresponse().status == 405
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", fake_bridge.port, timeout=5)
    conn.request("GET", "/elsewhere")
    assert conn.getresponse().status == 404
    conn.close()


# --- forwarding --------------------------------------------------------------------------


def test_concurrent_clients_with_colliding_ids_get_their_own_answers(fake_bridge):
    clients = [fake_bridge.client() for _client in range(6)]

    def call(index: int) -> Any:
        # Every client uses id 1 at the same time; the slower ones answer last.
        return tool_payload(clients[index].call(1, "sleep", {"seconds": 0.3 - 0.05 * index, "who": index}))

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(call, range(len(clients))))
    assert [a["who"] for a in answers] == list(range(len(clients)))


def test_progress_reaches_only_the_client_that_asked_before_the_response(fake_bridge):
    first, second = fake_bridge.client(), fake_bridge.client()

    def call(client: McpHttp, tag: str) -> list[dict[str, Any]]:
        return client.call("same-id", "progress", {"steps": 3, "tag": tag}, progress_token="same-token")

    with ThreadPoolExecutor(2) as pool:
        streams = list(pool.map(call, [first, second], ["first", "second"]))
    for stream, tag in zip(streams, ["first", "second"], strict=True):
        notes, response = stream[:-1], stream[-1]
        assert [n["params"]["message"] for n in notes] == [tag] * 3
        assert {n["params"]["progressToken"] for n in notes} == {"same-token"}
        assert response["id"] == "same-id"
        assert "result" in response


def test_a_log_message_reaches_the_only_request_in_flight(fake_bridge):
    stream = fake_bridge.client().call(3, "log", {"tag": "hello"})
    assert stream[0]["method"] == "notifications/message"
    assert stream[0]["params"]["data"] == "hello"


def test_plain_json_when_the_client_accepts_only_json(fake_bridge):
    client = fake_bridge.client()
    status, headers, messages = client.post(
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "echo", "arguments": {"a": 1}}},
        accept="application/json",
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert tool_payload(messages) == {"a": 1}
    assert client.post({"jsonrpc": "2.0", "id": 5, "method": "ping"}, accept="text/html")[0] == 406


def test_batch_gets_every_answer(fake_bridge):
    client = fake_bridge.client()
    batch = [{"jsonrpc": "2.0", "id": i, "method": "ping"} for i in ("a", "b")]
    status, _headers, messages = client.post(batch, accept="application/json")
    assert status == 200
    assert sorted(m["id"] for m in messages) == ["a", "b"]


def test_server_to_client_request_is_refused_by_the_bridge(fake_bridge):
    answer = tool_payload(fake_bridge.client().call(8, "ask", {}))
    assert answer["error"]["code"] == -32601
    assert "not supported by the bridge" in answer["error"]["message"]


def test_slow_request_times_out_with_an_error(fake_bridge):
    client = fake_bridge.client()
    started = time.monotonic()
    stream = client.call(9, "sleep", {"seconds": 10})
    assert stream[-1]["error"]["code"] == -32800
    assert time.monotonic() - started < 6
    assert tool_payload(client.call(10, "echo", {"after": "timeout"})) == {"after": "timeout"}


def test_client_cancellation_ends_the_request(fake_bridge):
    client = fake_bridge.client()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(client.call, 11, "sleep", {"seconds": 1.5})
        time.sleep(0.3)
        note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 11}}
        assert client.post(note)[0] == 202
        stream = pending.result(timeout=10)
    assert stream[-1]["error"]["code"] == -32800


# --- the child's life ----------------------------------------------------------------------


def test_child_crash_answers_in_flight_requests_then_recovers(start_bridge):
    bridge = start_bridge([sys.executable, str(FAKE)])
    client = bridge.client()
    first_pid = client.init_result["serverInfo"]["version"]
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(client.call, 1, "sleep", {"seconds": 5})
        time.sleep(0.3)
        crashed = McpHttp(bridge.port)
        crashed.session = client.session
        stream = crashed.call(2, "crash", {})
        assert stream[-1]["error"]["code"] == -32002
        assert waiting.result(timeout=10)[-1]["error"]["code"] == -32002
    wait_health(bridge.port, 200)
    # The same session keeps working, against a new process.
    assert tool_payload(client.call(3, "echo", {"again": True})) == {"again": True}
    assert McpHttp(bridge.port).initialize()["serverInfo"]["version"] != first_pid
    assert "restarting the server" in bridge.stop()


@BOTH_CHECKS
def test_never_ready_child_is_503_and_check_fails(start_bridge, program):
    bridge = start_bridge([sys.executable, str(FAKE), "--no-init"], wait_for=503)
    assert health(bridge.port) == 503
    result = check(bridge.url, program)
    assert result.returncode == 1
    assert result.stdout.startswith("unhealthy:")


def open_sessions(port: int) -> int:
    with urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        return json.load(response)["sessions"]


@BOTH_CHECKS
def test_check_exit_codes(fake_bridge, program):
    sessions = open_sessions(fake_bridge.port)
    healthy = check(fake_bridge.url, program)
    assert healthy.returncode == 0, healthy.stdout
    assert healthy.stdout.startswith("healthy: fake ")
    assert len(healthy.stdout.splitlines()) == 1
    # The check ends the session it opened: a check every few seconds must not pile sessions up.
    assert open_sessions(fake_bridge.port) == sessions
    dead = check(f"http://127.0.0.1:{free_port()}/mcp", program)
    assert dead.returncode == 1
    assert dead.stdout.startswith("unhealthy:") and "refused" in dead.stdout.lower()
    wrong_path = check(fake_bridge.url.replace("/mcp", "/nope"), program)
    assert wrong_path.returncode == 1 and "404" in wrong_path.stdout


@BOTH_CHECKS
def test_passing_checks_stay_out_of_the_log(start_bridge, program):
    # Docker runs the check every 2 s in every container: its requests must not bury a client's in the log.
    bridge = start_bridge([sys.executable, str(FAKE)])
    assert check(bridge.url, program).returncode == 0
    bridge.client().call(1, "echo", {})
    assert check(bridge.url.replace("/mcp", "/nope"), program).returncode == 1
    stderr = bridge.stop()
    assert stderr.count("POST /mcp 200 initialize") == 1  # the client's
    assert "POST /mcp 200 tools/call" in stderr
    assert "POST /mcp 200 ping" not in stderr and "DELETE /mcp" not in stderr
    assert "POST /nope 404" in stderr  # a failing check's request is logged


def test_logs_never_carry_arguments(start_bridge):
    bridge = start_bridge([sys.executable, str(FAKE)])
    bridge.client().call(1, "echo", {"secret": "hunter2-do-not-log"})
    stderr = bridge.stop()
    assert "POST /mcp 200 tools/call" in stderr
    assert "hunter2" not in stderr
    assert all(line.count(" mcp_bridge: ") == 1 for line in stderr.splitlines())


# --- a real reference server and the official SDK client --------------------------------


@pytest.mark.integration  # installs mcp-server-time from PyPI
def test_sdk_client_through_the_bridge_to_mcp_server_time(start_bridge, time_server):
    bridge = start_bridge([str(time_server)])

    async def session() -> tuple[str, list[str], dict[str, Any] | None]:
        async with Client(streamable_http_client(bridge.url)) as client:
            tools = await client.list_tools()
            result = await client.call_tool("get_current_time", {"timezone": "Europe/Paris"})
            return client.protocol_version, [t.name for t in tools.tools], result.structured_content

    version, tools, current = anyio.run(session)
    assert version == "2025-11-25"
    assert {"get_current_time", "convert_time"} <= set(tools)
    assert current is not None
    assert current["timezone"] == "Europe/Paris"
    assert current["datetime"].endswith(("+01:00", "+02:00"))
    assert check(bridge.url).returncode == 0
    assert check(bridge.url, "bash").stdout.startswith("healthy: mcp-time ")


def test_foreign_origin_and_unknown_protocol_header_are_refused(fake_bridge):
    import http.client

    client = fake_bridge.client()
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    base = {"Content-Type": "application/json", "Accept": ACCEPT_BOTH, "Mcp-Session-Id": client.session or ""}
    for extra, status in [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": f"http://127.0.0.1:{fake_bridge.port}"}, 200),
        ({"MCP-Protocol-Version": "2031-01-01"}, 400),
        ({"MCP-Protocol-Version": "2025-06-18"}, 200),
    ]:
        conn = http.client.HTTPConnection("127.0.0.1", fake_bridge.port, timeout=10)
        conn.request("POST", "/mcp", ping, {**base, **extra})
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == status, extra


def test_sigterm_stops_the_bridge_and_its_child(start_bridge):
    bridge = start_bridge([sys.executable, str(FAKE)])
    child_pid = int(bridge.client().init_result["serverInfo"]["version"])
    stderr = bridge.stop()
    assert bridge.process.returncode == 0, stderr
    assert "stopping" in stderr
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)


def test_clients_get_no_newer_revision_than_the_child_speaks(start_bridge):
    bridge = start_bridge([sys.executable, str(FAKE), "--protocol", "2025-06-18"])
    assert McpHttp(bridge.port).initialize("2025-11-25")["protocolVersion"] == "2025-06-18"
    assert McpHttp(bridge.port).initialize("2025-03-26")["protocolVersion"] == "2025-03-26"


# --- the images' layout -------------------------------------------------------------------

SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists(), reason="no system python3 to run the image's layout with")
def test_image_layout_runs_on_the_system_python_and_leaks_no_path_to_the_child(start_bridge, tmp_path):
    """As in the images: a directory with image/__main__.py beside the package, run as `python3 <dir>`."""
    home = tmp_path / "bridge"
    shutil.copytree(SERVICE / "src/agentopia_bridge", home / "agentopia_bridge", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(SERVICE / "image/__main__.py", home / "__main__.py")
    bridge = start_bridge([SYSTEM_PYTHON, str(FAKE)], program=[SYSTEM_PYTHON, str(home)])
    client = bridge.client()
    seen = tool_payload(client.call(1, "environ", {}))
    # The launcher adds no PYTHONPATH: the child sees the environment the bridge was given, and not the bridge.
    assert seen == {"PYTHONPATH": os.environ.get("PYTHONPATH"), "bridge_importable": False}
    assert check(bridge.url, "bash").returncode == 0
