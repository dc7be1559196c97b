# SPDX-License-Identifier: GPL-3.0-or-later
"""The collector: on each scrape, one container list from Docker, then cgroup and /proc files per container."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from . import procnet
from .cgroups import Locator, Stats
from .config import Config
from .docker_api import DockerError

log = logging.getLogger("container_exporter")

_SERVICE = "com.docker.swarm.service.name"
_STACK = "com.docker.stack.namespace"
_FRACTION = re.compile(r"\.(\d+)")
VERIFY_EVERY = 8


class Docker(Protocol):
    def containers(self) -> list[dict[str, Any]]: ...
    def inspect(self, container_id: str) -> dict[str, Any]: ...


def label_name(key: str) -> str:
    """cAdvisor's container_label_<key> with every character outside [a-zA-Z0-9_] replaced by '_'."""
    return "container_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", key)


def parse_time(value: str) -> float | None:
    """Docker's RFC 3339 times carry nanoseconds; datetime takes microseconds."""
    if not value or value.startswith("0001-01-01"):
        return None
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class _Inspected:
    pid: int
    restart_count: int
    started_at: float | None
    scrapes: int = 0


class ContainerCollector(Collector):
    def __init__(self, config: Config, docker: Docker, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.docker = docker
        self.clock = clock
        self.locator = Locator(config.cgroup_root, config.cgroup_parents)
        self.label_keys = config.labels
        self.base_labels = ["id", "name", "image", *(label_name(key) for key in config.labels)]
        self._inspected: dict[str, _Inspected] = {}
        self._task_ids: dict[tuple[str, str], set[str]] = {}
        self._task_starts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        # The engine's answer to the list call takes longer than reading every cgroup: both at once.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docker-list")
        self._running: dict[str, str] = {}  # id -> cgroup path, as of the previous scrape

    # --- Docker side -------------------------------------------------------------------------------------------
    def _cached(self, container_id: str) -> _Inspected | None:
        """Inspect once per container start. A restart changes the pid: the old one's net/dev is gone (see _collect),
        and every VERIFY_EVERY scrapes the pid's cgroup must still name the container (pids are reused)."""
        known = self._inspected.get(container_id)
        if known is not None:
            known.scrapes += 1
            if known.scrapes % VERIFY_EVERY or procnet.pid_in_container(self.config.proc_root, known.pid, container_id):
                return known
        return self._inspect_now(container_id)

    def _inspect_now(self, container_id: str) -> _Inspected | None:
        try:
            data = self.docker.inspect(container_id)
        except DockerError as exc:
            log.warning("%s", exc)
            self._inspected.pop(container_id, None)
            return None
        state = data.get("State") or {}
        found = _Inspected(
            pid=int(state.get("Pid") or 0),
            restart_count=int(data.get("RestartCount") or 0),
            started_at=parse_time(state.get("StartedAt") or ""),
        )
        self._inspected[container_id] = found
        return found

    def _count_task_starts(self, listed: list[dict[str, Any]]) -> None:
        """Swarm restarts a failed task as a new container: count new task containers per service."""
        seen_now: dict[tuple[str, str], set[str]] = {}
        for item in listed:
            labels = item.get("Labels") or {}
            if _SERVICE in labels:
                seen_now.setdefault((labels[_SERVICE], labels.get(_STACK, "")), set()).add(item["Id"])
        for key, ids in seen_now.items():
            if key not in self._task_ids:
                # First sight of a service: what is already there is the baseline, not news.
                self._task_ids[key] = set(ids)
                self._task_starts[key] = len(ids)
                continue
            new = ids - self._task_ids[key]
            self._task_starts[key] += len(new)
            # Only the ids still listed are kept: the engine prunes old tasks, and ids are never reused.
            self._task_ids[key] = ids
        for key in set(self._task_ids) - set(seen_now):
            self._task_ids[key] = set()

    # --- the scrape --------------------------------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        # Collected in full before the first family is handed out, so the duration is the collector's own.
        with self._lock:
            return iter(list(self._collect()))

    def _collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        fam = _Families(self.base_labels)
        docker_up = 1
        pending = self._pool.submit(self.docker.containers)
        early = {container_id: self.locator.read(rel) for container_id, rel in self._running.items()}
        try:
            listed = pending.result()
        except DockerError as exc:
            log.warning("%s", exc)
            listed = []
            docker_up = 0
        self._count_task_starts(listed)
        now = self.clock()
        live: dict[str, str] = {}
        running = 0
        for item in listed:
            if item.get("State") not in ("running", "paused", "restarting"):
                continue
            container_id = item["Id"]
            rel = self.locator.find(container_id)
            if rel is None:
                continue
            live[container_id] = rel
            running += 1
            docker_labels = item.get("Labels") or {}
            names = item.get("Names") or [""]
            values = [
                rel,
                names[0].lstrip("/"),
                item.get("Image", ""),
                *(docker_labels.get(key, "") for key in self.label_keys),
            ]
            # One label dict per container, shared by all its samples (the text writer renders it once).
            labels = dict(zip(self.base_labels, values, strict=True))
            stats = early.get(container_id)
            fam.add_stats(labels, stats if stats is not None else self.locator.read(rel))
            fam.add(fam.last_seen, labels, now)
            inspected = self._cached(container_id)
            interfaces = procnet.read(self.config.proc_root, inspected.pid) if inspected and inspected.pid > 0 else None
            if inspected is not None and inspected.pid > 0 and interfaces is None:
                # Its process is gone: restarted under a new pid, or stopping. Ask the engine once more.
                inspected = self._inspect_now(container_id)
                if inspected is not None and inspected.pid > 0:
                    interfaces = procnet.read(self.config.proc_root, inspected.pid)
            if inspected is None:
                continue
            fam.add(fam.restarts, labels, inspected.restart_count)
            if inspected.started_at is not None:
                fam.add(fam.start_time, labels, inspected.started_at)
            for iface in interfaces or []:
                fam.add_interface(labels, iface)
        self._running = live
        self.locator.forget_except(set(live))
        for container_id in set(self._inspected) - set(live):
            del self._inspected[container_id]
        yield from fam.all()
        starts = CounterMetricFamily(
            "container_service_task_starts",
            "Task containers of each Swarm service started on this node since the exporter started; "
            "a crash-looping service grows it.",
            labels=[label_name(_SERVICE), label_name(_STACK)],
        )
        for (service, stack), count in sorted(self._task_starts.items()):
            starts.add_metric([service, stack], count)
        yield starts
        yield GaugeMetricFamily("container_exporter_docker_up", "1 when the last Docker API list worked.", docker_up)
        yield GaugeMetricFamily("container_exporter_containers", "Running containers measured.", running)
        yield GaugeMetricFamily(
            "container_exporter_scrape_duration_seconds",
            "Time to collect the container metrics of this scrape.",
            time.perf_counter() - started,
        )


class _Families:
    """The metric families of one scrape, under cAdvisor's names, help texts and labels."""

    def __init__(self, labels: list[str]) -> None:
        def counter(name: str, doc: str, extra: tuple[str, ...] = ()) -> CounterMetricFamily:
            return CounterMetricFamily(name, doc, labels=[*labels, *extra])

        def gauge(name: str, doc: str, extra: tuple[str, ...] = ()) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=[*labels, *extra])

        self.cpu_usage = counter(
            "container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", ("cpu",)
        )
        self.cpu_user = counter("container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.")
        self.cpu_system = counter(
            "container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds."
        )
        self.cfs_periods = counter("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.")
        self.cfs_throttled = counter(
            "container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals."
        )
        self.cfs_throttled_seconds = counter(
            "container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled."
        )
        self.cpu_quota = gauge("container_spec_cpu_quota", "CPU quota of the container.")
        self.cpu_period = gauge("container_spec_cpu_period", "CPU period of the container.")
        self.mem_usage = gauge(
            "container_memory_usage_bytes",
            "Current memory usage in bytes, including all memory regardless of when it was accessed",
        )
        self.mem_ws = gauge("container_memory_working_set_bytes", "Current working set in bytes.")
        self.mem_rss = gauge("container_memory_rss", "Size of RSS in bytes.")
        self.mem_cache = gauge("container_memory_cache", "Number of bytes of page cache memory.")
        self.mem_limit = gauge("container_spec_memory_limit_bytes", "Memory limit for the container.")
        self.oom = counter("container_oom_events_total", "Count of out of memory events observed for the container")
        iface = ("interface",)
        self.rx_bytes = counter("container_network_receive_bytes_total", "Cumulative count of bytes received", iface)
        self.rx_packets = counter(
            "container_network_receive_packets_total", "Cumulative count of packets received", iface
        )
        self.rx_errors = counter(
            "container_network_receive_errors_total", "Cumulative count of errors encountered while receiving", iface
        )
        self.rx_dropped = counter(
            "container_network_receive_packets_dropped_total",
            "Cumulative count of packets dropped while receiving",
            iface,
        )
        self.tx_bytes = counter(
            "container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", iface
        )
        self.tx_packets = counter(
            "container_network_transmit_packets_total", "Cumulative count of packets transmitted", iface
        )
        self.tx_errors = counter(
            "container_network_transmit_errors_total",
            "Cumulative count of errors encountered while transmitting",
            iface,
        )
        self.tx_dropped = counter(
            "container_network_transmit_packets_dropped_total",
            "Cumulative count of packets dropped while transmitting",
            iface,
        )
        self.last_seen = gauge("container_last_seen", "Last time a container was seen by the exporter")
        self.start_time = gauge(
            "container_start_time_seconds", "Start time of the container since unix epoch in seconds."
        )
        self.restarts = gauge(
            "container_restart_count", "Restarts of the container by its restart policy (Docker's RestartCount)."
        )

    @staticmethod
    def add(family: Metric, labels: dict[str, str], value: float) -> None:
        """add_metric without its per-call zip into a new dict: the caller's dict is shared, never changed."""
        name = family.name + "_total" if family.type == "counter" else family.name
        family.samples.append(Sample(name, labels, value, None, None))

    def add_stats(self, labels: dict[str, str], stats: Stats) -> None:
        pairs: list[tuple[Metric, float | int | None]] = [
            (self.cpu_user, stats.cpu_user_seconds),
            (self.cpu_system, stats.cpu_system_seconds),
            (self.cfs_periods, stats.cpu_periods),
            (self.cfs_throttled, stats.cpu_throttled_periods),
            (self.cfs_throttled_seconds, stats.cpu_throttled_seconds),
            (self.cpu_quota, stats.cpu_quota),
            (self.cpu_period, stats.cpu_period if stats.cpu_quota is not None else None),
            (self.mem_usage, stats.memory_usage),
            (self.mem_ws, stats.memory_working_set),
            (self.mem_rss, stats.memory_rss),
            (self.mem_cache, stats.memory_cache),
            (self.mem_limit, stats.memory_limit),
            (self.oom, stats.oom_kills),
        ]
        if stats.cpu_usage_seconds is not None:
            self.add(self.cpu_usage, {**labels, "cpu": "total"}, stats.cpu_usage_seconds)
        for family, value in pairs:
            if value is not None:
                self.add(family, labels, value)

    def add_interface(self, labels: dict[str, str], iface: procnet.Interface) -> None:
        with_iface = {**labels, "interface": iface.name}
        for family, value in (
            (self.rx_bytes, iface.rx_bytes),
            (self.rx_packets, iface.rx_packets),
            (self.rx_errors, iface.rx_errors),
            (self.rx_dropped, iface.rx_dropped),
            (self.tx_bytes, iface.tx_bytes),
            (self.tx_packets, iface.tx_packets),
            (self.tx_errors, iface.tx_errors),
            (self.tx_dropped, iface.tx_dropped),
        ):
            self.add(family, with_iface, value)

    def all(self) -> Iterator[Metric]:
        for value in vars(self).values():
            if isinstance(value, Metric):
                yield value
