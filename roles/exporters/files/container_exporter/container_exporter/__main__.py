# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m container_exporter            serve /metrics (settings: CONTAINER_EXPORTER_* environment variables)
python -m container_exporter --check URL   exit 0 when URL answers 200 (the image's HEALTHCHECK)
python -m container_exporter --api-proxy   the read-only Docker API proxy (container_exporter.apiproxy)
python -m container_exporter --check-socket PATH   exit 0 when a container list through the proxy socket PATH works
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import urllib.request

from prometheus_client import CollectorRegistry, start_http_server

from . import apiproxy
from .collector import ContainerCollector
from .config import ConfigError, from_env
from .docker_api import DockerClient, DockerError


def check(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            ok = response.status == 200
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}")
        return 1
    print("healthy" if ok else f"unhealthy: {url} answered {response.status}")
    return 0 if ok else 1


def check_socket(path: str) -> int:
    client = DockerClient(path, 5)
    try:
        client._get("/containers/json?limit=1")
    except (DockerError, ValueError) as exc:
        print(f"unhealthy: {exc}")
        return 1
    finally:
        client.close()
    print("healthy")
    return 0


def serve() -> int:
    try:
        config = from_env()
    except ConfigError as exc:
        print(f"container_exporter: {exc}", file=sys.stderr)
        return 2
    registry = CollectorRegistry(auto_describe=False)
    docker = DockerClient(config.docker_socket, config.docker_timeout)
    registry.register(ContainerCollector(config, docker))
    server, thread = start_http_server(config.listen_port, addr=config.listen_host, registry=registry)
    logging.getLogger("container_exporter").info(
        "serving on %s:%d (cgroups at %s, Docker API at %s)",
        config.listen_host,
        config.listen_port,
        config.cgroup_root,
        config.docker_socket,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    thread.join(5)
    docker.close()
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if len(argv) == 2 and argv[0] == "--check":
        return check(argv[1])
    if len(argv) == 2 and argv[0] == "--check-socket":
        return check_socket(argv[1])
    if argv == ["--api-proxy"]:
        return apiproxy.main()
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    return serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
