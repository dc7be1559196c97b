# SPDX-License-Identifier: GPL-3.0-or-later
"""Recorded cgroup v1 and v2 file contents, written into small trees under tmp_path, and a fake Docker API.

A module of its own name: `from conftest import` would find another directory's conftest first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ID_A = "5b774ab145f216f809634ea44708b0557bc2b05fa39cf2fbeffe86cf4df5cef6"
ID_B = "8032cf943d311671fcdf21f342b3a7d355a86bdc3ba8e1032edb531ffe375878"

# Recorded on a Debian 12 host, Docker 20.10, cgroupfs driver, cgroup v1 (memory.stat cut to the lines read).
V1_FILES = {
    "cpuacct/docker/{id}/cpuacct.usage": "42514927364\n",
    "cpuacct/docker/{id}/cpuacct.stat": "user 3206\nsystem 1044\n",
    "cpu/docker/{id}/cpu.stat": "nr_periods 120\nnr_throttled 7\nthrottled_time 350000000\nnr_bursts 0\nburst_time 0\n",
    "cpu/docker/{id}/cpu.cfs_quota_us": "50000\n",
    "cpu/docker/{id}/cpu.cfs_period_us": "100000\n",
    "memory/docker/{id}/memory.usage_in_bytes": "380674048\n",
    "memory/docker/{id}/memory.limit_in_bytes": "268435456\n",
    "memory/docker/{id}/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    "memory/docker/{id}/memory.stat": (
        "cache 288575488\nrss 1343488\nrss_huge 0\nshmem 4096\nmapped_file 76984320\ninactive_file 117108736\n"
        "active_file 171462656\nhierarchical_memory_limit 268435456\ntotal_cache 317218816\ntotal_rss 47345664\n"
        "total_inactive_anon 47345664\ntotal_active_anon 36864\ntotal_inactive_file 126304256\n"
        "total_active_file 190914560\n"
    ),
}
# The same container with no limits: v1 reports them as a huge page-aligned number and -1.
V1_UNLIMITED = {
    "cpu/docker/{id}/cpu.cfs_quota_us": "-1\n",
    "memory/docker/{id}/memory.limit_in_bytes": "9223372036854771712\n",
    "memory/docker/{id}/memory.stat": V1_FILES["memory/docker/{id}/memory.stat"].replace(
        "hierarchical_memory_limit 268435456", "hierarchical_memory_limit 9223372036854771712"
    ),
}

# Recorded shape of a cgroup v2 (unified) container directory, Docker 26 with the systemd driver.
V2_FILES = {
    "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
    "system.slice/docker-{id}.scope/cpu.stat": (
        "usage_usec 8123456\nuser_usec 6000000\nsystem_usec 2123456\nnr_periods 40\nnr_throttled 3\n"
        "throttled_usec 25000\nnr_bursts 0\nburst_usec 0\n"
    ),
    "system.slice/docker-{id}.scope/cpu.max": "25000 100000\n",
    "system.slice/docker-{id}.scope/memory.current": "52428800\n",
    "system.slice/docker-{id}.scope/memory.max": "134217728\n",
    "system.slice/docker-{id}.scope/memory.events": "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n",
    "system.slice/docker-{id}.scope/memory.stat": (
        "anon 31457280\nfile 18874368\nkernel 2097152\nshmem 0\nfile_mapped 4194304\ninactive_anon 31457280\n"
        "active_anon 0\ninactive_file 10485760\nactive_file 8388608\nunevictable 0\n"
    ),
}

NET_DEV = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier "
    "compressed\n"
    "    lo:     136       2    0    0    0     0          0         0      136       2    0    0    0     0       0"
    "          0\n"
    "  eth0: 67125452    2628    1    2    0     0          0         0   240435    2066    3    4    0     0       0"
    "          0\n"
    "  eth1:     1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0"
    "          0\n"
)


def write_tree(root: Path, files: dict[str, str], container_id: str) -> Path:
    for rel, text in files.items():
        path = root / rel.format(id=container_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def write_proc(root: Path, pid: int, container_id: str, net_dev: str = NET_DEV) -> None:
    (root / str(pid) / "net").mkdir(parents=True, exist_ok=True)
    (root / str(pid) / "net/dev").write_text(net_dev)
    (root / str(pid) / "cgroup").write_text(f"9:memory:/docker/{container_id}\n0::/docker/{container_id}\n")


def swarm_labels(service: str, stack: str) -> dict[str, str]:
    return {
        "com.docker.swarm.service.name": service,
        "com.docker.stack.namespace": stack,
        "com.docker.swarm.task.name": f"{service}.1.abc",
        "com.docker.swarm.node.id": "node1",
        "unrelated.label": "x",
    }


class FakeDocker:
    """Answers like the engine's /containers/json?all=1 and /containers/<id>/json; counts the calls."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.details: dict[str, dict[str, Any]] = {}
        self.inspect_calls: list[str] = []
        self.fail = False

    def add(self, container_id: str, name: str, image: str, labels: dict[str, str], state: str = "running",
            pid: int = 0, restarts: int = 0, started: str = "2026-11-25T11:27:33.123456789Z") -> None:  # fmt: skip
        self.items.append({"Id": container_id, "Names": [f"/{name}"], "Image": image, "Labels": labels,
                           "State": state})  # fmt: skip
        self.details[container_id] = {"State": {"Pid": pid, "StartedAt": started}, "RestartCount": restarts}

    def containers(self) -> list[dict[str, Any]]:
        from container_exporter.docker_api import DockerError

        if self.fail:
            raise DockerError("Docker API at /fake: GET /containers/json?all=1 failed: refused")
        return list(self.items)

    def inspect(self, container_id: str) -> dict[str, Any]:
        self.inspect_calls.append(container_id)
        return self.details[container_id]
