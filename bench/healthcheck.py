# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU of one HEALTHCHECK run: the server images' bash check (mcp_health.sh) against the Python one it replaced
(the bridge's `--check`), and the gateway's bash check (gateway_health.sh) against http_health.py.

Docker runs the check every interval in every container, so its CPU is a toolbox's idle cost. Both checks of a
pair run against the same endpoint, in alternating rounds, here on loopback: a bridge in front of the tests' fake
stdio server, and a gateway in front of that bridge. CPU is the children's user + system time (getrusage), which
is the check's own process; Docker's exec of it (runc) costs the same for either and is not included.
`.venv/bin/python bench/healthcheck.py [--runs N]` (about 30 s; loopback only).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRIDGE = ROOT / "services/bridge"
GATEWAY = ROOT / "services/gateway"
FAKE = BRIDGE / "tests/fake_server.py"
ROUNDS = 5


def image_bridge(work: Path) -> str:
    """The bridge laid out as in the images: the launcher and the package in one directory, run as a program."""
    home = work / "bridge"
    shutil.copytree(BRIDGE / "src/agentopia_bridge", home / "agentopia_bridge", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(BRIDGE / "image/__main__.py", home / "__main__.py")
    return str(home)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(command: list[str], env: dict[str, str], deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while subprocess.run(command, env=env, capture_output=True, check=False).returncode != 0:
        if time.monotonic() > end:
            sys.exit(f"bench: {' '.join(command)} never passed")
        time.sleep(0.2)


def cpu_ms_per_run(command: list[str], env: dict[str, str], runs: int) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _run in range(runs):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(command)} failed: {done.stdout}{done.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="check runs per command and round (default 20)")
    runs = parser.parse_args().runs
    bridge_port, gateway_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    with tempfile.TemporaryDirectory() as work:
        token = Path(work) / "token"
        token.write_text("bench-" + "0" * 32 + "\n")
        gateway_env = env | {
            "GATEWAY_LISTEN": f"127.0.0.1:{gateway_port}",
            "GATEWAY_BACKENDS": f'{{"fake": "http://127.0.0.1:{bridge_port}/mcp"}}',
            "GATEWAY_TOKEN_FILES": str(token),
        }
        bridge = subprocess.Popen(
            [sys.executable, "-m", "agentopia_bridge", "--listen", f"127.0.0.1:{bridge_port}", "--log-level",
             "WARNING", "--", sys.executable, str(FAKE)],
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        gateway = subprocess.Popen(
            [sys.executable, "-m", "agentopia_gateway"], env=gateway_env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{bridge_port}/mcp"
            # The image runs the system python3; so do the checks here, as the image would (the bridge's --check
            # through its image launcher in a directory beside a copy of the package, as in /opt/agentopia/bridge).
            pairs = {
                "server: mcp_health.sh (bash)": (
                    ["bash", str(BRIDGE / "image/mcp_health.sh"), str(bridge_port), "/mcp"], env),
                "server: bridge --check (python3)": (["python3", image_bridge(Path(work)), "--check", url], env),
                "gateway: gateway_health.sh (bash)": (["bash", str(GATEWAY / "image/gateway_health.sh")], gateway_env),
                "gateway: http_health.py (python3)": (["python3", str(GATEWAY / "image/http_health.py")], gateway_env),
            }  # fmt: skip
            for command, command_env in pairs.values():
                wait_ready(command, command_env)
            figures: dict[str, list[float]] = {name: [] for name in pairs}
            for round_number in range(ROUNDS):
                order = list(pairs) if round_number % 2 == 0 else list(reversed(pairs))
                for name in order:
                    figures[name].append(cpu_ms_per_run(*pairs[name], runs))
        finally:
            for process in (gateway, bridge):
                process.terminate()
                process.wait(10)
    load = os.getloadavg()[0]
    print(f"\nCPU of one check run, ms (median of {ROUNDS} rounds x {runs} runs; load average {load:.1f})")
    print("| check | CPU ms per run | rounds |\n|---|---|---|")
    medians = {name: statistics.median(values) for name, values in figures.items()}
    for name, values in figures.items():
        print(f"| {name} | {medians[name]:.1f} | {' / '.join(f'{v:.1f}' for v in values)} |")
    names = list(medians)
    print(f"\nPython / bash: server check {medians[names[1]] / medians[names[0]]:.1f}x, "
          f"gateway check {medians[names[3]] / medians[names[2]]:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
