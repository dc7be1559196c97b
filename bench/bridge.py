# SPDX-License-Identifier: GPL-3.0-or-later
"""Idle memory and latency of the MCP bridge (services/bridge), next to the bare server and to mcp-proxy, in one run.

For each round, mcp-server-time (in a venv of its own, as in the images) is started three ways:
  bare       over stdio, driven directly by this script
  bridge     behind the bridge laid out as in the images (launcher + package), run by the system python3
  mcp-proxy  behind PyPI mcp-proxy 0.13 (the baseline), in a venv of its own
Each gets the same work (initialize, tools/list, one tools/call), then sits idle before its
process tree's memory is read from /proc: RSS (what `ps` shows; shared pages counted in every
process) and PSS (shared pages split between processes; what the tree really costs).
Then tools/call latency through the bridge and through mcp-proxy on one keep-alive connection.
Target (issue 11): the bridged server's idle memory at most 20 MB above the bare server's.
Needs only Python and PyPI: `python3 bench/bridge.py` (venvs are cached under /tmp).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVICE = ROOT / "services/bridge"
CACHE = Path(tempfile.gettempdir()) / "agentopia-bridge-tests"  # shared with services/bridge/tests
# As /opt/agentopia/bridge in the images: image/__main__.py beside the package; `python3 <dir>` runs it.
BRIDGE = CACHE / "bridge-as-in-the-images"
TIME_SERVER, MCP_PROXY = "mcp-server-time==2026.10.19", "mcp-proxy==0.13.0"
ROUNDS, IDLE_SECONDS, CALLS = 3, 5.0, 300
MB = 1024 * 1024
ACCEPT = "application/json, text/event-stream"
CALL = {"name": "get_current_time", "arguments": {"timezone": "Europe/Paris"}}


def venv(requirement: str, binary: str) -> Path:
    """A venv holding one requirement, made once and reused (same layout as the unit tests' fixture)."""
    path = CACHE / requirement.replace("==", "-")
    if not (path / ".complete").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
        subprocess.run([str(path / "bin/pip"), "install", "-q", requirement], check=True, capture_output=True)
        (path / ".complete").touch()
    return path / "bin" / binary


def tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(p for child in children for p in tree(int(child)))]


def memory(pid: int, descendants: bool = True) -> tuple[float, float]:
    """RSS and PSS of a process (and its descendants), in MiB."""
    rss = pss = 0
    for member in tree(pid) if descendants else [pid]:
        for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss / 1024, pss / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stdio:
    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.next_id = 0

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.notify(method, params, self.next_id)
        while True:
            assert self.process.stdout is not None
            message = json.loads(self.process.stdout.readline())
            if message.get("id") == self.next_id:
                return message

    def notify(self, method: str, params: dict[str, Any] | None = None, msg_id: int | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, **({"params": params} if params else {})}
        if msg_id is not None:
            message["id"] = msg_id
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()


class Http:
    """One MCP session over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json", "Accept": ACCEPT}
        self.next_id = 0

    def post(self, message: dict[str, Any]) -> dict[str, Any] | None:
        self.conn.request("POST", "/mcp", json.dumps(message), self.headers)
        response = self.conn.getresponse()
        body = response.read().decode()
        if response.status >= 300:
            raise RuntimeError(f"HTTP {response.status}: {body[:200]}")
        if session := response.getheader("Mcp-Session-Id"):
            self.headers["Mcp-Session-Id"] = session
        if response.getheader("Content-Type", "").startswith("text/event-stream"):
            events = [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]
            return next((e for e in events if "id" in e), None)
        return json.loads(body) if body else None

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        answer = self.post({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        if answer is None or "result" not in answer:
            raise RuntimeError(f"{method}: {answer}")
        return answer

    def notify(self, method: str) -> None:
        self.post({"jsonrpc": "2.0", "method": method})


def handshake(client: Stdio | Http) -> None:
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}
    init = client.request("initialize", params)
    if isinstance(client, Http):
        client.headers["MCP-Protocol-Version"] = init["result"]["protocolVersion"]
    client.notify("notifications/initialized")
    client.request("tools/list")
    client.request("tools/call", CALL)


def wait_http(port: int, process: subprocess.Popen[Any], timeout: float = 60) -> Http:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            sys.exit(f"bench: {process.args} exited with {process.returncode}")
        try:
            client = Http(port)
            handshake(client)
            return client
        except (OSError, RuntimeError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def latency_ms(client: Http) -> tuple[float, float]:
    client.conn.close()  # uvicorn (mcp-proxy) drops connections idle for 5 s; start both on a fresh one
    for _warmup in range(20):
        client.request("tools/call", CALL)
    samples = []
    for _call in range(CALLS):
        started = time.perf_counter()
        client.request("tools/call", CALL)
        samples.append(1000 * (time.perf_counter() - started))
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def lay_out_bridge() -> None:
    shutil.rmtree(BRIDGE, ignore_errors=True)
    package = SERVICE / "src/agentopia_bridge"
    shutil.copytree(package, BRIDGE / "agentopia_bridge", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(SERVICE / "image/__main__.py", BRIDGE / "__main__.py")


def one_round(server: Path, proxy: Path, python: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    bare = Stdio([str(server)])
    try:
        handshake(bare)
        time.sleep(IDLE_SECONDS)
        figures["bare"] = memory(bare.process.pid)
    finally:
        stop(bare.process)

    for name, command in [
        ("bridge", lambda port: [python, str(BRIDGE), "--listen", f"127.0.0.1:{port}", "--", str(server)]),
        ("mcp-proxy", lambda port: [str(proxy), "--host", "127.0.0.1", "--port", str(port), str(server)]),
    ]:
        port = free_port()
        process = subprocess.Popen(command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = wait_http(port, process)
            time.sleep(IDLE_SECONDS)
            figures[name] = memory(process.pid)
            figures[f"{name} own"] = memory(process.pid, descendants=False)
            figures[f"{name} latency"] = latency_ms(client)
        finally:
            stop(process)
    return figures


def main() -> None:
    server, proxy = venv(TIME_SERVER, "mcp-server-time"), venv(MCP_PROXY, "mcp-proxy")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3") or sys.executable
    lay_out_bridge()
    rounds = [one_round(server, proxy, python) for _round in range(ROUNDS)]

    def median(key: str, index: int) -> float:
        return statistics.median(r[key][index] for r in rounds)

    bare_rss, bare_pss = median("bare", 0), median("bare", 1)
    print(f"{ROUNDS} rounds, {IDLE_SECONDS:.0f} s idle before reading memory, {CALLS} calls for latency; medians")
    print("| setup | idle RSS (MiB) | idle PSS (MiB) | PSS above bare | tools/call p50 / p99 (ms) |")
    print("|---|---|---|---|---|")
    print(f"| {TIME_SERVER} bare over stdio | {bare_rss:.1f} | {bare_pss:.1f} | | |")
    for name in ("bridge", "mcp-proxy"):
        rss, pss = median(name, 0), median(name, 1)
        p50, p99 = median(f"{name} latency", 0), median(f"{name} latency", 1)
        label = "behind the bridge" if name == "bridge" else f"behind {MCP_PROXY}"
        print(f"| {label} | {rss:.1f} | {pss:.1f} | +{pss - bare_pss:.1f} | {p50:.2f} / {p99:.2f} |")
    print("Rounds (bare / bridge / mcp-proxy PSS):", "; ".join(
        f"{r['bare'][1]:.1f} / {r['bridge'][1]:.1f} / {r['mcp-proxy'][1]:.1f}" for r in rounds
    ))  # fmt: skip
    for name in ("bridge", "mcp-proxy"):
        print(f"{name} process alone: RSS {median(f'{name} own', 0):.1f} MiB, PSS {median(f'{name} own', 1):.1f} MiB")


if __name__ == "__main__":
    main()
