# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What removing a toolbox takes away (state=absent, with or without purge), decided over the engine's
answers for its services, networks, secrets and volumes (private to the collection)."""

from __future__ import annotations

from typing import NamedTuple


class Removal(NamedTuple):
    """In the order they go: services first (networks, secrets and volumes stay busy while they run)."""

    services: list[dict]
    secrets: list[dict]
    networks: list[dict]
    volumes: list[str]
    token_dir: bool

    @property
    def changed(self) -> bool:
        return bool(self.services or self.secrets or self.networks or self.volumes or self.token_dir)


def volume_names(answer: dict | None) -> list[str]:
    """Names from APIClient.volumes(), which answers None or {"Volumes": None} when there are none."""
    return [volume["Name"] for volume in (answer or {}).get("Volumes") or []]


def removal(
    deployed: dict[str, dict],
    networks: list[dict],
    secrets: list[dict],
    volumes: list[str],
    *,
    purge: bool,
    token_dir: bool,
) -> Removal:
    """Without purge only the services go: networks, secrets, volumes (data) and the token file stay, so
    deploying again brings the same toolbox back. With purge everything the toolbox owns goes."""
    services = [deployed[name] for name in sorted(deployed)]
    if not purge:
        return Removal(services, [], [], [], False)
    return Removal(services, list(secrets), list(networks), list(volumes), token_dir)


def networks_in_use(networks: list[dict], services: list[dict], leaving: set[str]) -> dict[str, list[str]]:
    """Network name -> the services outside `leaving` (the toolbox's own, which go first) attached to it.
    The engine refuses to remove a network a service uses; found before anything is removed, a purge
    fails whole instead of halfway."""
    by_id = {net["Id"]: net["Name"] for net in networks}
    by_name = {net["Name"]: net["Name"] for net in networks}
    users: dict[str, list[str]] = {}
    for service in services:
        spec = service["Spec"]
        if spec["Name"] in leaving:
            continue
        # Engines keep attachments in TaskTemplate.Networks; services made by old clients in Spec.Networks.
        attached = (spec.get("TaskTemplate", {}).get("Networks") or []) + (spec.get("Networks") or [])
        for target in {ref["Target"] for ref in attached}:
            name = by_id.get(target) or by_name.get(target)
            if name:
                users.setdefault(name, []).append(spec["Name"])
    return {name: sorted(names) for name, names in sorted(users.items())}


def in_use_message(toolbox: str, users: dict[str, list[str]]) -> str:
    used = "; ".join(f"{network} by {', '.join(names)}" for network, names in users.items())
    return (
        f"toolbox {toolbox}: cannot purge, its networks are used by services outside it ({used}); "
        "detach them first (for Prometheus: drop the network from exporters_prometheus_extra_networks). "
        "Nothing was removed."
    )
