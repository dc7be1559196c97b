"""mcp_probe against a real MCP server behind the real gateway (services/gateway), both on loopback."""

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.agentopia.toolbox.plugins.modules import mcp_probe

TOKEN = "probe-token-0123456789abcdef"
BACKEND = """
import sys, uvicorn
from mcp.server.mcpserver import MCPServer
server = MCPServer("clock")

@server.tool()
def get_current_time(timezone: str) -> str:
    '''The time, in a fixed answer.'''
    return f"2026-11-25T12:00:00 {timezone}"

@server.tool()
def broken() -> str:
    '''Always fails.'''
    raise ValueError("out of order")

uvicorn.run(server.streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, deadline: float = 30) -> None:
    """Until the gateway's /health says every backend is ready."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if set(json.load(answer)["backends"].values()) == {"ready"}:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not report its backends ready")


@pytest.fixture(name="gateway", scope="module")
def fixture_gateway(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("probe")
    backend_port, gateway_port = free_port(), free_port()
    (tmp / "token").write_text(TOKEN + "\n")
    env = {
        **os.environ,
        "GATEWAY_LISTEN": f"127.0.0.1:{gateway_port}",
        "GATEWAY_BACKENDS": json.dumps({"clock": f"http://127.0.0.1:{backend_port}/mcp"}),
        "GATEWAY_TOKEN_FILES": str(tmp / "token"),
    }
    procs = [
        subprocess.Popen([sys.executable, "-c", BACKEND, str(backend_port)]),
        subprocess.Popen([sys.executable, "-m", "agentopia_gateway"], env=env, stdout=subprocess.DEVNULL),
    ]
    try:
        wait_ready(f"http://127.0.0.1:{gateway_port}/health")
        yield f"http://127.0.0.1:{gateway_port}"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def probe(_tmp_path, **args) -> dict:
    """Run the module's main() with these arguments, in-process; return the JSON it prints, as Ansible reads it."""
    printed = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(printed), pytest.raises(SystemExit):
        mcp_probe.main()
    return json.loads(printed.getvalue())


def test_lists_tools_and_calls_one_through_the_gateway(gateway, tmp_path):
    result = probe(
        tmp_path,
        url=f"{gateway}/mcp",
        token=TOKEN,
        expect_tools=["clock__get_current_time"],
        call={"name": "clock__get_current_time", "arguments": {"timezone": "UTC"}},
        expect_text="UTC",
    )
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert "clock__get_current_time" in result["tools"]
    assert result["result"] == "2026-11-25T12:00:00 UTC"
    assert result["elapsed"]["total"] >= result["elapsed"]["call"] > 0
    assert TOKEN not in json.dumps(result)


def test_a_wrong_token_is_named(gateway, tmp_path):
    result = probe(tmp_path, url=f"{gateway}/mcp", token="not-the-token")
    assert result["failed"]
    assert "refused the token (HTTP 401)" in result["msg"]


def test_a_missing_tool_fails(gateway, tmp_path):
    result = probe(tmp_path, url=f"{gateway}/mcp", token=TOKEN, expect_tools=["clock__get_current_time", "clock__nope"])
    assert result["failed"]
    assert "does not list clock__nope" in result["msg"]


def test_every_expected_server_must_list_a_tool(gateway, tmp_path):
    assert not probe(tmp_path, url=f"{gateway}/mcp", token=TOKEN, expect_servers=["clock"]).get("failed")
    result = probe(tmp_path, url=f"{gateway}/mcp", token=TOKEN, expect_servers=["clock", "files"])
    assert result["failed"]
    assert "lists no tools of server(s) files" in result["msg"]


def test_a_failing_call_and_a_wrong_answer_fail(gateway, tmp_path):
    broken = probe(tmp_path, url=f"{gateway}/mcp", token=TOKEN, call={"name": "clock__broken"})
    assert broken["failed"]
    assert "clock__broken answered with an error: Error executing tool broken" in broken["msg"]
    wrong = probe(
        tmp_path,
        url=f"{gateway}/mcp",
        token=TOKEN,
        call={"name": "clock__get_current_time", "arguments": {"timezone": "UTC"}},
        expect_text="CET",
    )
    assert wrong["failed"]
    assert "without 'CET'" in wrong["msg"]


def test_an_unreachable_endpoint_fails_within_the_budget(tmp_path):
    started = time.monotonic()
    result = probe(tmp_path, url=f"http://127.0.0.1:{free_port()}/mcp", token=TOKEN, timeout=5)
    assert result["failed"]
    assert time.monotonic() - started < 15
    assert "127.0.0.1" in result["msg"]
