# SPDX-License-Identifier: GPL-3.0-or-later
"""The container exporter against recorded cgroup v1 and v2 trees and a fake Docker API: exact values and labels."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from container_exporter.collector import VERIFY_EVERY, ContainerCollector, label_name, parse_time
from container_exporter.config import Config
from exporter_samples import ID_A, ID_B, NET_DEV, V1_FILES, V1_UNLIMITED, V2_FILES, swarm_labels, write_proc, write_tree
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

NOW = 1_790_000_000.0
HZ = os.sysconf("SC_CLK_TCK")


def scrape(collector: ContainerCollector) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Through the text exposition and back, as Prometheus would read it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def one(samples, metric: str, **match: str) -> float:
    found = [value for labels, value in samples.get(metric, []) if all(labels.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{metric} {match}: {found}"
    return found[0]


def make(tmp_path: Path, docker, files: dict[str, str], ids=(ID_A,)) -> ContainerCollector:
    cg = tmp_path / "cgroup"
    for container_id in ids:
        write_tree(cg, files, container_id)
    config = Config(cgroup_root=str(cg), proc_root=str(tmp_path / "proc"))
    return ContainerCollector(config, docker, clock=lambda: NOW)


def test_cgroup_v1_values_and_cadvisor_labels(tmp_path, docker):
    image = "agentopia/mcp-filesystem:0.1.0@sha256:00"
    docker.add(ID_A, "research_files.1.abc", image, swarm_labels("research_files", "research"), pid=4242, restarts=3)
    write_proc(tmp_path / "proc", 4242, ID_A)
    s = scrape(make(tmp_path, docker, V1_FILES))
    labels = {
        "id": f"/docker/{ID_A}",
        "name": "research_files.1.abc",
        "image": "agentopia/mcp-filesystem:0.1.0@sha256:00",
        "container_label_com_docker_swarm_service_name": "research_files",
        "container_label_com_docker_stack_namespace": "research",
    }
    assert one(s, "container_cpu_usage_seconds_total", cpu="total", **labels) == pytest.approx(42.514927364)
    assert one(s, "container_cpu_user_seconds_total", **labels) == pytest.approx(3206 / HZ)
    assert one(s, "container_cpu_system_seconds_total", **labels) == pytest.approx(1044 / HZ)
    assert one(s, "container_cpu_cfs_periods_total", **labels) == 120
    assert one(s, "container_cpu_cfs_throttled_periods_total", **labels) == 7
    assert one(s, "container_cpu_cfs_throttled_seconds_total", **labels) == pytest.approx(0.35)
    assert one(s, "container_spec_cpu_quota", **labels) == 50000
    assert one(s, "container_spec_cpu_period", **labels) == 100000
    assert one(s, "container_memory_usage_bytes", **labels) == 380674048
    # Working set as cAdvisor computes it: usage minus total_inactive_file.
    assert one(s, "container_memory_working_set_bytes", **labels) == 380674048 - 126304256
    assert one(s, "container_memory_rss", **labels) == 47345664
    assert one(s, "container_memory_cache", **labels) == 317218816
    assert one(s, "container_spec_memory_limit_bytes", **labels) == 268435456
    assert one(s, "container_oom_events_total", **labels) == 2
    assert one(s, "container_network_receive_bytes_total", interface="eth0", **labels) == 67125452
    assert one(s, "container_network_receive_packets_total", interface="eth0", **labels) == 2628
    assert one(s, "container_network_receive_errors_total", interface="eth0", **labels) == 1
    assert one(s, "container_network_receive_packets_dropped_total", interface="eth0", **labels) == 2
    assert one(s, "container_network_transmit_bytes_total", interface="eth0", **labels) == 240435
    assert one(s, "container_network_transmit_packets_total", interface="eth0", **labels) == 2066
    assert one(s, "container_network_transmit_errors_total", interface="eth0", **labels) == 3
    assert one(s, "container_network_transmit_packets_dropped_total", interface="eth0", **labels) == 4
    assert one(s, "container_network_transmit_bytes_total", interface="eth1", **labels) == 2000
    assert not [lb for lb, _value in s["container_network_receive_bytes_total"] if lb["interface"] == "lo"]
    assert one(s, "container_last_seen", **labels) == NOW
    assert one(s, "container_restart_count", **labels) == 3
    assert one(s, "container_start_time_seconds", **labels) == pytest.approx(1795606053.123456, abs=1e-6)
    # Only the configured Docker labels become container_label_* (bounded cardinality).
    sample_labels = s["container_memory_usage_bytes"][0][0]
    assert "container_label_unrelated_label" not in sample_labels
    assert sample_labels["container_label_com_docker_swarm_task_name"] == "research_files.1.abc"
    assert one(s, "container_exporter_docker_up") == 1
    assert one(s, "container_exporter_containers") == 1


def test_cgroup_v1_unlimited_is_zero_limit_and_no_quota(tmp_path, docker):
    docker.add(ID_A, "plain", "debian:12", {})
    s = scrape(make(tmp_path, docker, {**V1_FILES, **V1_UNLIMITED}))
    assert one(s, "container_spec_memory_limit_bytes", name="plain") == 0
    assert "container_spec_cpu_quota" not in s
    assert "container_spec_cpu_period" not in s
    # Pid 0 (no inspect data for the network namespace): no network samples, CPU and memory still there.
    assert "container_network_receive_bytes_total" not in s
    assert one(s, "container_memory_usage_bytes", name="plain", container_label_com_docker_swarm_service_name="") > 0


def test_cgroup_v2_values_systemd_driver(tmp_path, docker):
    docker.add(ID_B, "web", "nginx:1", {"com.docker.compose.project": "shop"}, pid=77)
    write_proc(tmp_path / "proc", 77, ID_B)
    s = scrape(make(tmp_path, docker, V2_FILES, ids=(ID_B,)))
    labels = {"id": f"/system.slice/docker-{ID_B}.scope", "name": "web", "image": "nginx:1"}
    assert one(s, "container_cpu_usage_seconds_total", cpu="total", **labels) == pytest.approx(8.123456)
    assert one(s, "container_cpu_user_seconds_total", **labels) == pytest.approx(6.0)
    assert one(s, "container_cpu_system_seconds_total", **labels) == pytest.approx(2.123456)
    assert one(s, "container_cpu_cfs_throttled_periods_total", **labels) == 3
    assert one(s, "container_cpu_cfs_throttled_seconds_total", **labels) == pytest.approx(0.025)
    assert one(s, "container_spec_cpu_quota", **labels) == 25000
    assert one(s, "container_memory_usage_bytes", **labels) == 52428800
    assert one(s, "container_memory_working_set_bytes", **labels) == 52428800 - 10485760
    assert one(s, "container_memory_rss", **labels) == 31457280
    assert one(s, "container_memory_cache", **labels) == 18874368
    assert one(s, "container_spec_memory_limit_bytes", **labels) == 134217728
    assert one(s, "container_oom_events_total", **labels) == 1
    assert one(s, "container_network_receive_bytes_total", interface="eth0", **labels) == 67125452
    assert one(s, "container_memory_usage_bytes", container_label_com_docker_compose_project="shop") == 52428800


@pytest.mark.parametrize("files", [V1_FILES, V2_FILES], ids=["v1", "v2"])
def test_every_figure_read_is_a_number(tmp_path, files):
    from container_exporter.cgroups import Locator

    container_id = ID_A
    write_tree(tmp_path, files, container_id)
    locator = Locator(str(tmp_path), ("docker", "system.slice"))
    stats = locator.read(locator.find(container_id))
    values = {name: value for name, value in vars(stats).items() if value is not None}
    assert len(values) >= 12
    assert all(isinstance(value, int | float) for value in values.values()), values


def test_cgroup_v2_unlimited_memory_and_cpu(tmp_path, docker):
    scope = "system.slice/docker-{id}.scope"
    files = {**V2_FILES, f"{scope}/memory.max": "max\n", f"{scope}/cpu.max": "max 100000\n"}
    docker.add(ID_B, "web", "nginx:1", {})
    s = scrape(make(tmp_path, docker, files, ids=(ID_B,)))
    assert one(s, "container_spec_memory_limit_bytes", name="web") == 0
    assert "container_spec_cpu_quota" not in s


def test_cgroup_v2_cgroupfs_driver_path(tmp_path, docker):
    files = {k.replace("system.slice/docker-{id}.scope", "docker/{id}"): v for k, v in V2_FILES.items()}
    docker.add(ID_B, "web", "nginx:1", {})
    s = scrape(make(tmp_path, docker, files, ids=(ID_B,)))
    assert one(s, "container_memory_usage_bytes", id=f"/docker/{ID_B}") == 52428800


def test_stopped_and_unknown_containers_are_not_measured(tmp_path, docker):
    docker.add(ID_A, "running", "img", {})
    docker.add(ID_B, "exited", "img", {}, state="exited")
    docker.add("c" * 64, "no-cgroup", "img", {})
    s = scrape(make(tmp_path, docker, V1_FILES, ids=(ID_A, ID_B)))
    assert [lb["name"] for lb, _value in s["container_memory_usage_bytes"]] == ["running"]
    assert one(s, "container_exporter_containers") == 1


def test_inspect_once_per_start_and_again_after_a_restart(tmp_path, docker):
    docker.add(ID_A, "app", "img", {}, pid=10, restarts=0)
    write_proc(tmp_path / "proc", 10, ID_A)
    collector = make(tmp_path, docker, V1_FILES)
    scrape(collector)
    scrape(collector)
    assert docker.inspect_calls == [ID_A]
    # The restart policy restarted it: a new pid, the old process gone.
    docker.details[ID_A] = {"State": {"Pid": 11, "StartedAt": "2026-11-25T12:00:00Z"}, "RestartCount": 1}
    shutil.rmtree(tmp_path / "proc/10")
    write_proc(tmp_path / "proc", 11, ID_A, NET_DEV.replace("67125452", "5"))
    s = scrape(collector)
    assert docker.inspect_calls == [ID_A, ID_A]
    assert one(s, "container_restart_count", name="app") == 1
    assert one(s, "container_network_receive_bytes_total", name="app", interface="eth0") == 5


def test_a_reused_pid_is_caught_within_verify_every_scrapes(tmp_path, docker):
    docker.add(ID_A, "app", "img", {}, pid=10)
    write_proc(tmp_path / "proc", 10, ID_A)
    collector = make(tmp_path, docker, V1_FILES)
    scrape(collector)
    # Restarted as pid 11, and pid 10 now belongs to a process of another container.
    docker.details[ID_A] = {"State": {"Pid": 11, "StartedAt": "2026-11-25T12:00:00Z"}, "RestartCount": 1}
    write_proc(tmp_path / "proc", 10, ID_B, NET_DEV.replace("67125452", "999"))
    write_proc(tmp_path / "proc", 11, ID_A, NET_DEV.replace("67125452", "5"))
    values = [
        one(scrape(collector), "container_network_receive_bytes_total", interface="eth0") for _n in range(VERIFY_EVERY)
    ]
    assert values[: VERIFY_EVERY - 1] == [999] * (VERIFY_EVERY - 1)
    assert values[-1] == 5
    assert docker.inspect_calls == [ID_A, ID_A]


def test_memory_limit_from_the_limit_file_when_memory_stat_lacks_it(tmp_path, docker):
    stat = V1_FILES["memory/docker/{id}/memory.stat"].replace("hierarchical_memory_limit 268435456\n", "")
    docker.add(ID_A, "app", "img", {})
    s = scrape(make(tmp_path, docker, {**V1_FILES, "memory/docker/{id}/memory.stat": stat}))
    assert one(s, "container_spec_memory_limit_bytes", name="app") == 268435456


def test_task_starts_count_new_swarm_containers_per_service(tmp_path, docker):
    ids = [f"{n:064x}" for n in range(1, 6)]
    docker.add(ids[0], "research_git.1.a", "img", swarm_labels("research_git", "research"), state="exited")
    docker.add(ids[1], "research_git.1.b", "img", swarm_labels("research_git", "research"))
    collector = make(tmp_path, docker, V1_FILES, ids=(ids[1],))
    s = scrape(collector)
    name = "container_service_task_starts_total"
    svc = label_name("com.docker.swarm.service.name")
    assert one(s, name, **{svc: "research_git"}) == 2  # the baseline: what was there at the first scrape
    # Two crash-restarts of the task between scrapes, and the oldest task pruned by the engine.
    docker.items = docker.items[1:]
    docker.add(ids[2], "research_git.1.c", "img", swarm_labels("research_git", "research"), state="exited")
    docker.add(ids[3], "research_git.1.d", "img", swarm_labels("research_git", "research"))
    assert one(scrape(collector), name, **{svc: "research_git"}) == 4
    assert one(scrape(collector), name, **{svc: "research_git"}) == 4
    # A service that appears later starts from its own first sight.
    docker.add(ids[4], "other_x.1.a", "img", swarm_labels("other_x", "other"))
    s = scrape(collector)
    assert one(s, name, **{svc: "other_x", label_name("com.docker.stack.namespace"): "other"}) == 1


def test_docker_down_is_reported_not_raised(tmp_path, docker):
    docker.fail = True
    s = scrape(make(tmp_path, docker, V1_FILES))
    assert one(s, "container_exporter_docker_up") == 0
    assert "container_memory_usage_bytes" not in s


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-25T11:27:33.123456789Z", 1795606053.123456),
        ("2026-11-25T11:27:33Z", 1795606053.0),
        ("2026-11-25T11:27:33.5+01:00", 1795602453.5),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_parse_time(value, expected):
    assert parse_time(value) == (pytest.approx(expected, abs=1e-6) if expected else None)


def test_label_name_is_cadvisors():
    assert label_name("com.docker.swarm.service.name") == "container_label_com_docker_swarm_service_name"
    assert label_name("org.agentopia.toolbox-server") == "container_label_org_agentopia_toolbox_server"


def test_each_scrape_reads_fresh_figures_and_drops_containers_gone_from_the_list(tmp_path, docker):
    docker.add(ID_A, "a", "img", {})
    docker.add(ID_B, "b", "img", {})
    collector = make(tmp_path, docker, V1_FILES, ids=(ID_A, ID_B))
    scrape(collector)
    # Read while the list call is in flight (known from the last scrape): the new value, not a cached one.
    (tmp_path / f"cgroup/memory/docker/{ID_A}/memory.usage_in_bytes").write_text("1000\n")
    docker.items = docker.items[:1]
    s = scrape(collector)
    assert one(s, "container_memory_usage_bytes", name="a") == 1000
    assert [labels["name"] for labels, _value in s["container_memory_usage_bytes"]] == ["a"]
    # A container first listed now is read after the list.
    docker.add(ID_B, "b", "img", {})
    s = scrape(collector)
    assert sorted(labels["name"] for labels, _value in s["container_memory_usage_bytes"]) == ["a", "b"]
