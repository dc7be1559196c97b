# SPDX-License-Identifier: GPL-3.0-or-later
"""One node's monitoring services, measured on this machine's engine, as the role runs them.

Starts the read-only Docker API proxy, the container exporter and node-exporter as hardened containers from the
role's images (read-only root, no capabilities, uid 10001 except the proxy, the role's mounts), and 50 tiny
containers (sleep, from the base image, 16 MiB limit, default bridge). Then:
  scrape      60 scrapes of the container exporter one after another, after one warm-up: p50 / p99 latency seen by
              the client, and the exporter's own collect time
  idle        RSS of each service, and its CPU over 60 s with one scrape every 15 s (Prometheus' interval)
Targets (issue 12): a scrape with 50 containers under 100 ms; exporters together under 5% of one core and 80 MB.
Everything it starts is named obs-bench-* and removed at the end. Needs the images (the exporters role built them).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

PREFIX = "obs-bench"
VOLUME = f"{PREFIX}-api"
BASE = "agentopia/base:0.1.0"
EXPORTER = "agentopia/container-exporter:0.1.0"
NODE = "agentopia/node-exporter:0.1.0"
CONTAINERS = 50
SCRAPES = 60
HARDENED = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
MiB = 1024 * 1024


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout.strip()


def cleanup() -> None:
    names = docker("ps", "-aq", "--filter", f"name=^{PREFIX}-")
    if names:
        subprocess.run(["docker", "rm", "-f", *names.split()], check=False, capture_output=True)
    subprocess.run(["docker", "volume", "rm", "-f", VOLUME], check=False, capture_output=True)


def start_services() -> tuple[str, str]:
    docker("volume", "create", VOLUME)
    docker("run", "-d", "--name", f"{PREFIX}-proxy", *HARDENED, "--user", "0:0", "--memory", "32m",
           "-v", "/var/run/docker.sock:/var/run/docker.sock:ro", "-v", f"{VOLUME}:/run/container-exporter",
           "-e", "APIPROXY_LISTEN=/run/container-exporter/docker.sock", EXPORTER, "--api-proxy")  # fmt: skip
    docker("run", "-d", "--name", f"{PREFIX}-exporter", *HARDENED, "--user", "10001:10001", "--memory", "64m",
           "-v", "/sys/fs/cgroup:/host/cgroup:ro", "-v", "/proc:/host/proc:ro",
           "-v", f"{VOLUME}:/run/container-exporter:ro", "-p", "127.0.0.1::9338", EXPORTER)  # fmt: skip
    docker("run", "-d", "--name", f"{PREFIX}-node", *HARDENED, "--user", "10001:10001", "--memory", "48m",
           "-v", "/proc:/host/proc:ro", "-v", "/sys:/host/sys:ro", "-v", "/:/host/root:ro",
           "-p", "127.0.0.1::9100", NODE, "--path.procfs=/host/proc", "--path.sysfs=/host/sys",
           "--path.rootfs=/host/root", "--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
           "--collector.filesystem", "--collector.loadavg", "--collector.diskstats", "--collector.stat",
           "--collector.vmstat", "--collector.pressure", "--collector.uname", "--collector.time",
           "--collector.os")  # fmt: skip
    exporter_port = docker("port", f"{PREFIX}-exporter", "9338").rsplit(":", 1)[1]
    node_port = docker("port", f"{PREFIX}-node", "9100").rsplit(":", 1)[1]
    return f"http://127.0.0.1:{exporter_port}/metrics", f"http://127.0.0.1:{node_port}/metrics"


def scrape(url: str) -> tuple[float, str]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode()
    return time.perf_counter() - start, body


def wait_for(url: str) -> str:
    for _attempt in range(100):
        try:
            return scrape(url)[1]
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered: {docker('logs', f'{PREFIX}-exporter')}")


def cgroup_dir(name: str, controller: str) -> str:
    return f"/sys/fs/cgroup/{controller}/docker/{docker('inspect', '-f', '{{.Id}}', name)}"


def cpu_seconds(name: str) -> float:
    with open(cgroup_dir(name, "cpuacct") + "/cpuacct.usage") as handle:
        return int(handle.read()) / 1e9


def rss(name: str) -> int:
    """Resident memory of the container's processes (cgroup total_rss; page cache not counted)."""
    with open(cgroup_dir(name, "memory") + "/memory.stat") as handle:
        stat = dict(line.split() for line in handle)
    return int(stat["total_rss"])


def engine_list_seconds() -> float:
    """The engine's own answer time for the exporter's one API call, straight from its socket."""
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect("/var/run/docker.sock")
        sock.sendall(b"GET /containers/json?all=1 HTTP/1.0\r\nHost: docker\r\n\r\n")
        while sock.recv(65536):
            pass
    return time.perf_counter() - start


def own_collect_seconds(body: str) -> float:
    for line in body.splitlines():
        if line.startswith("container_exporter_scrape_duration_seconds "):
            return float(line.split()[1])
    raise ValueError("no container_exporter_scrape_duration_seconds in the scrape")


def main() -> None:
    cleanup()
    try:
        for i in range(CONTAINERS):
            docker("run", "-d", "--name", f"{PREFIX}-{i:02d}", "--memory", "16m", BASE, "sleep", "infinity")
        exporter_url, node_url = start_services()
        body = wait_for(exporter_url)
        wait_for(node_url)
        measured = sum(1 for line in body.splitlines() if line.startswith("container_memory_usage_bytes{"))
        latencies, collects, sizes = [], [], []
        cpu_before = {name: cpu_seconds(name) for name in (f"{PREFIX}-exporter", f"{PREFIX}-proxy")}
        load_before = os.getloadavg()[0]
        for _scrape in range(SCRAPES):
            seconds, body = scrape(exporter_url)
            latencies.append(seconds)
            collects.append(own_collect_seconds(body))
            sizes.append(len(body))
        cpu_per_scrape = {name: (cpu_seconds(name) - cpu_before[name]) / SCRAPES for name in cpu_before}
        load = (load_before + os.getloadavg()[0]) / 2
        engine_list = [engine_list_seconds() for _call in range(20)]
        node_seconds = [scrape(node_url)[0] for _call in range(20)]
        services = [f"{PREFIX}-exporter", f"{PREFIX}-proxy", f"{PREFIX}-node"]
        time.sleep(5)
        before = {name: cpu_seconds(name) for name in services}
        start = time.monotonic()
        while time.monotonic() - start < 60:
            scrape(exporter_url)
            scrape(node_url)
            time.sleep(15 - (time.monotonic() - start) % 15)
        elapsed = time.monotonic() - start
        cpu = {name: (cpu_seconds(name) - before[name]) / elapsed for name in services}
        memory = {name: rss(name) for name in services}
        quiet_before = {name: cpu_seconds(name) for name in services}
        time.sleep(30)
        quiet = {name: (cpu_seconds(name) - quiet_before[name]) / 30 for name in services}
    finally:
        cleanup()

    q = statistics.quantiles(latencies, n=100)
    c = statistics.quantiles(collects, n=100)
    print(f"containers on the engine measured by the exporter: {measured} ({CONTAINERS} bench containers)")
    print("| figure | value | target |\n|---|---|---|")
    print(f"| container exporter scrape, {measured} containers, p50 / p99 (client) | "
          f"{statistics.median(latencies) * 1000:.1f} / {q[98] * 1000:.1f} ms | < 100 ms |")  # fmt: skip
    print(f"| its own collect time p50 / p99 | {statistics.median(collects) * 1000:.1f} / {c[98] * 1000:.1f} ms | |")
    exporter_cpu, proxy_cpu = cpu_per_scrape[f"{PREFIX}-exporter"], cpu_per_scrape[f"{PREFIX}-proxy"]
    print(f"| CPU time per scrape: exporter / proxy | {exporter_cpu * 1000:.1f} / {proxy_cpu * 1000:.1f} ms | |")
    print(f"| engine's own GET /containers/json?all=1, p50 | {statistics.median(engine_list) * 1000:.1f} ms | |")
    print(f"| machine load average during the scrapes (2 cores) | {load:.1f} | |")
    print(f"| scrape size | {statistics.median(sizes) / 1024:.0f} KiB | |")
    print(f"| node-exporter scrape p50 | {statistics.median(node_seconds) * 1000:.1f} ms | |")
    for name in services:
        label = name.removeprefix(PREFIX + "-")
        print(f"| {label}: RSS / CPU at a 15 s scrape interval / CPU with no scrape | {memory[name] / MiB:.1f} MiB / "
              f"{cpu[name] * 100:.2f}% / {quiet[name] * 100:.2f}% of a core | |")  # fmt: skip
    total_cpu, total_mem = sum(cpu.values()), sum(memory.values())
    print(f"| the three together | {total_mem / MiB:.1f} MiB, {total_cpu * 100:.2f}% of a core | < 80 MB, < 5% |")


if __name__ == "__main__":
    sys.exit(main())
