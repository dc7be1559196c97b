# SPDX-License-Identifier: GPL-3.0-or-later
"""What the bridge speaks: MCP revisions, JSON-RPC error codes, its own name, and its logger."""

from __future__ import annotations

import logging
from typing import Any

# Streamable HTTP revisions, oldest to newest; the newest is the one offered to the child.
PROTOCOL_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INTERNAL_ERROR = -32700, -32600, -32601, -32603
SERVER_UNAVAILABLE, REQUEST_TIMEOUT, REQUEST_CANCELLED = -32002, -32001, -32800
BRIDGE_INFO = {"name": "agentopia-mcp-bridge", "version": "0.1.0"}
# The HEALTHCHECKs' User-Agent (mcp_health.sh and --check): their passing requests are logged at DEBUG only.
HEALTH_AGENT = "agentopia-health"
# One logger for every module: the log lines read "mcp_bridge: ..." as they always have.
log = logging.getLogger("mcp_bridge")


def error_message(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}
