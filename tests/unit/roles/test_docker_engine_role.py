# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the docker_engine role's variables and templates with Ansible's own templating."""

import pytest
from rolevars import ROLES, load, render_text
from rolevars import render as render_vars

ROLE = ROLES / "docker_engine"

FACTS = {
    "Debian_12": {"distribution": "Debian", "distribution_major_version": "12", "distribution_release": "bookworm"},
    "Debian_13": {"distribution": "Debian", "distribution_major_version": "13", "distribution_release": "trixie"},
    "Ubuntu_22": {"distribution": "Ubuntu", "distribution_major_version": "22", "distribution_release": "jammy"},
    "Ubuntu_24": {"distribution": "Ubuntu", "distribution_major_version": "24", "distribution_release": "noble"},
}


def os_vars_file(key):
    """The file the role's first_found picks for a platform."""
    distribution = key.split("_")[0]
    for name in (f"{key}.yml", f"{distribution}.yml"):
        if (ROLE / "vars" / name).exists():
            return ROLE / "vars" / name
    return None


def render(name, platform="Debian_12", **overrides):
    files = (ROLE / "defaults/main.yml", ROLE / "vars/main.yml", os_vars_file(platform))
    facts = {**FACTS[platform], "architecture": "x86_64"}
    return render_vars(name, files, **overrides, ansible_facts=facts)


def test_defaults_are_cis_hardened():
    config = render("docker_engine__daemon_config")
    assert config["icc"] is False
    assert config["live-restore"] is True
    assert config["userland-proxy"] is False
    assert config["no-new-privileges"] is True
    assert config["log-driver"] == "json-file"
    # dockerd rejects numbers in log-opts: every value must be a string.
    assert config["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert config["default-ulimits"]["nofile"] == {"Name": "nofile", "Soft": 65536, "Hard": 65536}
    assert "userns-remap" not in config
    assert "registry-mirrors" not in config


def test_user_options_merge_over_the_defaults():
    config = render(
        "docker_engine__daemon_config",
        docker_engine_live_restore=False,
        docker_engine_registry_mirrors=["https://mirror.lab"],
        docker_engine_userns_remap="default",
        docker_engine_daemon_options={"log-opts": {"max-size": "50m"}, "debug": True},
    )
    assert config["live-restore"] is False
    assert config["registry-mirrors"] == ["https://mirror.lab"]
    assert config["userns-remap"] == "default"
    assert config["debug"] is True
    assert config["log-opts"] == {"max-size": "50m", "max-file": "3"}


@pytest.mark.parametrize("platform", sorted(FACTS))
def test_every_supported_platform_has_its_settings(platform):
    supported = render("docker_engine__supported")
    assert platform in supported
    assert os_vars_file(platform) is not None
    assert "docker.io" in render("docker_engine__packages", platform)
    assert {"docker.io", "containerd", "runc"} <= set(render("docker_engine__hold", platform))


def test_trixie_installs_and_holds_the_split_client():
    assert "docker-cli" in render("docker_engine__packages", "Debian_13")
    assert "docker-cli" in render("docker_engine__hold", "Debian_13")


def test_distro_version_pin():
    packages = render("docker_engine__packages", docker_engine_version="20.10.24+dfsg1-1+deb12u1")
    assert packages == ["docker.io=20.10.24+dfsg1-1+deb12u1"]


@pytest.mark.parametrize("platform", ["Debian_12", "Ubuntu_24"])
def test_docker_ce_source_pins_engine_and_cli_and_holds_all(platform):
    overrides = {"docker_engine_source": "docker_ce", "docker_engine_version": "5:27.3.1-1"}
    assert render("docker_engine__packages", platform, **overrides) == [
        "docker-ce=5:27.3.1-1",
        "docker-ce-cli=5:27.3.1-1",
        "containerd.io",
    ]
    assert render("docker_engine__hold", platform, **overrides) == ["docker-ce", "docker-ce-cli", "containerd.io"]
    source = render("docker_engine__apt_source", platform, **overrides)
    family = platform.split("_")[0].lower()
    assert source["uris"] == [f"https://download.docker.com/linux/{family}"]
    assert source["suites"] == [FACTS[platform]["distribution_release"]]


def test_audit_rules_cover_the_cis_paths():
    variables = {**load(ROLE / "vars/main.yml"), "ansible_managed": "managed"}
    rules = render_text((ROLE / "templates/docker.rules.j2").read_text(), **variables).splitlines()
    watched = {line.split()[1] for line in rules if line.startswith("-w ")}
    for path in (
        "/usr/bin/dockerd",
        "/var/lib/docker",
        "/etc/docker",
        "/etc/docker/daemon.json",
        "/lib/systemd/system/docker.service",
        "/lib/systemd/system/docker.socket",
        "/usr/bin/containerd",
    ):
        assert path in watched
    assert all(line.endswith("-p rwxa -k docker") for line in rules if line.startswith("-w "))
