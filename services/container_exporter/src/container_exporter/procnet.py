# SPDX-License-Identifier: GPL-3.0-or-later
"""Network counters of a container: /proc/<pid>/net/dev of its init process, read through the host's /proc.

cgroups hold no network figures; a process's net/dev shows the interfaces of its network namespace, which is
the container's. cAdvisor reads the same file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Interface:
    name: str
    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_dropped: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_dropped: int


def parse(text: str) -> list[Interface]:
    out = []
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        if not sep:
            continue
        name = name.strip()
        if name == "lo":  # cAdvisor leaves loopback out too
            continue
        fields = rest.split()
        if len(fields) < 16:
            continue
        f = [int(value) for value in fields[:16]]
        out.append(Interface(name, f[0], f[1], f[2], f[3], f[8], f[9], f[10], f[11]))
    return out


def read(proc_root: str, pid: int) -> list[Interface] | None:
    """None when the process is gone (the container stopped or restarted with a new pid)."""
    try:
        fd = os.open(f"{proc_root}/{pid}/net/dev", os.O_RDONLY)
    except OSError:
        return None
    try:
        return parse(os.read(fd, 65536).decode("ascii", "replace"))
    except OSError:
        return None
    finally:
        os.close(fd)


def pid_in_container(proc_root: str, pid: int, container_id: str) -> bool:
    """Whether pid still belongs to the container: after a restart the cached pid is gone or someone else's."""
    try:
        with open(f"{proc_root}/{pid}/cgroup", encoding="ascii") as handle:
            return container_id in handle.read()
    except OSError:
        return False
