# SPDX-License-Identifier: GPL-3.0-or-later
"""The MCP gateway against a direct connection and a plain FastMCP proxy, all on loopback, in one run.

Processes: one backend (the SDK's MCPServer with an `add` tool, streamable HTTP), the gateway
(`python -m agentopia_gateway`, access log on), and a plain FastMCP proxy of the same backend (fastmcp
pinned below, in its own venv that this script creates: it needs an older mcp than .venv has).
The client is a lean raw JSON-RPC-over-HTTP client (httpx2), the same for every path, so the figures
are the servers' and not the SDK client's.

Measured: tools/call latency (sequential, one session) direct, through /servers/<name>/mcp, through /mcp,
through the proxy (p50/p99 and what each adds); throughput with 32 sessions; 100 and 500 concurrent client
sessions (each initializes and makes 5 calls): errors, p99, peak RSS of the gateway / proxy process.
Targets (issue 7): added p50 <= 2 ms, added p99 <= 10 ms, zero errors at 500 sessions, gateway RSS <= 100 MB,
at least as fast as the proxy.

With --baseline REV, a second gateway runs beside the first from the source at git revision REV (with
uvloop and httptools hidden from it when --baseline-plain is given, as the gateway ran before it used them),
and the CPU per call of both is measured in alternating rounds: a before/after from one run, under the same
machine load. --cpu-only stops after that comparison.

Run: .venv/bin/python bench/gateway.py   (about 2 minutes; loopback only)
     .venv/bin/python bench/gateway.py --baseline d6f34c5 --baseline-plain
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import anyio
import httpx2

ROOT = Path(__file__).resolve().parents[1]
GATEWAY_SRC = ROOT / "services/gateway/src"
# Where the package lived before services/ (issue 19): a baseline revision that old has it there.
OLD_GATEWAY_SRC = ROOT / "roles/mcp_images/files/gateway"
FASTMCP = "fastmcp==4.1.6"
FASTMCP_VENV = Path(tempfile.gettempdir()) / "bench-fastmcp-venv"
TOKEN = "bench-token-" + "0" * 20
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
PV = "2025-11-25"
SEQUENTIAL_CALLS = 300
THROUGHPUT_SESSIONS, THROUGHPUT_CALLS = 32, 15
LOAD_CALLS = 5
# The proxy opens a backend session per call (about 5 calls/s here): 500 sessions would take 10 minutes.
PROXY_LOAD_MAX = 100


# -- processes ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def serve_backend(port: int) -> None:
    """Child mode: the backend MCP server."""
    import uvicorn
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("bench-backend", log_level="WARNING")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    app = server.streamable_http_app(host="127.0.0.1", max_sessions=100_000)
    logging.getLogger("mcp").setLevel(logging.WARNING)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=4096)


PROXY_SCRIPT = """
import sys
from fastmcp import FastMCP
from fastmcp.server import create_proxy
proxy = create_proxy(sys.argv[1], name="bench-proxy")
proxy.run(transport="http", host="127.0.0.1", port=int(sys.argv[2]), log_level="WARNING")
"""


def fastmcp_python() -> Path:
    python = FASTMCP_VENV / "bin/python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(FASTMCP_VENV)], check=True)
    ok = subprocess.run([str(python), "-c", "import fastmcp"], capture_output=True, check=False).returncode == 0
    if not ok:
        subprocess.run([str(python), "-m", "pip", "install", "-q", FASTMCP], check=True)
    return python


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def baseline_source(rev: str, workdir: Path, plain: bool) -> str:
    """PYTHONPATH for the gateway as it was at `rev`; with `plain`, uvloop and httptools cannot be imported."""
    tree = workdir / "baseline"
    tree.mkdir()
    source = GATEWAY_SRC.relative_to(ROOT)
    at_rev = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{rev}:{source}"], check=False)
    if at_rev.returncode != 0:
        source = OLD_GATEWAY_SRC.relative_to(ROOT)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, str(source)],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    paths = [str(tree / source)]
    if plain:
        hide = workdir / "hide"
        hide.mkdir()
        for module in ("uvloop", "httptools"):
            (hide / f"{module}.py").write_text(f"raise ImportError('{module} hidden: the baseline ran without it')\n")
        paths.insert(0, str(hide))
    return os.pathsep.join(paths)


def start_gateway(source: str, backend_url: str, token_file: Path, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": source,
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_BACKENDS": json.dumps({"alpha": backend_url}),
        "GATEWAY_TOKEN_FILES": str(token_file),
        "GATEWAY_RATE_LIMIT": "100000",
        "GATEWAY_LOG_LEVEL": "info",
    }
    handle = open(log, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([sys.executable, "-m", "agentopia_gateway"], env=env, stdout=handle, stderr=handle)
    wait_port(port)
    return proc, port


def compare_cpu(gateways: dict[str, tuple[subprocess.Popen, int]], rounds: int = 5) -> dict[str, float]:
    """CPU ms per call of each gateway on each endpoint, rounds alternating; the median round of each."""
    samples: dict[str, list[float]] = {}
    for _round in range(rounds):
        for label, (proc, port) in gateways.items():
            for endpoint, tool in (("/servers/alpha/mcp", "add"), ("/mcp", "alpha__add")):
                url = f"http://127.0.0.1:{port}{endpoint}"
                value = anyio.run(cpu_per_call, url, tool, True, proc.pid, 200)
                samples.setdefault(f"{label}, {endpoint}", []).append(value)
    for name, values in samples.items():
        print(name, "CPU ms per call", [round(v, 2) for v in values], flush=True)
    return {name: statistics.median(values) for name, values in samples.items()}


async def cpu_per_call(url: str, tool: str, auth: bool, pid: int, calls: int = 300) -> float:
    """CPU milliseconds the process `pid` spends per tools/call: a figure the machine's load does not skew."""
    async with http_client(auth, 4) as http:
        session = Session(http, url, tool)
        await session.open()
        for _round in range(20):
            await session.call()
        before = cpu_seconds(pid)
        for _round in range(calls):
            await session.call()
        used = cpu_seconds(pid) - before
        await session.close()
    return used / calls * 1000


class PeakRss:
    """Samples a process's RSS every 50 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# -- a lean MCP client ---------------------------------------------------------------------------------------


def _result(response: httpx2.Response) -> dict:
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:") and '"id"' in line:
                message = json.loads(line[5:])
                break
        else:
            raise RuntimeError("SSE response without a JSON-RPC response")
    else:
        message = response.json()
    if "error" in message:
        raise RuntimeError(f"JSON-RPC error {message['error']}")
    return message["result"]


class Session:
    def __init__(self, http: httpx2.AsyncClient, url: str, tool: str) -> None:
        self.http, self.url, self.tool = http, url, tool
        self.headers = dict(HEADERS)
        self.next_id = 1

    async def open(self) -> None:
        r = await self.http.post(
            self.url,
            headers=self.headers,
            json={
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {"protocolVersion": PV, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
            },
        )
        _result(r)
        sid = r.headers.get("mcp-session-id")
        if sid:
            self.headers["Mcp-Session-Id"] = sid
        self.headers["MCP-Protocol-Version"] = PV
        r = await self.http.post(
            self.url, headers=self.headers, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        if r.status_code >= 300:
            raise RuntimeError(f"initialized: HTTP {r.status_code}")

    async def call(self) -> float:
        self.next_id += 1
        body = {
            "jsonrpc": "2.0",
            "id": self.next_id,
            "method": "tools/call",
            "params": {"name": self.tool, "arguments": {"a": self.next_id, "b": 1}},
        }
        start = time.perf_counter()
        result = _result(await self.http.post(self.url, headers=self.headers, json=body))
        elapsed = time.perf_counter() - start
        if result.get("isError") or result["content"][0]["text"] != str(self.next_id + 1):
            raise RuntimeError(f"wrong answer {result}")
        return elapsed

    async def close(self) -> None:
        if "Mcp-Session-Id" in self.headers:
            await self.http.delete(self.url, headers=self.headers)


def http_client(auth: bool, connections: int) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {TOKEN}"} if auth else {}
    return httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(60.0),
        limits=httpx2.Limits(max_connections=connections, max_keepalive_connections=connections),
        trust_env=False,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def sequential(paths: dict[str, tuple[str, str, bool]]) -> dict[str, list[float]]:
    """One session per path; the paths take turns call by call, so load from elsewhere hits them alike."""
    async with http_client(True, 16) as http, http_client(False, 16) as bare:
        sessions = {name: Session(http if auth else bare, url, tool) for name, (url, tool, auth) in paths.items()}
        for session in sessions.values():
            await session.open()
            for _round in range(30):  # warm up (connections, caches)
                await session.call()
        times: dict[str, list[float]] = {name: [] for name in sessions}
        for _round in range(SEQUENTIAL_CALLS):
            for name, session in sessions.items():
                times[name].append(await session.call())
        for session in sessions.values():
            await session.close()
        return times


async def throughput(url: str, tool: str, auth: bool) -> float:
    async with http_client(auth, THROUGHPUT_SESSIONS) as http:
        sessions = [Session(http, url, tool) for _round in range(THROUGHPUT_SESSIONS)]
        for s in sessions:
            await s.open()
        start = time.perf_counter()

        async def run(s: Session) -> None:
            for _round in range(THROUGHPUT_CALLS):
                await s.call()

        async with anyio.create_task_group() as tg:
            for s in sessions:
                tg.start_soon(run, s)
        elapsed = time.perf_counter() - start
        for s in sessions:
            await s.close()
        return THROUGHPUT_SESSIONS * THROUGHPUT_CALLS / elapsed


async def load(url: str, tool: str, auth: bool, clients: int) -> dict:
    times: list[float] = []
    errors: list[str] = []
    async with http_client(auth, clients) as http:
        start = anyio.Event()

        async def one() -> None:
            session = Session(http, url, tool)
            await start.wait()
            try:
                await session.open()
                for _round in range(LOAD_CALLS):
                    times.append(await session.call())
                await session.close()
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:160])

        began = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _round in range(clients):
                tg.start_soon(one)
            await anyio.sleep(0.1)
            start.set()
        wall = time.perf_counter() - began
    return {
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "p50": pct(times, 0.5) if times else 0,
        "p99": pct(times, 0.99) if times else 0,
        "wall": wall,
    }


# -- the run -------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", metavar="REV", help="also run the gateway from this git revision (CPU per call)")
    parser.add_argument("--baseline-plain", action="store_true", help="the baseline without uvloop and httptools")
    parser.add_argument("--cpu-only", action="store_true", help="stop after the CPU-per-call comparison")
    args = parser.parse_args()
    if args.backend:
        serve_backend(args.backend)
        return

    # A SIGTERM (timeout, Ctrl-C from a wrapper) still stops the processes this run started.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(1))
    procs: list[subprocess.Popen] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    try:
        backend_port, proxy_port = free_port(), free_port()
        backend_url = f"http://127.0.0.1:{backend_port}/mcp"
        procs.append(subprocess.Popen([sys.executable, __file__, "--backend", str(backend_port)]))
        wait_port(backend_port)

        token_file = workdir / "token"
        token_file.write_text(TOKEN + "\n")
        gateway, gateway_port = start_gateway(str(GATEWAY_SRC), backend_url, token_file, workdir / "gateway.log")
        procs.append(gateway)
        report: dict = {"sequential": {}, "throughput": {}, "load": {}, "baseline": {}}
        if args.baseline:
            source = baseline_source(args.baseline, workdir, args.baseline_plain)
            baseline = start_gateway(source, backend_url, token_file, workdir / "baseline.log")
            procs.append(baseline[0])
            time.sleep(1.5)  # both gateways' pooled sessions to the backend
            label = f"baseline {args.baseline}" + (" (no uvloop/httptools)" if args.baseline_plain else "")
            report["baseline"] = compare_cpu({label: baseline, "this tree": (gateway, gateway_port)})
            baseline[0].send_signal(signal.SIGTERM)
            baseline[0].wait(10)
            if args.cpu_only:
                print("\n| gateway, endpoint | CPU ms per tools/call (median of 5 alternating rounds) |\n|---|---|")
                for name, value in report["baseline"].items():
                    print(f"| {name} | {value:.2f} |")
                return

        python = fastmcp_python()
        script = workdir / "proxy.py"
        script.write_text(PROXY_SCRIPT)
        proxy = subprocess.Popen(
            [str(python), str(script), backend_url, str(proxy_port)],
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "proxy.log", "w"),  # noqa: SIM115
        )
        procs.append(proxy)
        wait_port(proxy_port)
        time.sleep(1.5)  # the gateway's pooled session to the backend
        version = subprocess.run(
            [str(python), "-c", "import fastmcp, mcp.types as t; print(fastmcp.__version__)"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

        paths = {
            "direct": (backend_url, "add", False),
            "gateway /servers/alpha/mcp": (f"http://127.0.0.1:{gateway_port}/servers/alpha/mcp", "add", True),
            "gateway /mcp": (f"http://127.0.0.1:{gateway_port}/mcp", "alpha__add", True),
            f"FastMCP proxy {version}": (f"http://127.0.0.1:{proxy_port}/mcp", "add", False),
        }
        for name, times in anyio.run(sequential, paths).items():
            report["sequential"][name] = (pct(times, 0.5), pct(times, 0.99), statistics.mean(times) * 1000)
            print(name, report["sequential"][name], flush=True)
        backend_pid = procs[0].pid
        report["cpu"] = {
            "backend, direct call": anyio.run(cpu_per_call, backend_url, "add", False, backend_pid),
            "gateway, /servers/alpha/mcp": anyio.run(cpu_per_call, *paths["gateway /servers/alpha/mcp"], gateway.pid),
            "gateway, /mcp": anyio.run(cpu_per_call, *paths["gateway /mcp"], gateway.pid),
            "proxy": anyio.run(cpu_per_call, *paths[f"FastMCP proxy {version}"], proxy.pid, 60),
        }
        print("cpu ms per call", report["cpu"], flush=True)
        rounds: dict[str, list[float]] = {name: [] for name in paths}
        for _round in range(3):  # alternate the paths, keep each one's median round
            for name, (url, tool, auth) in paths.items():
                rounds[name].append(anyio.run(throughput, url, tool, auth))
        for name, values in rounds.items():
            report["throughput"][name] = statistics.median(values)
            print(name, "calls/s", [round(v) for v in values], flush=True)
        # "direct" shows what the backend alone does under the same load (its RSS is the backend's).
        pids = {"direct": procs[0].pid, "gateway /servers/alpha/mcp": gateway.pid, "gateway /mcp": gateway.pid}
        pids[f"FastMCP proxy {version}"] = proxy.pid
        for clients in (100, 500):
            for name, (url, tool, auth) in paths.items():
                if name.startswith("FastMCP") and clients > PROXY_LOAD_MAX:
                    continue
                with PeakRss(pids[name]) as peak:
                    result = anyio.run(load, url, tool, auth, clients)
                result["rss"] = peak.peak
                report["load"][(name, clients)] = result
                print(clients, name, result, flush=True)
        report["idle_rss"] = rss_mb(gateway.pid)
        print_markdown(report)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def print_markdown(report: dict) -> None:
    d50, d99, _mean = report["sequential"]["direct"]
    print("\n| path | p50 ms | p99 ms | added p50 | added p99 | calls/s (32 sessions) |")
    print("|---|---|---|---|---|---|")
    for name, (p50, p99, _mean) in report["sequential"].items():
        added = "" if name == "direct" else f"{p50 - d50:+.2f} | {p99 - d99:+.2f}"
        added = added or " | "
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {added} | {report['throughput'][name]:.0f} |")
    print("\n| path | sessions | errors | p50 ms | p99 ms | wall s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for (name, clients), r in report["load"].items():
        row = [name, clients, r["errors"], f"{r['p50']:.1f}", f"{r['p99']:.1f}", f"{r['wall']:.1f}", f"{r['rss']:.0f}"]
        print("| " + " | ".join(map(str, row)) + " |")
        if r["first_error"]:
            print(f"|   first error: {r['first_error']} |")
    print("\n| process, path | CPU ms per tools/call |\n|---|---|")
    for name, value in report["cpu"].items():
        print(f"| {name} | {value:.2f} |")
    print(f"\nGateway RSS after the run: {report['idle_rss']:.0f} MB")
    if report["baseline"]:
        print("\n| gateway, endpoint | CPU ms per tools/call (median of 5 alternating rounds) |\n|---|---|")
        for name, value in report["baseline"].items():
            print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
