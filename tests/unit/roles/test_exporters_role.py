# SPDX-License-Identifier: GPL-3.0-or-later
"""The exporters role: its Prometheus configuration, rendered from the role's variables, is what Prometheus accepts
and discovers the three jobs by Swarm service discovery; the rules `for:` override keeps the rules valid."""

import re
import shutil
import subprocess

import pytest
import yaml
from rolevars import ROLES, load, render_text

ROLE = ROLES / "exporters"
PROMTOOL = shutil.which("promtool")


def variables(**overrides):
    merged = {**load(ROLE / "defaults/main.yml"), **load(ROLE / "vars/main.yml"), "ansible_managed": "managed"}
    merged.update(overrides)
    return merged


def prometheus_config(**overrides):
    text = render_text((ROLE / "templates/prometheus.yml.j2").read_text(), **variables(**overrides))
    return text, yaml.safe_load(text)


def test_three_jobs_by_swarm_discovery_through_the_proxy_socket():
    _text, config = prometheus_config()
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"node", "containers", "gateway"}
    for job in jobs.values():
        (sd,) = job["dockerswarm_sd_configs"]
        assert sd["host"] == "unix:///run/container-exporter/docker.sock"
        assert sd["role"] == "tasks"
    assert jobs["node"]["dockerswarm_sd_configs"][0]["port"] == 9100
    assert jobs["containers"]["dockerswarm_sd_configs"][0]["port"] == 9338
    keep = {
        name: {tuple(r["source_labels"]): r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"}
        for name, job in jobs.items()
    }
    assert keep["node"][("__meta_dockerswarm_service_name",)] == "monitoring_node\\-exporter"
    assert keep["node"][("__meta_dockerswarm_network_name",)] == "monitoring"
    assert keep["gateway"][("__meta_dockerswarm_service_label_org_agentopia_toolbox_server",)] == "gateway"
    assert keep["gateway"][("__meta_dockerswarm_network_name",)] == ".+_edge"
    toolbox = [r for r in jobs["gateway"]["relabel_configs"] if r.get("target_label") == "toolbox"]
    assert toolbox[0]["source_labels"] == ["__meta_dockerswarm_service_label_com_docker_stack_namespace"]
    address = next(r for r in jobs["gateway"]["relabel_configs"] if r.get("target_label") == "__address__")
    assert re.sub(address["regex"], address["replacement"].replace("${1}", r"\1"), "10.0.3.7:80") == "10.0.3.7:8811"
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]


def test_settings_reach_the_configuration():
    _text, config = prometheus_config(
        exporters_stack="obs", exporters_network="obs-net", exporters_prometheus_scrape_interval="30s"
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    keep = [r["regex"] for r in jobs["containers"]["relabel_configs"] if r.get("action") == "keep"]
    assert "obs_container\\-exporter" in keep and "obs\\-net" in keep
    assert config["global"]["scrape_interval"] == "30s"


@pytest.mark.skipif(PROMTOOL is None, reason="promtool comes with Debian's prometheus package (make rules installs it)")
def test_promtool_accepts_the_rendered_configuration(tmp_path):
    text, _config = prometheus_config()
    (tmp_path / "rules").mkdir()
    (tmp_path / "prometheus.yml").write_text(text.replace("/etc/prometheus/rules/", f"{tmp_path}/rules/"))
    shutil.copy(ROLE / "files/rules/toolbox.yml", tmp_path / "rules/toolbox.yml")
    result = subprocess.run(
        [PROMTOOL, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout


def test_rules_for_override_rewrites_every_for_and_nothing_else():
    # The same expression as the role's "Alert rules shipped with the role" task.
    tasks = load(ROLE / "tasks/deploy.yml")
    task = next(t for t in tasks if t["name"] == "Alert rules shipped with the role")
    assert "regex_replace('(?m)^(\\s+for:) .*$'" in task["community.docker.docker_config"]["data"]
    original = (ROLE / "files/rules/toolbox.yml").read_text()
    changed = re.sub(r"(?m)^(\s+for:) .*$", r"\1 10s", original)
    rules = [r for g in yaml.safe_load(changed)["groups"] for r in g["rules"]]
    assert {r["for"] for r in rules} == {"10s"}
    before = [r for g in yaml.safe_load(original)["groups"] for r in g["rules"]]
    assert [r["expr"] for r in rules] == [r["expr"] for r in before]
