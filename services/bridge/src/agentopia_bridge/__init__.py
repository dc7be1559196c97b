# SPDX-License-Identifier: GPL-3.0-or-later
"""Serve one stdio MCP server over MCP streamable HTTP, with the standard library only.

    python3 -m agentopia_bridge --listen 0.0.0.0:8000 -- <server command> [args...]
    python3 -m agentopia_bridge --check http://127.0.0.1:8000/mcp

The bridge starts ONE child, initializes it once and lets many HTTP clients share it:
each client gets its own Mcp-Session-Id and an initialize result copied from the child's,
and every request id is renumbered on the way in so that clients never collide on the
child's single JSON-RPC id space. It declares no client capabilities to the child, so the
child has no reason to ask anything back; if it does, the bridge answers with an error.
`GET /health` is 200 while the child is up and initialized, else 503. `--check` is a real
initialize + ping round trip. Python >= 3.11; see docs/architecture.md.

Modules: protocol (MCP constants and JSON-RPC errors), config (Settings), child (the stdio
server and its id mapping), http11 (HTTP/1.1 reading and writing), sessions, bridge (the /mcp
and /health endpoints, serve), check (the health check client), cli (arguments, main).
"""

__version__ = "0.1.0"
