# SPDX-License-Identifier: GPL-3.0-or-later
"""python3 -m agentopia_bridge --listen HOST:PORT -- <server command>"""

from agentopia_bridge.cli import run

run()
