# SPDX-License-Identifier: GPL-3.0-or-later
"""The Grafana dashboard is valid JSON and queries only metrics that exist: what the gateway's metrics module and
the container exporter export (read from their own output), or node-exporter's standard names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from agentopia_gateway.metrics import Metrics
from container_exporter.collector import ContainerCollector
from container_exporter.config import Config
from exporter_samples import ID_A, V1_FILES, FakeDocker, swarm_labels, write_proc, write_tree
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[3]  # services/container_exporter/tests -> the repository
DASHBOARD = REPO / "roles/exporters/files/dashboards/toolbox.json"
# node-exporter 1.5 (Debian 12) names from the collectors the role enables (meminfo, filesystem, cpu).
NODE_EXPORTER = {
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_cpu_seconds_total",
}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "le",
}  # fmt: skip


def sample_names(text: str) -> set[str]:
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def gateway_metric_names() -> set[str]:
    metrics = Metrics()
    # Touch every labelled metric once so each family shows its samples (_bucket, _count, _total ...).
    metrics.requests.labels("/mcp", "POST", "200").inc()
    metrics.request_seconds.labels("/mcp").observe(0.01)
    metrics.tool_calls.labels("s", "t", "ok").inc()
    metrics.tool_seconds.labels("s").observe(0.01)
    metrics.active_sessions.labels("s").set(1)
    metrics.open_streams.labels("/mcp").set(1)
    metrics.backend_up.labels("s").set(1)
    metrics.backend_replicas.labels("s", "ready").set(1)
    metrics.rejected.labels("auth").inc()
    body, _content_type = metrics.render()
    return sample_names(body.decode())


def container_exporter_names(tmp_path: Path) -> set[str]:
    docker = FakeDocker()
    docker.add(ID_A, "research_files.1.a", "img", swarm_labels("research_files", "research"), pid=5)
    write_tree(tmp_path / "cg", V1_FILES, ID_A)
    write_proc(tmp_path / "proc", 5, ID_A)
    collector = ContainerCollector(Config(cgroup_root=str(tmp_path / "cg"), proc_root=str(tmp_path / "proc")), docker)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return sample_names(generate_latest(registry).decode())


def metric_names(expr: str) -> set[str]:
    """Identifiers of a PromQL expression that name series: no functions, keywords, labels, strings or ranges."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)  # label lists
    names = set()
    for match in re.finditer(r"(?<![\w:.])[A-Za-z_:][\w:]*", expr):
        rest = expr[match.end() :].lstrip()
        if rest.startswith("(") or match.group() in PROMQL_WORDS:
            continue
        names.add(match.group())
    return names


def expressions(dashboard: dict) -> list[str]:
    out = []
    for panel in dashboard["panels"]:
        out += [target["expr"] for target in panel.get("targets", [])]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            out.append(re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", var["query"]["query"]))
    return out


def test_the_extractor_finds_metric_names_only():
    expr = 'sum by (toolbox, le) (rate(foo_bucket{a="b", c=~"x|y"}[5m])) / on (x) bar_total > 0 and baz offset 5m'
    assert metric_names(expr) == {"foo_bucket", "bar_total", "baz"}


def test_dashboard_is_json_with_the_four_subjects():
    dashboard = json.loads(DASHBOARD.read_text())
    titles = " ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for subject in ("gateway traffic", "tool call latency", "backend", "container memory"):
        assert subject in titles, subject
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_queries_only_exported_metrics(tmp_path):
    dashboard = json.loads(DASHBOARD.read_text())
    known = gateway_metric_names() | container_exporter_names(tmp_path) | NODE_EXPORTER
    used = set().union(*(metric_names(expr) for expr in expressions(dashboard)))
    assert used, "no metric found in the dashboard's queries"
    assert used - known == set()
    # Each source is used: the dashboard covers the gateway, the containers and the nodes.
    assert any(name.startswith("gateway_") for name in used)
    assert any(name.startswith("container_") for name in used)
    assert used & NODE_EXPORTER


@pytest.mark.parametrize("name", ["gateway_backend_up", "container_memory_working_set_bytes"])
def test_an_unknown_name_would_be_caught(tmp_path, name):
    known = gateway_metric_names() | container_exporter_names(tmp_path) | NODE_EXPORTER
    assert name in known
    assert metric_names(name + "_typo") - known == {name + "_typo"}
