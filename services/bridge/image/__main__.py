# SPDX-License-Identifier: GPL-3.0-or-later
"""The images' launcher: `python3 /opt/agentopia/bridge --listen ... -- <server>`.

Python runs a directory by putting it first on sys.path and running its __main__.py, so the package
beside this file (/opt/agentopia/bridge/agentopia_bridge) imports with no PYTHONPATH - which the
child server would inherit - and no pip install into the image's system python3.
"""

from agentopia_bridge.cli import run

run()
