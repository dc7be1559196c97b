# SPDX-License-Identifier: GPL-3.0-or-later
"""toolbox_record as a whole module: real files in tmp_path, check mode, diff, idempotence, refusals."""

import itertools
import json
import os
import re
import stat

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _toolbox_state as state
from ansible_collections.agentopia.toolbox.plugins.modules import toolbox_record

SPEC = {"name": "research", "version": "1.0.0", "servers": [{"name": "clock", "kind": "time", "secrets": []}]}
IMAGES = {"time": "reg:5000/agentopia/mcp-time@sha256:" + "b" * 64, "gateway": "reg:5000/agentopia/gateway:1"}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """A clock that ticks one minute per reading."""
    minutes = itertools.count()
    monkeypatch.setattr(state, "utc_now", lambda: f"2026-11-25T10:{next(minutes):02d}:00Z")


@pytest.fixture(name="state_dir")
def fixture_state_dir(tmp_path):
    return tmp_path / "etc/agentopia/toolbox"


def args(state_dir, outcome="deployed", version="1.0.0", spec_hash="h1", **extra):
    spec = {**SPEC, "version": version}
    base = {"name": "research", "outcome": outcome, "version": version, "state_dir": str(state_dir)}
    if outcome in ("deployed", "rolled_back"):
        base.update(spec_hash=spec_hash, spec=spec, images=IMAGES)
    return {**base, **extra}


def on_disk(state_dir):
    return json.loads((state_dir / "research.json").read_text())


def test_deployed_writes_the_record_privately(run_module, state_dir):
    result = run_module(toolbox_record.main, args(state_dir))
    assert result["changed"] is True
    assert result["path"] == str(state_dir / "research.json")
    record = on_disk(state_dir)
    assert result["record"] == record
    assert record["schema"] == 1
    assert record["current"]["version"] == "1.0.0" and record["current"]["images"] == IMAGES
    assert record["current"]["spec"] == SPEC
    assert record["history"] == [result["entry"]]
    assert result["entry"]["outcome"] == "deployed" and result["entry"]["time"].endswith("Z")
    assert record["versions"]["1.0.0"]["spec"] == SPEC
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((state_dir / "research.json").stat().st_mode) == 0o600


def test_rerun_is_unchanged_and_leaves_the_file_untouched(run_module, state_dir):
    run_module(toolbox_record.main, args(state_dir))
    before = (state_dir / "research.json").stat()
    again = run_module(toolbox_record.main, args(state_dir))
    assert again["changed"] is False and again["entry"] is None
    after = (state_dir / "research.json").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert len(on_disk(state_dir)["history"]) == 1


def test_each_outcome_in_turn(run_module, state_dir):
    run_module(toolbox_record.main, args(state_dir, version="1.0.0", spec_hash="h1"))
    run_module(toolbox_record.main, args(state_dir, version="2.0.0", spec_hash="h2"))
    failed = run_module(
        toolbox_record.main,
        args(
            state_dir,
            outcome="failed",
            version="3.0.0",
            spec_hash="h3",
            detail="research_web: not healthy within 45 s",
            rolled_back=["research_web", "research_gateway"],
        ),
    )
    assert failed["changed"] is True
    assert failed["record"]["current"]["version"] == "2.0.0"
    assert failed["entry"]["rolled_back"] == ["research_gateway", "research_web"]
    back = run_module(toolbox_record.main, args(state_dir, outcome="rolled_back", version="1.0.0", spec_hash="h1"))
    assert back["record"]["current"]["version"] == "1.0.0"
    removed = run_module(toolbox_record.main, {"name": "research", "outcome": "removed", "state_dir": str(state_dir)})
    assert removed["changed"] is True and removed["entry"]["version"] == "1.0.0"
    record = on_disk(state_dir)
    assert record["current"] is None
    assert [(e["outcome"], e["version"]) for e in record["history"]] == [
        ("deployed", "1.0.0"),
        ("deployed", "2.0.0"),
        ("failed", "3.0.0"),
        ("rolled_back", "1.0.0"),
        ("removed", "1.0.0"),
    ]
    times = [e["time"] for e in record["history"]]
    assert times == sorted(times)
    # Only successful deployments can be deployed again.
    assert list(record["versions"]) == ["2.0.0", "1.0.0"]
    again = run_module(toolbox_record.main, {"name": "research", "outcome": "removed", "state_dir": str(state_dir)})
    assert again["changed"] is False


def test_removed_without_a_record_creates_nothing(run_module, state_dir):
    result = run_module(toolbox_record.main, {"name": "research", "outcome": "removed", "state_dir": str(state_dir)})
    assert result["changed"] is False
    assert not state_dir.exists()


def test_keep_trims_history_and_versions(run_module, state_dir):
    for number in range(1, 5):
        run_module(toolbox_record.main, args(state_dir, version=f"{number}.0", spec_hash=f"h{number}", keep=2))
    record = on_disk(state_dir)
    assert [e["version"] for e in record["history"]] == ["3.0", "4.0"]
    assert list(record["versions"]) == ["3.0", "4.0"]


def test_check_mode_predicts_and_writes_nothing(run_module, state_dir):
    predicted = run_module(toolbox_record.main, args(state_dir), check_mode=True)
    assert predicted["changed"] is True and predicted["record"]["current"]["version"] == "1.0.0"
    assert not state_dir.exists()
    run_module(toolbox_record.main, args(state_dir))
    content = (state_dir / "research.json").read_text()
    predicted = run_module(toolbox_record.main, args(state_dir, version="2.0.0", spec_hash="h2"), check_mode=True)
    assert predicted["changed"] is True and predicted["entry"]["version"] == "2.0.0"
    assert (state_dir / "research.json").read_text() == content
    unchanged = run_module(toolbox_record.main, args(state_dir), check_mode=True)
    assert unchanged["changed"] is False


def test_diff_shows_current_and_last_entry(run_module, state_dir):
    first = run_module(toolbox_record.main, args(state_dir), diff=True)
    assert first["diff"]["before"] == {"current": None, "last": None}
    assert first["diff"]["after"]["current"]["version"] == "1.0.0"
    assert first["diff"]["after"]["last"] == first["entry"]
    failed = run_module(
        toolbox_record.main, args(state_dir, outcome="failed", version="2.0.0", detail="boom"), diff=True
    )
    assert failed["diff"]["before"]["current"] == failed["diff"]["after"]["current"]
    assert failed["diff"]["before"]["last"]["outcome"] == "deployed"
    assert failed["diff"]["after"]["last"]["outcome"] == "failed"


def test_a_corrupt_file_is_refused_and_kept(run_module, state_dir):
    state_dir.mkdir(parents=True)
    path = state_dir / "research.json"
    path.write_text('{"schema": 1, "name": "research", "current": ')
    with pytest.raises(run_module.Fail) as caught:
        run_module(toolbox_record.main, args(state_dir))
    message = caught.value.result["msg"]
    assert str(path) in message and "not valid JSON" in message and "mv " in message
    assert path.read_text() == '{"schema": 1, "name": "research", "current": '
    assert os.listdir(state_dir) == ["research.json"]


def test_a_spec_of_another_version_is_refused(run_module, state_dir):
    wrong = args(state_dir, version="2.0.0", spec={**SPEC, "version": "1.0.0"})
    with pytest.raises(run_module.Fail, match=re.escape("spec.version is '1.0.0' but version is '2.0.0'")):
        run_module(toolbox_record.main, wrong)
    assert not state_dir.exists()


def test_deployed_without_a_spec_hash_is_refused(run_module, state_dir):
    incomplete = {key: value for key, value in args(state_dir).items() if key != "spec_hash"}
    with pytest.raises(run_module.Fail, match="spec_hash"):
        run_module(toolbox_record.main, incomplete)


def test_a_name_that_leaves_the_state_dir_is_refused(run_module, state_dir):
    with pytest.raises(run_module.Fail, match="is not a toolbox name"):
        run_module(toolbox_record.main, {"name": "../passwd", "outcome": "removed", "state_dir": str(state_dir)})
