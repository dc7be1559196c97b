"""A new user's first session with a deployed toolbox, through its gateway, with the official MCP SDK.

Usage: toolbox_client.py BASE_URL   (the token comes from the environment variable TOOLBOX_TOKEN)

Prints one JSON object: what was listed and what each tool call answered, and the HTTP status of
requests without or with a wrong token. Exits 1 with the reason when anything a user relies on fails.
Run by molecule/toolbox/verify.yml on the controller.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime

import httpx2 as httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
}


def status_without(base: str, token: str | None) -> int:
    """HTTP status of an initialize with no token (None) or the given one."""
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{base}/mcp", data=json.dumps(INITIALIZE).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def text_of(result) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


async def call(client: Client, name: str, arguments: dict) -> dict:
    result = await client.call_tool(name, arguments)
    return {"error": bool(result.is_error), "text": text_of(result)[:2000]}


async def session_at(url: str, token: str, work):
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        return await work(client)


async def aggregate(session: Client) -> dict:
    tools = sorted(tool.name for tool in (await session.list_tools()).tools)
    calls = {
        "files": await call(session, "files__read_text_file", {"path": "/data/hello.txt"}),
        "files_write": await call(session, "files__write_file", {"path": "/data/new.txt", "content": "x"}),
        "git": await call(session, "git__git_log", {"repo_path": "/repos/demo"}),
        "clock": await call(session, "clock__get_current_time", {"timezone": "UTC"}),
        "memory_write": await call(
            session,
            "memory__create_entities",
            {"entities": [{"name": "lab-probe", "entityType": "test", "observations": ["seen by the probe"]}]},
        ),
        "memory_read": await call(session, "memory__read_graph", {}),
        "db_read": await call(session, "db__execute_sql", {"sql": "SELECT 40 + 2 AS answer"}),
        "db_write": await call(session, "db__execute_sql", {"sql": "CREATE TABLE probe (i int)"}),
        "web": await call(session, "web__fetch", {"url": "http://gateway:8811/health", "raw": True}),
    }
    return {"tools": tools, "calls": calls}


async def one_to_one(session: Client) -> dict:
    return {"tools": sorted(tool.name for tool in (await session.list_tools()).tools)}


async def main(base: str, token: str) -> dict:
    report = {
        "status_no_token": status_without(base, None),
        "status_wrong_token": status_without(base, "not-the-token"),
        "aggregate": await session_at(f"{base}/mcp", token, aggregate),
        "clock_direct": await session_at(f"{base}/servers/clock/mcp", token, one_to_one),
    }
    problems = check(report)
    report["problems"] = problems
    return report


def check(report: dict) -> list[str]:
    """What a user would look at, as plain sentences."""
    calls = report["aggregate"]["calls"]
    expectations = {
        "no token is refused with 401": report["status_no_token"] == 401,
        "a wrong token is refused with 401": report["status_wrong_token"] == 401,
        "every server lists tools": all(
            any(t.startswith(f"{s}__") for t in report["aggregate"]["tools"])
            for s in ("files", "git", "clock", "memory", "db", "web")
        ),
        "the file is read": "hello from the lab" in calls["files"]["text"],
        "the read-only volume refuses a write": calls["files_write"]["error"]
        or "denied" in calls["files_write"]["text"].lower(),
        "git log shows the commit": "first commit" in calls["git"]["text"],
        "the clock tells today's date": datetime.now(UTC).strftime("%Y-%m-%d") in calls["clock"]["text"],
        "memory keeps what it was told": "seen by the probe" in calls["memory_read"]["text"],
        "a read-only query answers": "42" in calls["db_read"]["text"] and not calls["db_read"]["error"],
        "a write query is refused": calls["db_write"]["error"]
        or "error validating query" in calls["db_write"]["text"].lower(),
        "fetch reads a lab page": '"status"' in calls["web"]["text"],
        "the one-to-one endpoint lists unprefixed tools": "get_current_time" in report["clock_direct"]["tools"],
    }
    return [sentence for sentence, ok in expectations.items() if not ok]


if __name__ == "__main__":
    outcome = asyncio.run(main(sys.argv[1].rstrip("/"), os.environ["TOOLBOX_TOKEN"]))
    print(json.dumps(outcome, indent=1))
    sys.exit(1 if outcome["problems"] else 0)
