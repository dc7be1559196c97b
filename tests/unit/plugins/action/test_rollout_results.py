# SPDX-License-Identifier: GPL-3.0-or-later
"""rollout_results: the rollout's report directory on the controller, as a run uses it batch by batch."""

import json
import stat

import pytest
from action_runner import run_action
from ansible_collections.agentopia.toolbox.plugins.action.rollout_results import ActionModule


def run(args, check_mode=False):
    return run_action(ActionModule, args, check_mode)


def result(host, outcome, **more):
    return {"host": host, "outcome": outcome, "toolbox": "fleet", "target": "2.0.0", **more}


def test_a_run_batch_by_batch(tmp_path):
    report_dir = tmp_path / "reports"
    hosts = ["node1", "node2", "node3"]
    first = run({"dir": str(report_dir), "set_aside": True, "result": result("node1", "started")})
    assert first == {"changed": False, "set_aside": None, "path": str(report_dir / "hosts/node1.json")}
    run({"dir": str(report_dir), "result": result("node1", "deployed", before="1.0.0", after="2.0.0", seconds=12.5)})
    written = run({"dir": str(report_dir), "report": True, "hosts": hosts, "reachable": hosts})
    assert [row["outcome"] for row in written["report"]] == ["deployed", "untouched", "untouched"]
    assert json.loads((report_dir / "report.json").read_text()) == written["report"]
    assert (report_dir / "report.txt").read_text() == written["table"] + "\n"
    assert written["table"].splitlines()[2].split() == ["node1", "1.0.0", "2.0.0", "deployed", "12.5"]

    # The second batch: node2 started and then dropped out of the play.
    run({"dir": str(report_dir), "result": result("node2", "started")})
    written = run({"dir": str(report_dir), "report": True, "hosts": hosts, "reachable": ["node1", "node3"]})
    assert [row["outcome"] for row in written["report"]] == ["deployed", "unreachable", "untouched"]
    assert written["changed"] is False

    # Files are the operator's: not world-readable, the directories not world-listable, no temporary left.
    for path in [report_dir / "report.json", report_dir / "report.txt", report_dir / "hosts/node1.json"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE((report_dir / "hosts").stat().st_mode) & 0o007 == 0
    assert sorted(p.name for p in (report_dir / "hosts").iterdir()) == ["node1.json", "node2.json"]

    # A new run sets the earlier results aside: its report starts from nothing, the old files are kept.
    again = run({"dir": str(report_dir), "set_aside": True, "result": result("node1", "started")}, check_mode=True)
    assert again["set_aside"].startswith(str(report_dir / "hosts."))
    assert sorted(p.name for p in (report_dir / "hosts").iterdir()) == ["node1.json"]
    assert json.loads((report_dir / again["set_aside"] / "node2.json").read_text())["outcome"] == "started"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"result": {"host": "n", "outcome": "x"}}, "dir is required"),
        ({"dir": "D"}, "nothing to do"),
        ({"dir": "D", "result": {"outcome": "started"}}, "result.host must be"),
        ({"dir": "D", "result": {"host": "../etc", "outcome": "started"}}, "result.host must be"),
        ({"dir": "D", "result": {"host": "n"}}, "result.outcome must be"),
        ({"dir": "D", "result": "started"}, "result must be a mapping"),
        ({"dir": "D", "report": True, "hosts": ["a"]}, "reachable must be a list"),
        ({"dir": "D", "report": True, "reachable": ["a"], "hosts": "a"}, "hosts must be a list"),
        ({"dir": "D", "reprot": True}, "unknown option(s) reprot"),
    ],
)
def test_bad_arguments_name_the_field_and_write_nothing(tmp_path, args, message):
    args = {k: (str(tmp_path / v) if k == "dir" else v) for k, v in args.items()}
    outcome = run(args)
    assert outcome["failed"] is True and outcome["changed"] is False
    assert message in outcome["msg"]
    assert not list(tmp_path.iterdir())


def test_an_unreadable_result_file_is_named(tmp_path):
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts/node1.json").write_text("{not json")
    outcome = run({"dir": str(tmp_path), "report": True, "hosts": ["node1"], "reachable": ["node1"]})
    assert outcome["failed"] is True
    assert "hosts/node1.json: not a readable result file" in outcome["msg"]
    assert not (tmp_path / "report.json").exists()
