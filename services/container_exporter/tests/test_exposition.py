# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast text writer says what prometheus_client's generate_latest says, and the HTTP server serves it."""

from __future__ import annotations

import math
import threading
import urllib.error
import urllib.request

import pytest
from container_exporter.collector import ContainerCollector
from container_exporter.config import Config
from container_exporter.exposition import TextWriter, format_value
from container_exporter.server import make_server
from exporter_samples import ID_A, ID_B, V1_FILES, FakeDocker, swarm_labels, write_proc, write_tree
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.parser import text_string_to_metric_families


def parsed(text: str) -> dict:
    out = {}
    for family in text_string_to_metric_families(text):
        samples = sorted((s.name, sorted(s.labels.items()), s.value) for s in family.samples)
        out[family.name] = (family.type, family.documentation, samples)
    return out


class Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return list(self.families)


def registry_of(*families) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Families(families))
    return registry


def test_same_samples_as_generate_latest_for_the_exporters_output(tmp_path):
    docker = FakeDocker()
    docker.add(ID_A, "a", "img:1", swarm_labels("svc", "stack"), pid=5)
    docker.add(ID_B, "b", 'we"ird\\na\nme', {})
    write_tree(tmp_path / "cg", V1_FILES, ID_A)
    write_tree(tmp_path / "cg", V1_FILES, ID_B)
    write_proc(tmp_path / "proc", 5, ID_A)
    registry = CollectorRegistry(auto_describe=False)
    config = Config(cgroup_root=str(tmp_path / "cg"), proc_root=str(tmp_path / "proc"))
    registry.register(ContainerCollector(config, docker, clock=lambda: 1.5))
    ours = TextWriter().render(registry.collect()).decode()
    theirs = generate_latest(registry).decode()
    # Durations differ between two collections; everything else is equal.
    drop = "container_exporter_scrape_duration_seconds"
    a, b = parsed(ours), parsed(theirs)
    assert a.pop(drop)[0] == b.pop(drop)[0] == "gauge"
    assert a == b
    assert len(a) > 25


def test_edge_values_help_escapes_and_other_types_fall_back():
    histogram = HistogramMetricFamily("h_seconds", "A histogram.", buckets=[("1", 2), ("+Inf", 3)], sum_value=1.5)
    counter = CounterMetricFamily("c", "Help with \\ and\nnewline.", labels=["x"])
    counter.add_metric(["1"], 3)
    gauge = GaugeMetricFamily("g", "Gauge.", labels=["x"])
    for label, value in [("inf", math.inf), ("ninf", -math.inf), ("nan", math.nan), ("big", 1e20), ("f", 0.25)]:
        gauge.add_metric([label], value)
    text = TextWriter().render([counter, gauge, histogram]).decode()
    assert '# HELP c_total Help with \\\\ and\\nnewline.\n# TYPE c_total counter\nc_total{x="1"} 3\n' in text
    assert 'g{x="inf"} +Inf\n' in text and 'g{x="ninf"} -Inf\n' in text and 'g{x="nan"} NaN\n' in text
    assert 'g{x="big"} 1e+20\n' in text and 'g{x="f"} 0.25\n' in text
    assert parsed(text)["h_seconds"] == parsed(generate_latest(registry_of(histogram)).decode())["h_seconds"]


@pytest.mark.parametrize(("value", "text"), [(3, "3"), (3.0, "3"), (-2.0, "-2"), (0.1, "0.1"), (1e16, "1e+16")])
def test_format_value(value, text):
    assert format_value(value) == text


def test_label_strings_are_reused_and_bounded(monkeypatch):
    from container_exporter import exposition

    writer = TextWriter()
    gauge = GaugeMetricFamily("g", "Gauge.", labels=["x"])
    gauge.add_metric(["1"], 1)
    writer.render([gauge])
    writer.render([gauge])
    assert len(writer.label_cache) == 1
    monkeypatch.setattr(exposition, "LABEL_CACHE_LIMIT", 3)
    many = GaugeMetricFamily("g", "Gauge.", labels=["x"])
    for n in range(10):
        many.add_metric([str(n)], n)
    assert parsed(writer.render([many]).decode())["g"][2][-1] == ("g", [("x", "9")], 9.0)
    assert len(writer.label_cache) <= 3


def test_server_metrics_health_and_404():
    gauge = GaugeMetricFamily("up_thing", "Thing.", value=1)
    server = make_server("127.0.0.1", 0, registry_of(gauge))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(base + "/metrics") as response:
            assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            assert parsed(response.read().decode())["up_thing"][2] == [("up_thing", [], 1.0)]
        with urllib.request.urlopen(base + "/health") as response:
            assert response.read() == b"ok\n"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(base + "/other")
        assert caught.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
