# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway image's HEALTHCHECK (gateway_health.sh, bash over /dev/tcp) against a gateway on loopback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anyio
import pytest
from agentopia_gateway.app import Gateway
from gateway_helpers import free_port, serve, serve_gateway, settings_for, wait_for

pytestmark = pytest.mark.anyio

HEALTH_SH = Path(__file__).resolve().parents[1] / "image/gateway_health.sh"


async def run_check(port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_LISTEN"] = f"0.0.0.0:{port}"
    return await anyio.to_thread.run_sync(
        lambda: subprocess.run(
            ["bash", str(HEALTH_SH)], env=env, capture_output=True, text=True, timeout=30, check=False
        )
    )


async def test_gateway_check_passes_while_it_serves_and_fails_when_nothing_listens(tmp_path: Path) -> None:
    # A gateway whose one backend is down still serves (degraded): healthy, and the body says what is down.
    settings = settings_for(tmp_path, {"alpha": f"http://127.0.0.1:{free_port()}/mcp"})
    async with serve_gateway(settings) as (gateway, url):
        await wait_for(lambda: not gateway.backends["alpha"].ready)
        result = await run_check(int(url.rsplit(":", 1)[1]))
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == 'healthy: /health {"status": "degraded", "backends": {"alpha": "unavailable"}}'
    result = await run_check(free_port())
    assert result.returncode == 1
    assert result.stdout.startswith("unhealthy: nothing listens on 127.0.0.1:")


async def test_gateway_check_waits_for_a_gateway_that_is_still_starting(tmp_path: Path) -> None:
    # Docker looks again only an interval later: a check that finds the port closed for a moment waits for it.
    port = free_port()
    settings = settings_for(tmp_path, {"alpha": f"http://127.0.0.1:{free_port()}/mcp"})
    async with anyio.create_task_group() as tg:
        outcome: list[subprocess.CompletedProcess[str]] = []

        async def check() -> None:
            outcome.append(await run_check(port))

        tg.start_soon(check)
        await anyio.sleep(1.0)
        async with serve(Gateway(settings), port):
            await wait_for(lambda: bool(outcome), timeout=10)
    assert outcome[0].returncode == 0, outcome[0].stdout
