# SPDX-License-Identifier: GPL-3.0-or-later
import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.filter.docker_apt import apt_missing, apt_pin, docker_apt_source

HOSTS = {
    "debian12": {"distribution": "Debian", "release": "bookworm", "architecture": "x86_64"},
    "debian13": {"distribution": "Debian", "release": "trixie", "architecture": "x86_64"},
    "ubuntu2204": {"distribution": "Ubuntu", "release": "jammy", "architecture": "x86_64"},
    "ubuntu2404": {"distribution": "Ubuntu", "release": "noble", "architecture": "aarch64"},
}


@pytest.mark.parametrize(
    ("host", "uri", "suite", "arch"),
    [
        ("debian12", "https://download.docker.com/linux/debian", "bookworm", "amd64"),
        ("debian13", "https://download.docker.com/linux/debian", "trixie", "amd64"),
        ("ubuntu2204", "https://download.docker.com/linux/ubuntu", "jammy", "amd64"),
        ("ubuntu2404", "https://download.docker.com/linux/ubuntu", "noble", "arm64"),
    ],
)
def test_docker_ce_source_per_distribution(host, uri, suite, arch):
    source = docker_apt_source(HOSTS[host], source="docker_ce")
    assert source == {
        "uris": [uri],
        "suites": [suite],
        "components": ["stable"],
        "architectures": [arch],
        "signed_by": f"{uri}/gpg",
    }


def test_mirror_replaces_the_base_url_and_keeps_the_layout():
    source = docker_apt_source(HOSTS["ubuntu2404"], source="mirror", mirror_url="https://mirror.example/docker/linux/")
    assert source["uris"] == ["https://mirror.example/docker/linux/ubuntu"]
    assert source["signed_by"] == "https://mirror.example/docker/linux/ubuntu/gpg"


def test_explicit_key_and_channel_win():
    source = docker_apt_source(
        HOSTS["debian12"], source="docker_ce", channel="test", key_url="https://keys.example/d.asc"
    )
    assert source["components"] == ["test"]
    assert source["signed_by"] == "https://keys.example/d.asc"


def test_distro_source_needs_no_repository():
    assert docker_apt_source(HOSTS["debian12"], source="distro") == {}


@pytest.mark.parametrize(
    ("host", "kwargs", "message"),
    [
        (HOSTS["debian12"], {"source": "snap"}, "docker_engine_source must be one of distro, docker_ce, mirror"),
        ({"distribution": "Fedora", "release": "40", "architecture": "x86_64"}, {}, "no packages for 'Fedora'"),
        ({"distribution": "Debian", "release": "bookworm", "architecture": "mips"}, {}, "architecture 'mips'"),
        (HOSTS["debian12"], {"source": "mirror"}, "needs docker_engine_mirror_url"),
    ],
)
def test_bad_settings_name_the_setting(host, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        docker_apt_source(host, **kwargs)


def test_apt_pin_pins_only_the_engine_packages():
    packages = ["docker-ce", "docker-ce-cli", "containerd.io"]
    assert apt_pin(packages, "5:27.3.1-1~debian.12~bookworm", pinned=["docker-ce", "docker-ce-cli"]) == [
        "docker-ce=5:27.3.1-1~debian.12~bookworm",
        "docker-ce-cli=5:27.3.1-1~debian.12~bookworm",
        "containerd.io",
    ]


def test_apt_pin_without_version_leaves_names():
    assert apt_pin(["docker.io"], "", pinned=["docker.io"]) == ["docker.io"]


def test_apt_missing_names_what_is_absent_or_at_another_version():
    installed = {
        "docker.io": {"installed": True, "version": "20.10.24+dfsg1-1+deb12u1", "selection": "hold"},
        "python3-docker": {"installed": True, "version": "5.0.3-1", "selection": "install"},
        "auditd": {"installed": False, "version": None, "selection": None},
    }
    assert apt_missing(["docker.io", "python3-docker"], installed) == []
    assert apt_missing(["docker.io", "auditd", "runc"], installed) == ["auditd", "runc"]
    assert apt_missing(["docker.io=20.10.24+dfsg1-1+deb12u1"], installed) == []
    assert apt_missing(["docker.io=20.10.24*"], installed) == []
    assert apt_missing(["docker.io=20.10.25+dfsg1-1"], installed) == ["docker.io=20.10.25+dfsg1-1"]
