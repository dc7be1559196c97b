# SPDX-License-Identifier: GPL-3.0-or-later
"""The MCP images, built by the roles on this machine's engine and run the way a toolbox runs them.

    AGENTOPIA_IMAGES=1 .venv/bin/pytest tests/integration/test_mcp_images.py

Builds the base, its Debian 13 variant and every mcp_images image with the roles themselves
(agentopia.toolbox.base_image, agentopia.toolbox.mcp_images) against localhost, twice: the second
run must change nothing. Then, for every image: agentopia.toolbox.image_audit passes; it runs with
a read-only root filesystem, all capabilities dropped, no-new-privileges and a tmpfs /tmp as uid
10001; its HEALTHCHECK turns healthy; and the official MCP SDK lists its tools through the bridge
(or the gateway) on a published loopback port. Minutes when cold, about two when the images exist.
Set AGENTOPIA_IMAGES_REPORT=<file> to keep the measured times to healthy as JSON.
Containers, volumes and the network it makes are named images-test-* and removed afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("AGENTOPIA_IMAGES") != "1",
        reason="builds every MCP image (minutes): set AGENTOPIA_IMAGES=1 to run",
    ),
]

docker = pytest.importorskip("docker")

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "images-test"
HEALTHY_TIMEOUT_SECONDS = 90
# One tool each server is known to offer, so an empty or wrong listing fails.
EXPECTED_TOOL = {
    "filesystem": "list_directory",
    "git": "git_status",
    "fetch": "fetch",
    "time": "get_current_time",
    "memory": "read_graph",
    "everything": "echo",
    "postgres": "execute_sql",
}
PLAYBOOK = """
- name: Build the base images and the MCP images on this engine
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Base image
      ansible.builtin.include_role:
        name: agentopia.toolbox.base_image
    - name: MCP images
      ansible.builtin.include_role:
        name: agentopia.toolbox.mcp_images
    - name: Keep the references for the tests
      ansible.builtin.copy:
        content: "{{ mcp_images_refs | to_json }}"
        dest: "{{ refs_file }}"
        mode: "0644"
      changed_when: false  # test scaffolding: only the roles' tasks count for idempotence
"""
TIMES: dict[str, float] = {}


def ansible(args: list[str], extra: dict) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    extra = {"ansible_python_interpreter": sys.executable, **extra}
    # Build stages trust what this controller trusts (a TLS-intercepting proxy's CA, say).
    if os.environ.get("SSL_CERT_FILE"):
        extra["mcp_images_build_ca_file"] = os.environ["SSL_CERT_FILE"]
    return subprocess.run(
        [*args, "-i", "localhost,", "-e", json.dumps(extra)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )


def recap_changed(output: str) -> int:
    match = re.search(r"localhost\s+:\s+ok=\d+\s+changed=(\d+)", output)
    assert match, output[-3000:]
    return int(match.group(1))


@pytest.fixture(scope="module")
def refs(tmp_path_factory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("images")
    playbook = work / "images.yml"
    playbook.write_text(PLAYBOOK)
    extra = {"refs_file": str(work / "refs.json")}
    playbook_cmd = [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook)]
    first = ansible(playbook_cmd, extra)
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-2000:]
    again = ansible(playbook_cmd, extra)
    assert again.returncode == 0, again.stdout[-6000:] + again.stderr[-2000:]
    assert recap_changed(again.stdout) == 0, "a rerun with the same inputs changed something:\n" + again.stdout[-6000:]
    return json.loads((work / "refs.json").read_text())


@pytest.fixture(scope="module")
def client():
    return docker.from_env()


@pytest.fixture(scope="module")
def network(client):
    net = client.networks.create(f"{PREFIX}-{uuid.uuid4().hex[:6]}", driver="bridge")
    yield net
    net.remove()


@pytest.fixture
def cleanup(client):
    """Containers and volumes a test made, removed even when it fails."""
    made: dict[str, list] = {"containers": [], "volumes": []}
    yield made
    for container in made["containers"]:
        container.remove(force=True)
    for volume in made["volumes"]:
        client.volumes.get(volume).remove(force=True)


def secret_file(tmp_path: Path, name: str, value: str) -> str:
    path = tmp_path / name
    path.write_text(value + "\n")
    path.chmod(0o444)
    return str(path)


def run_hardened(client, cleanup, image: str, name: str, port: int | None = 8000, **kwargs):
    """Start image as a toolbox service runs it: read-only, no capabilities, no-new-privileges, tmpfs /tmp."""
    container = client.containers.run(
        image,
        detach=True,
        name=f"{PREFIX}-{name}-{uuid.uuid4().hex[:6]}",
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        tmpfs={"/tmp": "rw,nosuid,nodev,size=64m"},
        ports={f"{port}/tcp": ("127.0.0.1", None)} if port else {},
        **kwargs,
    )
    cleanup["containers"].append(container)
    return container


def wait_healthy(container, started: float) -> float:
    """Seconds from `docker run` until the HEALTHCHECK reports healthy; fails with the logs otherwise."""
    deadline = started + HEALTHY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        status = (state.get("Health") or {}).get("Status")
        if status == "healthy":
            return time.monotonic() - started
        if status == "unhealthy" or state["Status"] == "exited":
            break
        time.sleep(0.1)
    health = (container.attrs["State"].get("Health") or {}).get("Log", [])[-2:]
    logs = container.logs(tail=30).decode(errors="replace")
    pytest.fail(f"{container.name} is not healthy ({container.attrs['State']}):\n{health}\n{logs}")


def published(container, port: int = 8000) -> str:
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]
    return f"http://127.0.0.1:{binding['HostPort']}"


async def mcp_session(url: str, work, token: str | None = None):
    import httpx2 as httpx
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as session,
    ):
        return await work(session)


async def tool_names(session) -> list[str]:
    return sorted(tool.name for tool in (await session.list_tools()).tools)


def text_of(result) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


def check_hardened(container) -> None:
    config = container.attrs["Config"]
    host = container.attrs["HostConfig"]
    assert config["User"] == "10001:10001"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert container.exec_run(["id", "-u"]).output.decode().strip() == "10001"


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    if os.environ.get("AGENTOPIA_IMAGES_REPORT") and TIMES:
        Path(os.environ["AGENTOPIA_IMAGES_REPORT"]).write_text(json.dumps(TIMES, indent=1, sort_keys=True) + "\n")


@pytest.mark.parametrize("key", [*EXPECTED_TOOL, "postgresql", "gateway"])
def test_image_passes_the_audit(refs, key):
    # The role's own ceilings, so the test and the role cannot drift apart.
    ceiling = yaml.safe_load((ROOT / "roles/mcp_images/defaults/main.yml").read_text())["mcp_images_max_size_mb"][key]
    args = json.dumps({"image": refs[key], "max_size_mb": ceiling})
    adhoc = str(Path(sys.executable).parent / "ansible")
    result = ansible([adhoc, "localhost", "-c", "local", "-m", "agentopia.toolbox.image_audit", "-a", args], {})
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r'"?failed_rules"?: \[\]', result.stdout), result.stdout[-3000:]


@pytest.mark.parametrize("kind", ["filesystem", "git", "fetch", "time", "everything"])
def test_server_runs_hardened_and_lists_tools(client, cleanup, refs, kind):
    started = time.monotonic()
    container = run_hardened(client, cleanup, refs[kind], kind)
    TIMES[kind] = round(wait_healthy(container, started), 2)
    check_hardened(container)
    tools = asyncio.run(mcp_session(f"{published(container)}/mcp", tool_names))
    assert EXPECTED_TOOL[kind] in tools, tools


def test_memory_keeps_what_it_is_told_on_its_volume(client, cleanup, refs):
    volume = f"{PREFIX}-memory-{uuid.uuid4().hex[:6]}"
    cleanup["volumes"].append(volume)
    started = time.monotonic()
    container = run_hardened(client, cleanup, refs["memory"], "memory", volumes={volume: {"bind": "/data"}})
    TIMES["memory"] = round(wait_healthy(container, started), 2)
    check_hardened(container)
    entity = {"name": "images-test", "entityType": "test", "observations": ["written through the bridge"]}

    async def round_trip(session):
        tools = await tool_names(session)
        await session.call_tool("create_entities", {"entities": [entity]})
        return tools, text_of(await session.call_tool("read_graph", {}))

    tools, graph = asyncio.run(mcp_session(f"{published(container)}/mcp", round_trip))
    assert EXPECTED_TOOL["memory"] in tools
    assert "written through the bridge" in graph


@pytest.fixture
def database(client, cleanup, network, refs, tmp_path):
    """agentopia/postgres, hardened, data on a fresh volume; yields its name on the network and the password."""
    password = uuid.uuid4().hex
    volume = f"{PREFIX}-pgdata-{uuid.uuid4().hex[:6]}"
    cleanup["volumes"].append(volume)
    started = time.monotonic()
    server = run_hardened(
        client,
        cleanup,
        refs["postgresql"],
        "postgresql",
        port=None,
        network=network.name,
        environment={"POSTGRES_PASSWORD_FILE": "/run/secrets/pg_password", "POSTGRES_DB": "app"},
        volumes={
            volume: {"bind": "/var/lib/postgresql/data"},
            secret_file(tmp_path, "pg_password", password): {"bind": "/run/secrets/pg_password", "mode": "ro"},
        },
    )
    TIMES["postgresql"] = round(wait_healthy(server, started), 2)
    check_hardened(server)
    server.reload()
    return server.name, password


def test_postgres_server_reads_and_refuses_writes(client, cleanup, network, refs, database, tmp_path):
    host, password = database
    uri = secret_file(tmp_path, "db_uri", f"postgresql://postgres:{password}@{host}:5432/app")
    started = time.monotonic()
    container = run_hardened(
        client,
        cleanup,
        refs["postgres"],
        "postgres",
        network=network.name,
        environment={"DATABASE_URI_FILE": "/run/secrets/db_uri"},
        volumes={uri: {"bind": "/run/secrets/db_uri", "mode": "ro"}},
    )
    TIMES["postgres"] = round(wait_healthy(container, started), 2)
    check_hardened(container)

    async def queries(session):
        tools = await tool_names(session)
        read = await session.call_tool("execute_sql", {"sql": "SELECT 40 + 2 AS answer"})
        write = await session.call_tool("execute_sql", {"sql": "CREATE TABLE images_test (i int)"})
        return tools, read, write

    tools, read, write = asyncio.run(mcp_session(f"{published(container)}/mcp", queries))
    assert EXPECTED_TOOL["postgres"] in tools
    assert "42" in text_of(read) and not read.is_error, text_of(read)
    # Restricted mode answers a write with an error text (not always flagged is_error).
    assert write.is_error or "error" in text_of(write).lower(), text_of(write)


def test_gateway_runs_hardened_and_lists_a_backends_tools(client, cleanup, network, refs, tmp_path):
    backend = run_hardened(client, cleanup, refs["time"], "gw-time", port=None, network=network.name)
    wait_healthy(backend, time.monotonic())
    backend.reload()
    token = uuid.uuid4().hex
    started = time.monotonic()
    gateway = run_hardened(
        client,
        cleanup,
        refs["gateway"],
        "gateway",
        port=8811,
        network=network.name,
        environment={
            "GATEWAY_BACKENDS": json.dumps({"clock": {"url": f"http://{backend.name}:8000/mcp", "timeout": 30}}),
            "GATEWAY_TOKEN_FILES": "/run/secrets/token",
        },
        volumes={secret_file(tmp_path, "token", token): {"bind": "/run/secrets/token", "mode": "ro"}},
    )
    TIMES["gateway"] = round(wait_healthy(gateway, started), 2)
    check_hardened(gateway)
    tools = asyncio.run(mcp_session(f"{published(gateway, 8811)}/mcp", tool_names, token=token))
    assert "clock__get_current_time" in tools, tools
