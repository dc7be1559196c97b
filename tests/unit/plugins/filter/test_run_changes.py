# SPDX-License-Identifier: GPL-3.0-or-later
"""run_changes on reports shaped as the json stdout callback (collection ansible.posix) prints them."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.filter.run_changes import run_changes

REPORT = {
    "plays": [
        {
            "play": {"name": "Images"},
            "tasks": [
                {
                    "task": {"name": "agentopia.toolbox.mcp_images : Build agentopia/mcp-time:0.1.0"},
                    "hosts": {"molecule-tb1": {"action": "ansible.builtin.debug", "changed": True}},
                },
                {
                    "task": {"name": "agentopia.toolbox.mcp_images : Read the images"},
                    "hosts": {"molecule-tb1": {"action": "agentopia.toolbox.image_state", "changed": False}},
                },
            ],
        },
        {
            "play": {"name": "Toolboxes"},
            "tasks": [
                {
                    "task": {"name": "agentopia.toolbox.toolbox : Deploy each toolbox"},
                    "hosts": {
                        "molecule-tb1": {"changed": True, "results": [{"actions": {"research_clock": "update"}}]},
                        "molecule-tb2": {"skipped": True, "changed": False},
                    },
                },
                {
                    "task": {"name": "check the gateway"},
                    "hosts": {"molecule-tb3": {"failed": True, "msg": "refused"}, "molecule-tb2": {"changed": True}},
                },
            ],
        },
    ],
    "stats": {},
}


def test_every_changed_result_by_host_and_task_in_run_order():
    changes = run_changes(REPORT)
    assert [label for label, _result in changes] == [
        "molecule-tb1: agentopia.toolbox.mcp_images : Build agentopia/mcp-time:0.1.0",
        "molecule-tb1: agentopia.toolbox.toolbox : Deploy each toolbox",
        "molecule-tb2: check the gateway",
    ]
    assert changes[1][1]["results"] == [{"actions": {"research_clock": "update"}}]


def test_failed_lists_the_failures_instead():
    assert run_changes(REPORT, failed=True) == [["molecule-tb3: check the gateway", {"failed": True, "msg": "refused"}]]


def test_a_run_that_changed_nothing_lists_nothing():
    assert run_changes({"plays": [{"tasks": [{"task": {"name": "t"}, "hosts": {"h": {"changed": False}}}]}]}) == []


@pytest.mark.parametrize("report", [None, "{}", {"stats": {}}, {"plays": "no"}])
def test_anything_but_a_report_is_refused_with_the_fix(report):
    with pytest.raises(AnsibleFilterError, match="json stdout callback"):
        run_changes(report)
