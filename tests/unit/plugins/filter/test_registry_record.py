# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the registry role's record back: what toolboxes.yml and rollout.yml run alone deploy from."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.filter.registry_record import registry_record

REGISTRY = "10.0.0.11:5000"
MEMORY = f"{REGISTRY}/agentopia/mcp-memory@sha256:{'a' * 64}"
GATEWAY = f"{REGISTRY}/agentopia/gateway@sha256:{'b' * 64}"
RECORD = {
    "schema": 1,
    "registry": REGISTRY,
    "digests": {
        "agentopia/base:0.1.0": f"{REGISTRY}/agentopia/base@sha256:{'c' * 64}",
        "agentopia/gateway:0.1.0": GATEWAY,
        "agentopia/mcp-memory:0.1.0": MEMORY,
    },
    "keys": {
        "gateway": "agentopia/gateway:0.1.0",
        "memory": "agentopia/mcp-memory:0.1.0",
        "time": "agentopia/mcp-time:0.1.0",
    },
}


def test_the_record_gives_the_digests_as_registry_digests_and_the_images_by_key():
    read = registry_record(json.dumps(RECORD))
    assert read["digests"] == RECORD["digests"]
    assert read["keys"] == RECORD["keys"]
    assert read["registry"] == REGISTRY
    # What the toolbox role computes from mcp_images_refs and registry_digests, and rollout_images wants;
    # time was never pushed with a digest, so it is left out.
    assert read["images"] == {"gateway": GATEWAY, "memory": MEMORY}
    assert {k: read["digests"].get(v, v) for k, v in read["keys"].items() if k != "time"} == read["images"]


def test_a_file_that_is_not_a_record_fails_naming_it():
    with pytest.raises(
        AnsibleFilterError, match=r"tb1:/etc/agentopia/registry-published.json is not a record .* not JSON"
    ):
        registry_record("<html>", "tb1:/etc/agentopia/registry-published.json")
    with pytest.raises(AnsibleFilterError, match=r"Run playbooks/registry\.yml"):
        registry_record(json.dumps({**RECORD, "schema": 7}))
