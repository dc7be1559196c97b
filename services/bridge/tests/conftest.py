# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures: the bridge in front of the fake stdio server, and mcp-server-time in a venv of its own."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bridge_helpers import FAKE, TIME_SERVER, Bridge


@pytest.fixture
def start_bridge() -> Iterator[Callable[..., Bridge]]:
    started: list[Bridge] = []

    def start(
        command: list[str], extra: list[str] | None = None, wait_for: int = 200, program: list[str] | None = None
    ) -> Bridge:
        bridge = Bridge(command, extra or [], wait_for, program)
        started.append(bridge)
        return bridge

    yield start
    for bridge in started:
        if bridge.process.poll() is None:
            bridge.stop()


@pytest.fixture(scope="module")
def fake_bridge() -> Iterator[Bridge]:
    bridge = Bridge([sys.executable, str(FAKE)], ["--request-timeout", "2"])
    yield bridge
    bridge.stop()


@pytest.fixture(scope="session")
def time_server() -> Path:
    """mcp-server-time in a venv of its own (as in the image), installed from PyPI once and reused across runs."""
    venv = Path(tempfile.gettempdir()) / "agentopia-bridge-tests" / TIME_SERVER.replace("==", "-")
    binary = venv / "bin/mcp-server-time"
    if not (venv / ".complete").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = subprocess.run(
            [str(venv / "bin/pip"), "install", "-q", TIME_SERVER],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if pip.returncode != 0:  # the integration tier has the network: no PyPI is a failure, not a skip
            raise AssertionError(f"pip install {TIME_SERVER} failed:\n{pip.stderr}")
        (venv / ".complete").touch()
    return binary
