#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: mcp_probe
short_description: Talk to an MCP endpoint as a real client - list its tools, call one - within a time budget
version_added: 0.1.0
description:
  - Connects to an MCP streamable HTTP endpoint (a toolbox gateway's C(/mcp) or C(/servers/<name>/mcp)) with the
    official C(mcp) Python SDK, sends the bearer token, lists the tools and optionally calls one.
  - Fails when the endpoint cannot be reached, refuses the token, lacks an expected tool, the call returns an error
    or lacks the expected text, or the whole probe takes longer than O(timeout). This is the health gate of
    rollouts and the check C(make demo) prints.
  - Never changes anything.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
options:
  url:
    description: The MCP endpoint, for example C(http://host:8811/mcp).
    type: str
    required: true
  token:
    description: The bearer token (from Ansible Vault or the token secret).
    type: str
  expect_tools:
    description: Tool names that must be listed.
    type: list
    elements: str
    default: []
  expect_servers:
    description:
      - Servers of a toolbox gateway's aggregate C(/mcp) that must each list at least one tool there (its tools are
        named C(<server>__<tool>)). A server the gateway does not see as ready lists none.
    type: list
    elements: str
    default: []
  call:
    description: A tool to call, as C(name) and C(arguments).
    type: dict
  expect_text:
    description: Text the call's result must contain.
    type: str
  timeout:
    description: Seconds the whole probe may take.
    type: float
    default: 30
  ca_file:
    description: CA bundle to verify an https endpoint with.
    type: path
requirements:
  - "mcp (the official MCP Python SDK) on the host the module runs on; run it on the controller (delegate_to localhost)
    when targets do not have it."
"""

EXAMPLES = r"""
- name: The gateway lists the time server's tools and tells the time
  agentopia.toolbox.mcp_probe:
    url: "http://{{ ansible_host }}:8811/mcp"
    token: "{{ vault_research_token }}"
    expect_tools: [clock__get_current_time]
    call: {name: clock__get_current_time, arguments: {timezone: UTC}}
    expect_text: UTC
    timeout: 15
  delegate_to: localhost
"""

RETURN = r"""
tools:
  description: Names of the tools the endpoint lists.
  returned: success
  type: list
  elements: str
result:
  description: Text of the called tool's result (first 4000 characters).
  returned: when call is given
  type: str
protocol_version:
  description: The MCP protocol revision the endpoint agreed to.
  returned: success
  type: str
elapsed:
  description: Seconds the probe took, and the call alone.
  returned: always
  type: dict
"""

import asyncio
import json
import time
import traceback
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import ToolboxError
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import Library, run_module

try:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    MCP_IMPORT_ERROR = None
except ImportError:
    MCP_IMPORT_ERROR = traceback.format_exc()
MCP_SDK = Library("mcp (the official MCP Python SDK)", MCP_IMPORT_ERROR)


INITIALIZE_PARAMS = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "agentopia-mcp-probe", "version": "0.1.0"},
}


async def probe(params: dict) -> dict:
    headers = {"Authorization": f"Bearer {params['token']}"} if params["token"] else {}
    verify = params["ca_file"] or True
    started = time.monotonic()
    outcome: dict = {"elapsed": {}}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=params["timeout"], verify=verify) as http,
        Client(streamable_http_client(params["url"], http_client=http)) as client,
    ):
        outcome["protocol_version"] = str(client.protocol_version or "")
        outcome["tools"] = sorted(tool.name for tool in (await client.list_tools()).tools)
        call = params["call"]
        if call and call.get("name"):
            call_started = time.monotonic()
            result = await client.call_tool(call["name"], call.get("arguments") or {})
            outcome["elapsed"]["call"] = round(time.monotonic() - call_started, 3)
            outcome["result"] = "\n".join(getattr(item, "text", "") for item in result.content)[:4000]
            outcome["call_failed"] = bool(result.is_error)
    outcome["elapsed"]["total"] = round(time.monotonic() - started, 3)
    return outcome


def judge(params: dict, outcome: dict) -> str | None:
    """What a health gate refuses in an answered probe, or None."""
    missing = [name for name in params["expect_tools"] if name not in outcome["tools"]]
    if missing:
        return f"{params['url']} does not list {', '.join(missing)} (it lists {len(outcome['tools'])} tools)"
    silent = [name for name in params["expect_servers"] if not any(t.startswith(f"{name}__") for t in outcome["tools"])]
    if silent:
        return f"{params['url']} lists no tools of server(s) {', '.join(silent)} (is the server ready?)"
    call = params["call"] or {}
    text = outcome.get("result", "")
    if outcome.pop("call_failed", False):
        return f"{call['name']} answered with an error: {text[:500]}"
    if call and params["expect_text"] and params["expect_text"] not in text:
        return f"{call['name']} answered without {params['expect_text']!r}: {text[:500]}"
    return None


def http_status(params: dict) -> int | None:
    """The status a plain initialize gets: the SDK reports a refused token only as an error response."""
    body = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": INITIALIZE_PARAMS}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if params["token"]:
        headers["Authorization"] = f"Bearer {params['token']}"
    try:
        with open_url(
            params["url"],
            data=json.dumps(body),
            headers=headers,
            method="POST",
            timeout=5,
            ca_path=params["ca_file"],
            follow_redirects="none",
        ) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def describe(exc: BaseException, params: dict) -> str:
    """The innermost message of the SDK's exception groups, or the HTTP refusal behind it."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    status = http_status(params)
    if status in (401, 403):
        return f"the endpoint refused the token (HTTP {status})"
    return f"{type(exc).__name__}: {exc}" + (f" (HTTP {status} to a plain initialize)" if status else "")


def execute_module(module: AnsibleModule) -> dict:
    params = module.params
    if params["call"] is not None and not params["call"].get("name"):
        raise ToolboxError("mcp_probe: call needs a name (and optionally arguments)")
    started = time.monotonic()
    try:
        outcome = asyncio.run(asyncio.wait_for(probe(params), params["timeout"]))
    except TimeoutError:
        raise ToolboxError(
            f"mcp_probe: {params['url']} did not answer within {params['timeout']} s",
            {"elapsed": {"total": round(time.monotonic() - started, 3)}},
        ) from None
    except Exception as exc:  # pylint: disable=broad-exception-caught  # the SDK and httpx raise many types
        raise ToolboxError(
            f"mcp_probe: {params['url']}: {describe(exc, params)}",
            {"elapsed": {"total": round(time.monotonic() - started, 3)}},
        ) from exc
    problem = judge(params, outcome)
    if problem:
        raise ToolboxError(f"mcp_probe: {problem}", outcome)
    return {"changed": False, **outcome}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "token": {"type": "str", "no_log": True},
            "expect_tools": {"type": "list", "elements": "str", "default": []},
            "expect_servers": {"type": "list", "elements": "str", "default": []},
            "call": {"type": "dict"},
            "expect_text": {"type": "str"},
            "timeout": {"type": "float", "default": 30},
            "ca_file": {"type": "path"},
        },
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="mcp_probe", needs=(MCP_SDK,))


if __name__ == "__main__":
    main()
