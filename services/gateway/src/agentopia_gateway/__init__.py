# SPDX-License-Identifier: GPL-3.0-or-later
"""agentopia-gateway: one authenticated, observable MCP entry point in front of a toolbox's servers."""

__version__ = "0.1.0"
