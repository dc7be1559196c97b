"""The rollout report: rows per host, unreachable and untouched hosts, the table."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.filter.rollout_report import rollout_report, rollout_table

HOSTS = ["h1", "h2", "h3", "h4"]


def test_rows_follow_the_inventory_and_name_every_host():
    results = [
        {"host": "h2", "outcome": "started"},
        {"host": "h1", "outcome": "deployed", "before": "1.0.0", "after": "2.0.0", "seconds": "9.5"},
    ]
    rows = rollout_report(results, HOSTS, reachable=["h1", "h3", "h4"])
    assert [(r["host"], r["outcome"]) for r in rows] == [
        ("h1", "deployed"),
        ("h2", "unreachable"),
        ("h3", "untouched"),
        ("h4", "untouched"),
    ]
    assert rows[0]["after"] == "2.0.0"
    assert "unreachable" in rows[1]["error"]


def test_a_started_host_still_in_the_play_stays_started():
    assert rollout_report([{"host": "h1", "outcome": "started"}], HOSTS, HOSTS)[0]["outcome"] == "started"


def test_results_of_hosts_outside_this_run_are_kept_at_the_end():
    rows = rollout_report([{"host": "old", "outcome": "deployed"}], ["h1"], ["h1"])
    assert [r["host"] for r in rows] == ["h1", "old"]


def test_a_result_without_host_is_refused():
    with pytest.raises(AnsibleFilterError, match="without host and outcome"):
        rollout_report([{"outcome": "deployed"}], HOSTS, HOSTS)


def test_table_aligns_columns_and_leaves_missing_cells_empty():
    rows = rollout_report([{"host": "h1", "outcome": "rolled_back", "before": "2.0.0", "after": "2.0.0"}], ["h1"], [])
    lines = rollout_table(rows).splitlines()
    assert lines[0].split() == ["host", "before", "after", "outcome", "seconds", "error"]
    assert lines[2].split() == ["h1", "2.0.0", "2.0.0", "rolled_back"]
    assert lines[0].index("outcome") == lines[2].index("rolled_back")
