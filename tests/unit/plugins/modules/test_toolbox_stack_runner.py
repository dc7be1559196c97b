# SPDX-License-Identifier: GPL-3.0-or-later
"""toolbox_stack's main() through the shared runner: its failures keep the result built so far."""

import pytest
from ansible_collections.agentopia.toolbox.plugins.modules import toolbox_stack
from docker.errors import APIError

SPEC = {"name": "lab", "version": "1", "servers": []}


class RefusingApi:
    """The engine answers the service listing, then refuses to list the toolbox's networks."""

    def services(self, filters=None):
        return [{"Spec": {"Name": "lab_clock", "Labels": {}}}]

    def networks(self, names):
        raise APIError("503 Server Error: the swarm has no leader")


class FakeClient:
    api = RefusingApi()


@pytest.fixture(autouse=True)
def engine(monkeypatch):
    monkeypatch.setattr(toolbox_stack, "docker_client", lambda host, timeout: FakeClient())


def test_an_engine_refusal_part_way_reports_what_was_planned(run_module):
    with pytest.raises(run_module.Fail) as failed:
        run_module(toolbox_stack.main, {"spec": SPEC, "state": "absent", "purge": True})
    result = failed.value.result
    assert result["msg"] == "toolbox_stack: the Docker engine refused: 503 Server Error: the swarm has no leader"
    assert result["actions"] == {"lab_clock": "remove"}
    assert result["changed"] is False


def test_a_spec_without_a_name_is_one_failure(run_module):
    with pytest.raises(run_module.Fail) as failed:
        run_module(toolbox_stack.main, {"spec": {"version": "1"}})
    assert failed.value.result == {
        "msg": "toolbox_stack: spec.name is missing; pass the spec returned by toolbox_validate"
    }
