# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m container_exporter              serve /metrics and /health (settings: CONTAINER_EXPORTER_* variables)
python -m container_exporter --api-proxy  the read-only Docker API proxy (container_exporter.apiproxy)
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from prometheus_client import CollectorRegistry

from . import apiproxy
from .collector import ContainerCollector
from .config import ConfigError, from_env
from .docker_api import DockerClient
from .server import make_server


def serve() -> int:
    try:
        config = from_env()
    except ConfigError as exc:
        print(f"container_exporter: {exc}", file=sys.stderr)
        return 2
    registry = CollectorRegistry(auto_describe=False)
    docker = DockerClient(config.docker_socket, config.docker_timeout)
    registry.register(ContainerCollector(config, docker))
    server = make_server(config.listen_host, config.listen_port, registry)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
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
    server.server_close()
    thread.join(5)
    docker.close()
    return 0


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if argv == ["--api-proxy"]:
        return apiproxy.main()
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    return serve()


def run() -> None:
    """The console script `container-exporter` and `python -m container_exporter`."""
    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()
