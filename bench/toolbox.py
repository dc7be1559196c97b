# SPDX-License-Identifier: GPL-3.0-or-later
"""Deploy-to-healthy and idle memory of the demo toolbox, next to bare servers and to mcp-proxy, in one run.

Setup, not timed: a one-node bench lab (a per-user host, its own single-node swarm) and `playbooks/site.yml`, which
builds every image on the node and deploys the lab inventory's demo toolbox (files, git, clock, memory, db).
Then ROUNDS times:
  deploy     remove the toolbox (volumes kept), then time `playbooks/toolboxes.yml`, which returns once every
             service is healthy; from the engine's events in that window, each container's start -> first
             `healthy`, and the playbook's start -> the last service healthy.
  alone      then each service scaled 0 -> 1 by itself while the rest idles: its own start -> healthy, without
             the other services' starts competing for the node's cores as they do in a whole deploy.
After the last round and IDLE seconds of rest, every container's memory as the engine's stats report it, and each
server image run two more ways on the same node, after the same MCP handshake (initialize, tools/list):
  bare       the server alone over stdio (`docker run -i`, driven through ssh)
  mcp-proxy  PyPI mcp-proxy as the bridge instead of ours (services/bridge) (its packages mounted read-only)
Targets (issue 11): every server healthy within 15 s; each within 3 s of its start; a container's idle memory at
most 20 MB above the bare server's; none near its 256 MiB limit.
`python bench/toolbox.py [--reuse] [--memory-only]`; --reuse keeps a bench lab on which site.yml already ran,
--memory-only skips the deploy rounds and reads the memory of the toolbox as it runs.
"""

from __future__ import annotations

import json
import re
import shlex
import statistics
import subprocess
import sys
import time

from benchlab import INVENTORY, fresh_lab, playbook, run, ssh, ssh_output, timed
from bridge import MCP_PROXY, venv

TOOLBOX = "demo"
ROUNDS, IDLE = 5, 30
# db's server needs its database next to it, so it is in the deploy figures only.
COMPARED = ("files", "git", "clock", "memory")
PROXY_DIR = "/opt/bench-mcp-proxy"
PREFIX = "bench-tb"
UNITS = {"B": 1 / 2**20, "KiB": 1 / 2**10, "kB": 1 / 2**10, "MiB": 1.0, "MB": 1.0, "GiB": 2**10, "GB": 2**10}
HANDSHAKE = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]  # fmt: skip
# Run inside an mcp-proxy container: the same handshake over streamable HTTP, retried until the proxy listens.
HTTP_HANDSHAKE = """
import json, sys, time, urllib.request
messages, headers, deadline = json.loads(sys.argv[1]), {"Content-Type": "application/json",
    "Accept": "application/json, text/event-stream"}, time.monotonic() + 60
for message in messages:
    while True:
        try:
            request = urllib.request.Request("http://127.0.0.1:8000/mcp", json.dumps(message).encode(), headers)
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                headers["Mcp-Session-Id"] = response.headers.get("Mcp-Session-Id") or headers.get("Mcp-Session-Id", "")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
"""


# mcp-proxy's packages come first on its own sys.path only: a PYTHONPATH would reach the server it starts
# (--pass-environment) and shadow the server's own mcp 2.x with mcp-proxy's mcp 1.x.
RUN_MCP_PROXY = (
    f"import runpy, sys; sys.path.insert(0, {PROXY_DIR!r}); runpy.run_module('mcp_proxy', run_name='__main__')"
)


def node_address() -> str:
    return re.findall(r"ansible_host: (\S+)", INVENTORY.read_text())[0]


def mebibytes(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)\s*([A-Za-z]+)", text.strip()).groups()
    return float(number) * UNITS[unit]


def memory_by_name(node: str, names: list[str] | None = None) -> dict[str, tuple[float, float]]:
    """Container name -> (usage, limit) in MiB, from `docker stats` (the engine's own figure)."""
    out = ssh_output(node, "docker stats --no-stream --format '{{.Name}}\t{{.MemUsage}}' " + " ".join(names or []))
    figures = {}
    for line in out.splitlines():
        name, usage = line.split("\t")
        used, limit = usage.split("/")
        figures[name] = (mebibytes(used), mebibytes(limit))
    return figures


def image_refs(node: str) -> str:
    """The images site.yml built on the node, as the toolbox role's toolbox_images (extra vars JSON)."""
    names = ssh_output(node, "docker image ls --format '{{.Repository}}:{{.Tag}}' 'agentopia/*'").split()
    repositories = {name.split("/")[1].split(":")[0]: name for name in names}
    refs = {repo.removeprefix("mcp-"): name for repo, name in repositories.items() if repo.startswith("mcp-")}
    refs.update(gateway=repositories["gateway"], postgresql=repositories["postgres"])
    return json.dumps({"toolbox_images": refs})


def start_to_healthy(node: str, since: float, until: float) -> tuple[dict[str, float], dict[str, float]]:
    """Each toolbox service's first container start and first `healthy` in the window, from the engine's events."""
    out = ssh_output(
        node,
        f"docker events --since {int(since)} --until {int(until) + 1} --filter type=container "
        "--filter event=start --filter event=health_status --format '{{json .}}'",
    )
    started: dict[str, float] = {}
    healthy: dict[str, float] = {}
    for event in map(json.loads, out.splitlines()):
        when = event["timeNano"] / 1e9
        service = event["Actor"]["Attributes"].get("com.docker.swarm.service.name", "")
        if when < since or not service.startswith(f"{TOOLBOX}_"):
            continue
        if event["Action"] == "start":
            started.setdefault(service, when)
        elif event["Action"] == "health_status: healthy" and service in started:
            healthy.setdefault(service, when)
    if set(healthy) != set(started):
        sys.exit(f"bench: services started but never healthy in the window: {sorted(set(started) - set(healthy))}")
    return started, healthy


def deploy_round(node: str, images: str) -> dict[str, float]:
    run(*playbook("toolboxes.yml", "-e", "toolbox_state=absent"))
    start = time.time()
    seconds = timed(*playbook("toolboxes.yml", "-e", images))[0]
    started, healthy = start_to_healthy(node, start, time.time())
    figures = {"playbook": seconds, "all healthy": max(healthy.values()) - start}
    figures.update({service: healthy[service] - started[service] for service in healthy})
    return figures


def solo_round(node: str) -> dict[str, float]:
    """Each service started alone (scaled 0 -> 1) while the rest of the toolbox idles: its own start -> healthy,
    without the other services' starts competing for the node's CPU as in a whole deploy."""
    services = ssh_output(node, f"docker stack services {TOOLBOX} --format '{{{{.Name}}}}'")
    figures = {}
    for service in sorted(services.split()):
        tasks = f"docker ps -q --filter label=com.docker.swarm.service.name={service}"
        ssh_output(node, f"docker service scale --detach {service}=0 >/dev/null")
        ssh_output(node, f'until [ -z "$({tasks})" ]; do sleep 0.2; done')
        start = time.time()
        ssh_output(node, f"docker service scale --detach {service}=1 >/dev/null")
        ssh_output(
            node,
            f"for i in $(seq 300); do {tasks} --filter health=healthy | grep -q . && exit 0; sleep 0.2; done; exit 1",
        )
        started, healthy = start_to_healthy(node, start, time.time())
        figures[service] = healthy[service] - started[service]
    return figures


def inspect(node: str, what: str, name: str, template: str):
    return json.loads(ssh_output(node, f"docker {what} inspect {name} -f '{{{{json {template}}}}}'"))


def server_command(node: str, service: str) -> tuple[str, list[str], dict]:
    """The service's image, the server command inside it (after the bridge's `--`) and its container spec."""
    spec = inspect(node, "service", service, ".Spec.TaskTemplate.ContainerSpec")
    image = spec["Image"]
    entrypoint = inspect(node, "image", image, ".Config.Entrypoint")
    server = entrypoint[len(entrypoint) - entrypoint[::-1].index("--") :]
    args = spec.get("Args") or inspect(node, "image", image, ".Config.Cmd") or []
    return image, server + list(args), spec


def run_options(spec: dict) -> str:
    """Hardened like the service, with its volumes as tmpfs owned by the server's user."""
    targets = [m["Target"] for m in spec.get("Mounts", []) if m.get("Type") != "tmpfs"]
    envs = " ".join(f"-e {json.dumps(e)}" for e in spec.get("Env", []) if "_FILE=" not in e)
    return " ".join(
        ["--user 10001:10001 --read-only --cap-drop ALL --tmpfs /tmp", envs]
        + [f"--tmpfs {target}:uid=10001,gid=10001" for target in targets]
    )


def cleanup(node: str) -> None:
    ssh_output(node, f"docker rm -f $(docker ps -aq --filter name=^{PREFIX}-) >/dev/null 2>&1 || true")


def bare_and_proxied(node: str) -> dict[str, dict[str, float]]:
    """Idle memory (MiB) of each compared server bare over stdio and behind mcp-proxy, all on the node at once."""
    servers = {name: server_command(node, f"{TOOLBOX}_{name}") for name in COMPARED}
    site_packages = next(venv(MCP_PROXY, "mcp-proxy").parent.parent.glob("lib/python3*/site-packages"))
    unpack = shlex.join(ssh(node, f"mkdir -p {PROXY_DIR} && tar -C {PROXY_DIR} -xf -"))
    subprocess.run(f"tar -C {site_packages} -cf - . | {unpack}", shell=True, check=True)
    bare = {}
    for name, (image, command, spec) in servers.items():
        line = (
            f"docker run -i --rm --name {PREFIX}-bare-{name} {run_options(spec)} "
            f"--entrypoint {command[0]} {image} {' '.join(command[1:])}"
        )
        process = subprocess.Popen(ssh(node, line), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for message in HANDSHAKE:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
            while "id" in message and json.loads(process.stdout.readline()).get("id") != message["id"]:
                pass
        bare[name] = process
        ssh_output(
            node,
            f"docker run -d --name {PREFIX}-proxy-{name} {run_options(spec)} -v {PROXY_DIR}:{PROXY_DIR}:ro "
            f"--entrypoint python3 {image} -c {shlex.quote(RUN_MCP_PROXY)} --host 127.0.0.1 --port 8000 "
            f"--pass-environment -- {' '.join(command)}",
        )
        ssh_output(node, f"docker exec {PREFIX}-proxy-{name} python3 -c '{HTTP_HANDSHAKE}' '{json.dumps(HANDSHAKE)}'")
    time.sleep(IDLE)
    names = [f"{PREFIX}-{way}-{name}" for way in ("bare", "proxy") for name in COMPARED]
    stats = memory_by_name(node, names)
    for process in bare.values():
        process.stdin.close()
        process.wait(30)
    return {name: {way: stats[f"{PREFIX}-{way}-{name}"][0] for way in ("bare", "proxy")} for name in COMPARED}


def main() -> None:
    if not ("--reuse" in sys.argv and INVENTORY.exists()):
        print("bench: setting up a one-node lab with playbooks/site.yml (not timed; about 15 min)", flush=True)
        fresh_lab(1)
        run(*playbook("site.yml"))
    node = node_address()
    cleanup(node)
    rounds = []
    images = image_refs(node)
    for number in range(1, 0 if "--memory-only" in sys.argv else ROUNDS + 1):
        rounds.append(deploy_round(node, images))
        print(f"round {number}: " + ", ".join(f"{k} {v:.1f}s" for k, v in rounds[-1].items()), flush=True)
    solos = []
    for number in range(1, 0 if "--memory-only" in sys.argv else ROUNDS + 1):
        solos.append(solo_round(node))
        print(f"solo round {number}: " + ", ".join(f"{k} {v:.1f}s" for k, v in solos[-1].items()), flush=True)
    time.sleep(IDLE)
    containers = {
        name.split(".")[0]: figures for name, figures in memory_by_name(node).items() if name.startswith(f"{TOOLBOX}_")
    }
    try:
        compared = bare_and_proxied(node)
    finally:
        cleanup(node)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    if rounds:
        services = sorted(k for k in rounds[0] if k.startswith(f"{TOOLBOX}_"))
        print(f"\n{len(rounds)} rounds on one node, images present; medians")
        print("| figure | seconds | target |\n|---|---|---|")
        print(f"| `toolboxes.yml` until it returns (validate, deploy, wait healthy) | {median('playbook'):.1f} | |")
        print(f"| playbook start -> last service healthy (engine events) | {median('all healthy'):.1f} | <= 15 s |")
        print("| service: container start -> healthy, median (worst) | in the whole deploy | started alone | target |")
        print("|---|---|---|---|")
        for service in services:
            deploy, alone = [r[service] for r in rounds], [solo[service] for solo in solos]
            print(
                f"| {service} | {statistics.median(deploy):.1f} ({max(deploy):.1f}) "
                f"| {statistics.median(alone):.1f} ({max(alone):.1f}) | <= 3 s |"
            )
        print("Rounds (all healthy):", " / ".join(f"{r['all healthy']:.1f}" for r in rounds), "s")
    print(f"\nIdle memory after {IDLE} s, `docker stats` (MiB)")
    print("| service | container (bridge) | limit | bare over stdio | behind mcp-proxy | bridge above bare |")
    print("|---|---|---|---|---|---|")
    for service, (used, limit) in sorted(containers.items()):
        name = service.removeprefix(f"{TOOLBOX}_")
        if name in compared:
            bare, proxy = compared[name]["bare"], compared[name]["proxy"]
            print(f"| {service} | {used:.1f} | {limit:.0f} | {bare:.1f} | {proxy:.1f} | +{used - bare:.1f} |")
        else:
            print(f"| {service} | {used:.1f} | {limit:.0f} | | | |")


if __name__ == "__main__":
    main()
