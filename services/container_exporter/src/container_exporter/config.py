# SPDX-License-Identifier: GPL-3.0-or-later
"""Settings, read once from the environment into one typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# Docker labels exported as container_label_<name> (cAdvisor's naming). A fixed list keeps every sample of a family
# with the same label names and bounds the cardinality; add more with CONTAINER_EXPORTER_LABELS.
DEFAULT_LABELS = (
    "com.docker.swarm.service.name",
    "com.docker.stack.namespace",
    "com.docker.swarm.task.name",
    "com.docker.swarm.node.id",
    "com.docker.compose.project",
    "com.docker.compose.service",
    "org.agentopia.toolbox.server",
)


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable and the fix."""


@dataclass(frozen=True)
class Config:
    listen_host: str = "0.0.0.0"
    listen_port: int = 9338
    cgroup_root: str = "/sys/fs/cgroup"
    # The host's /proc (mounted at /host/proc in the image): /proc/<pid>/net/dev of each container's init.
    proc_root: str = "/proc"
    docker_socket: str = "/var/run/docker.sock"
    docker_timeout: float = 5.0
    labels: tuple[str, ...] = DEFAULT_LABELS
    # Cgroup parents to look under, as Docker names them (cgroupfs driver "docker", systemd driver "system.slice").
    cgroup_parents: tuple[str, ...] = ("docker", "system.slice")


def _number(env: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a {kind.__name__}; set it to a positive number") from None
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} must be above 0")
    return value


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def from_env(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    listen = env.get("CONTAINER_EXPORTER_LISTEN", "0.0.0.0:9338")
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"CONTAINER_EXPORTER_LISTEN={listen!r} must be HOST:PORT with a port of 1-65535")
    return Config(
        listen_host=host or "0.0.0.0",
        listen_port=int(port),
        cgroup_root=env.get("CONTAINER_EXPORTER_CGROUP_ROOT", "/sys/fs/cgroup"),
        proc_root=env.get("CONTAINER_EXPORTER_PROC_ROOT", "/proc"),
        docker_socket=env.get("CONTAINER_EXPORTER_DOCKER_SOCKET", "/var/run/docker.sock"),
        docker_timeout=float(_number(env, "CONTAINER_EXPORTER_DOCKER_TIMEOUT", 5.0, float)),
        labels=_list(env, "CONTAINER_EXPORTER_LABELS", DEFAULT_LABELS)
        + tuple(key for key in _list(env, "CONTAINER_EXPORTER_EXTRA_LABELS", ()) if key not in DEFAULT_LABELS),
        cgroup_parents=_list(env, "CONTAINER_EXPORTER_CGROUP_PARENTS", ("docker", "system.slice")),
    )
