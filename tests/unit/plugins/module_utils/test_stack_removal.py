# SPDX-License-Identifier: GPL-3.0-or-later
"""What state=absent removes, with and without purge, over a recorded toolbox (fixtures/engine)."""

import json
from pathlib import Path

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack_removal as removal

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "engine" / "toolbox_objects.json").read_text())
DEPLOYED = {service["Spec"]["Name"]: service for service in RECORDED["services"]}
VOLUMES = removal.volume_names(RECORDED["volumes"])


def plan(purge: bool, deployed=None):
    return removal.removal(
        DEPLOYED if deployed is None else deployed,
        RECORDED["networks"],
        RECORDED["secrets"],
        VOLUMES,
        purge=purge,
        token_dir=True,
    )


def test_absent_removes_the_services_only():
    removed = plan(purge=False)
    assert [s["Spec"]["Name"] for s in removed.services] == ["rec_gateway"]
    assert (removed.secrets, removed.networks, removed.volumes, removed.token_dir) == ([], [], [], False)
    assert removed.changed


def test_purge_removes_networks_secrets_volumes_and_the_token_file():
    removed = plan(purge=True)
    assert [s["Spec"]["Name"] for s in removed.services] == ["rec_gateway"]
    assert sorted(net["Name"] for net in removed.networks) == ["rec_edge", "rec_internal"]
    assert [s["Spec"]["Name"] for s in removed.secrets] == ["rec_token_0123456789ab"]
    assert removed.volumes == ["rec_db_pgdata"]
    assert removed.token_dir


def test_absent_again_changes_nothing():
    assert not removal.removal({}, [], [], [], purge=False, token_dir=False).changed
    # Without purge, what stays never makes a rerun report a change.
    assert not removal.removal(
        {}, RECORDED["networks"], RECORDED["secrets"], VOLUMES, purge=False, token_dir=True
    ).changed


def test_purge_after_absent_still_has_work():
    assert plan(purge=True, deployed={}).changed


@pytest.mark.parametrize("answer", [None, {"Volumes": None, "Warnings": None}, {"Volumes": []}])
def test_no_volumes(answer):
    assert removal.volume_names(answer) == []


def test_a_network_used_outside_the_toolbox_blocks_the_purge():
    users = removal.networks_in_use(RECORDED["networks"], RECORDED["all_services"], set(DEPLOYED))
    # The toolbox's own gateway goes first; Prometheus scraping the edge network stays.
    assert users == {"rec_edge": ["monitoring_prometheus"]}
    message = removal.in_use_message("rec", users)
    assert "rec_edge by monitoring_prometheus" in message and "Nothing was removed" in message


def test_networks_named_by_name_in_an_old_spec_are_found_too():
    prometheus = {"Spec": {"Name": "monitoring_prometheus", "Networks": [{"Target": "rec_internal"}]}}
    assert removal.networks_in_use(RECORDED["networks"], [prometheus], set()) == {
        "rec_internal": ["monitoring_prometheus"]
    }


def test_no_outside_users_no_block():
    assert removal.networks_in_use(RECORDED["networks"], RECORDED["services"], set(DEPLOYED)) == {}
