# SPDX-License-Identifier: GPL-3.0-or-later
"""A small stdio MCP server for the bridge's edge cases; each request is handled on its own thread.

Tools: echo (returns its arguments), sleep (waits `seconds`, then echoes), progress (sends `steps`
progress notifications tagged with `tag`, then answers), log (one log notification, then answers),
ask (sends a sampling request to the client and returns the answer it got), crash (exits at once),
environ (what the bridge passed on: PYTHONPATH, and whether agentopia_bridge imports).
serverInfo.version is the process id, so tests can tell a restarted child from the first one.
`--no-init` never answers initialize (a server that never becomes ready); `--protocol V` answers
initialize with V, like a server that knows no newer revision.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
from typing import Any

# `--protocol V`: answer initialize with V whatever is offered (an older server); else echo the offer.
OWN_VERSION = sys.argv[sys.argv.index("--protocol") + 1] if "--protocol" in sys.argv else None
LOCK = threading.Lock()
WAITING: dict[str, dict[str, Any]] = {}  # id of a request sent to the client -> its response, once it arrives
ARRIVED = threading.Condition(LOCK)


def send(message: dict[str, Any]) -> None:
    with LOCK:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def text(value: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": json.dumps(value, sort_keys=True)}], "isError": False}


def ask_client() -> Any:
    request_id = f"ask-{threading.get_ident()}"
    send({"jsonrpc": "2.0", "id": request_id, "method": "sampling/createMessage", "params": {"messages": []}})
    with ARRIVED:
        ARRIVED.wait_for(lambda: request_id in WAITING, timeout=10)
        return WAITING.pop(request_id, None)


def call_tool(name: str, args: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    if name == "crash":
        os._exit(3)
    if name == "sleep":
        time.sleep(float(args.get("seconds", 0.2)))
    if name == "progress":
        for step in range(int(args.get("steps", 3))):
            params = {"progressToken": meta.get("progressToken"), "progress": step + 1, "message": args.get("tag")}
            send({"jsonrpc": "2.0", "method": "notifications/progress", "params": params})
            time.sleep(0.05)
    if name == "log":
        params = {"level": "info", "logger": "fake", "data": args.get("tag")}
        send({"jsonrpc": "2.0", "method": "notifications/message", "params": params})
    if name == "ask":
        return text(ask_client())
    if name == "environ":
        importable = importlib.util.find_spec("agentopia_bridge") is not None
        return text({"PYTHONPATH": os.environ.get("PYTHONPATH"), "bridge_importable": importable})
    return text(args)


def handle(message: dict[str, Any]) -> None:
    method, params = message["method"], message.get("params") or {}
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": OWN_VERSION or params.get("protocolVersion"),
            "capabilities": {"tools": {}, "logging": {}},
            "serverInfo": {"name": "fake", "version": str(os.getpid())},
        }
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        names = ["echo", "sleep", "progress", "log", "ask", "crash", "environ"]
        result = {"tools": [{"name": n, "inputSchema": {"type": "object"}} for n in names]}
    elif method == "tools/call":
        result = call_tool(params["name"], params.get("arguments") or {}, params.get("_meta") or {})
    else:
        send({"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": f"no method {method}"}})
        return
    send({"jsonrpc": "2.0", "id": message["id"], "result": result})


def main() -> None:
    never_initialize = "--no-init" in sys.argv
    for line in sys.stdin:
        message = json.loads(line)
        if "method" not in message:  # a response to ask_client()
            with ARRIVED:
                WAITING[message["id"]] = message
                ARRIVED.notify_all()
        elif "id" in message and not (never_initialize and message["method"] == "initialize"):
            threading.Thread(target=handle, args=(message,), daemon=True).start()


if __name__ == "__main__":
    main()
