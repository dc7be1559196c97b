# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Apt logic of the docker_engine role, kept pure so that unit tests cover every distro."""

from __future__ import annotations

import fnmatch

from ansible.errors import AnsibleFilterError

SOURCES = ("distro", "docker_ce", "mirror")
# Docker publishes one repository per distribution family.
FAMILIES = {"Debian": "debian", "Ubuntu": "ubuntu"}
# uname machine -> dpkg architecture
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "armhf", "s390x": "s390x", "ppc64le": "ppc64el"}


def docker_apt_source(
    host,
    source="docker_ce",
    docker_ce_url="https://download.docker.com/linux",
    mirror_url="",
    channel="stable",
    key_url="",
):
    """Return the deb822 fields of Docker's apt repository (or its mirror) for one host.

    ``host`` holds the facts distribution, release and architecture. For the
    ``distro`` source there is no extra repository and the result is empty.
    """
    if source not in SOURCES:
        raise AnsibleFilterError(f"docker_engine_source must be one of {', '.join(SOURCES)}, not {source!r}")
    if source == "distro":
        return {}
    distribution = host.get("distribution")
    family = FAMILIES.get(distribution)
    if family is None:
        raise AnsibleFilterError(
            f"Docker's apt repository has no packages for {distribution!r}; use docker_engine_source: distro "
            f"or one of {', '.join(FAMILIES)}"
        )
    arch = ARCHITECTURES.get(host.get("architecture"))
    if arch is None:
        raise AnsibleFilterError(
            f"Docker's apt repository has no packages for architecture {host.get('architecture')!r}"
        )
    if source == "mirror" and not mirror_url:
        raise AnsibleFilterError(
            "docker_engine_source: mirror needs docker_engine_mirror_url (the mirror's URL up to /linux)"
        )
    base = (mirror_url if source == "mirror" else docker_ce_url).rstrip("/")
    repository = f"{base}/{family}"
    return {
        "uris": [repository],
        "suites": [host["release"]],
        "components": [channel],
        "architectures": [arch],
        "signed_by": key_url or f"{repository}/gpg",
    }


def apt_pin(packages, version="", pinned=()):
    """Append ``=version`` to the packages whose version follows the engine's."""
    if not version:
        return list(packages)
    return [f"{name}={version}" if name in pinned else name for name in packages]


def apt_missing(packages, installed):
    """The entries of packages (``name`` or ``name=version``, a version may hold apt's ``*``) that the host does
    not have at that version, from agentopia.toolbox.host_state's ``packages`` result."""
    missing = []
    for spec in packages:
        name, _sep, version = spec.partition("=")
        found = installed.get(name) or {}
        if not found.get("installed") or (version and not fnmatch.fnmatchcase(found.get("version") or "", version)):
            missing.append(spec)
    return missing


class FilterModule:
    def filters(self):
        return {"docker_apt_source": docker_apt_source, "apt_pin": apt_pin, "apt_missing": apt_missing}
