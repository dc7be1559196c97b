# SPDX-License-Identifier: GPL-3.0-or-later
"""The toolbox deployment record: outcomes, trimming, files on disk, live state and drift."""

import json
import os
import stat

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils import _toolbox_state as state

SPEC = {"name": "research", "version": "1.0.0", "servers": [{"name": "clock", "kind": "time"}]}
IMAGES = {"time": "reg:5000/agentopia/mcp-time@sha256:" + "b" * 64}


def spec(version):
    return {**SPEC, "version": version}


def deployed(doc, version, spec_hash, now="2026-11-25T10:00:00Z", keep=50):
    return state.record(doc, "research", "deployed", version, spec_hash, spec(version), IMAGES, keep=keep, now=now)


def test_first_deploy_sets_current_history_and_versions():
    doc, entry = deployed(None, "1.0.0", "h1")
    assert doc["schema"] == 1 and doc["name"] == "research"
    assert doc["current"] == {
        "version": "1.0.0",
        "spec_hash": "h1",
        "since": "2026-11-25T10:00:00Z",
        "images": IMAGES,
        "spec": spec("1.0.0"),
    }
    assert doc["history"] == [entry]
    assert entry == {
        "time": "2026-11-25T10:00:00Z",
        "version": "1.0.0",
        "spec_hash": "h1",
        "outcome": "deployed",
        "detail": "",
    }
    assert doc["versions"] == {
        "1.0.0": {"spec": spec("1.0.0"), "images": IMAGES, "spec_hash": "h1", "recorded": "2026-11-25T10:00:00Z"}
    }


@pytest.mark.parametrize("outcome", ["deployed", "rolled_back"])
def test_recording_what_is_current_again_adds_nothing(outcome):
    doc, _entry = deployed(None, "1.0.0", "h1")
    again, entry = state.record(doc, "research", outcome, "1.0.0", "h1", spec("1.0.0"), IMAGES, now="later")
    assert entry is None
    assert again == doc


def test_same_version_with_another_hash_is_a_new_deployment():
    doc, _entry = deployed(None, "1.0.0", "h1")
    doc, entry = deployed(doc, "1.0.0", "h2", now="2026-11-25T11:00:00Z")
    assert entry["spec_hash"] == "h2"
    assert doc["current"]["spec_hash"] == "h2" and doc["current"]["since"] == "2026-11-25T11:00:00Z"
    assert doc["versions"]["1.0.0"]["spec_hash"] == "h2"
    assert len(doc["history"]) == 2


def test_failed_leaves_current_and_versions_alone():
    doc, _entry = deployed(None, "1.0.0", "h1")
    after, entry = state.record(
        doc, "research", "failed", "2.0.0", "h2", detail="boom", rolled_back=["research_web"], now="t2"
    )
    assert after["current"] == doc["current"]
    assert after["versions"] == doc["versions"]
    assert entry == {
        "time": "t2",
        "version": "2.0.0",
        "spec_hash": "h2",
        "outcome": "failed",
        "detail": "boom",
        "rolled_back": ["research_web"],
    }
    assert after["history"][-1] == entry


def test_failed_twice_is_two_events():
    doc, _entry = state.record(None, "research", "failed", "1.0.0", now="t1")
    doc, entry = state.record(doc, "research", "failed", "1.0.0", now="t2")
    assert entry is not None and [e["time"] for e in doc["history"]] == ["t1", "t2"]
    assert doc["current"] is None and doc["versions"] == {}


def test_rolled_back_makes_an_older_version_current_again():
    doc, _entry = deployed(None, "1.0.0", "h1", now="t1")
    doc, _entry = deployed(doc, "2.0.0", "h2", now="t2")
    doc, entry = state.record(doc, "research", "rolled_back", "1.0.0", "h1", spec("1.0.0"), IMAGES, now="t3")
    assert entry["outcome"] == "rolled_back"
    assert doc["current"]["version"] == "1.0.0" and doc["current"]["since"] == "t3"
    # Versions stay in recording order: the one rolled back to is now the newest.
    assert list(doc["versions"]) == ["2.0.0", "1.0.0"]


def test_rolled_back_to_the_current_version_after_a_failure_is_recorded_once():
    # A rollout: 2.0.0 failed its gate, then 1.0.0 (still current) was deployed again.
    doc, _entry = deployed(None, "1.0.0", "h1", now="t1")
    doc, _entry = state.record(doc, "research", "failed", "2.0.0", "h2", now="t2")
    doc, entry = state.record(doc, "research", "rolled_back", "1.0.0", "h1", spec("1.0.0"), IMAGES, now="t3")
    assert entry["outcome"] == "rolled_back" and doc["current"]["since"] == "t3"
    assert [e["outcome"] for e in doc["history"]] == ["deployed", "failed", "rolled_back"]
    again, entry = state.record(doc, "research", "rolled_back", "1.0.0", "h1", spec("1.0.0"), IMAGES, now="t4")
    assert entry is None and again == doc
    # deployed after a failure, with what is current, is a rerun of the old spec: nothing new.
    doc, _entry = state.record(doc, "research", "failed", "2.0.0", "h2", now="t5")
    again, entry = deployed(doc, "1.0.0", "h1", now="t6")
    assert entry is None and again == doc


def test_removed_clears_current_once():
    doc, _entry = deployed(None, "1.0.0", "h1")
    doc, entry = state.record(doc, "research", "removed", now="t2")
    assert doc["current"] is None
    assert entry == {"time": "t2", "version": "1.0.0", "spec_hash": "h1", "outcome": "removed", "detail": ""}
    assert "1.0.0" in doc["versions"]  # still there to deploy again
    again, entry = state.record(doc, "research", "removed", now="t3")
    assert entry is None and again == doc


def test_removed_without_any_record_records_nothing():
    doc, entry = state.record(None, "research", "removed", now="t1")
    assert entry is None and doc == state.empty("research")


def test_removed_after_a_failed_first_deploy_is_recorded():
    doc, _entry = state.record(None, "research", "failed", "1.0.0", now="t1")
    doc, entry = state.record(doc, "research", "removed", now="t2")
    assert entry["outcome"] == "removed" and entry["version"] == ""


def test_history_and_versions_are_trimmed_to_keep():
    doc = None
    for number in range(1, 6):
        doc, _entry = deployed(doc, f"{number}.0.0", f"h{number}", now=f"t{number}", keep=3)
    assert [e["version"] for e in doc["history"]] == ["3.0.0", "4.0.0", "5.0.0"]
    assert list(doc["versions"]) == ["3.0.0", "4.0.0", "5.0.0"]


def test_a_clock_that_steps_back_never_drops_the_current_version():
    doc, _entry = deployed(None, "1.0.0", "h1", now="2026-11-25T10:00:00Z", keep=1)
    doc, _entry = deployed(doc, "2.0.0", "h2", now="2020-01-01T00:00:00Z", keep=1)
    assert list(doc["versions"]) == ["2.0.0"]


def test_long_detail_is_truncated():
    _doc, entry = state.record(None, "research", "failed", "1.0.0", detail="x" * 5000, now="t1")
    assert len(entry["detail"]) == state.DETAIL_MAX and entry["detail"].endswith("[truncated]")


def test_record_does_not_change_its_input():
    doc, _entry = deployed(None, "1.0.0", "h1")
    snapshot = json.dumps(doc)
    deployed(doc, "2.0.0", "h2")
    state.record(doc, "research", "removed")
    assert json.dumps(doc) == snapshot


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "deployed", "version": "1.0.0", "spec_hash": None, "spec": SPEC}, "needs version, spec_hash"),
        ({"outcome": "rolled_back", "version": "1.0.0", "spec_hash": "h", "spec": None}, "needs version, spec_hash"),
        ({"outcome": "failed", "version": None}, "needs the version"),
        ({"outcome": "exploded", "version": "1"}, "not one of deployed"),
        ({"outcome": "failed", "version": "1", "keep": 0}, "keep at least 1"),
    ],
)
def test_incomplete_calls_are_refused(kwargs, message):
    with pytest.raises(state.StateError, match=message):
        state.record(None, "research", **kwargs)


@pytest.mark.parametrize("name", ["../etc", "Research", "a/b", "", "x" * 24])
def test_names_that_are_not_toolbox_names_are_refused(tmp_path, name):
    with pytest.raises(state.StateError, match="is not a toolbox name"):
        state.state_path(str(tmp_path), name)


# --- files ---------------------------------------------------------------------------------------


def test_write_creates_private_dir_and_file_and_load_reads_it_back(tmp_path):
    directory = tmp_path / "etc/agentopia/toolbox"
    path = state.state_path(str(directory), "research")
    doc, _entry = deployed(None, "1.0.0", "h1")
    state.write(path, doc)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert state.load(path, "research") == doc
    assert os.listdir(directory) == ["research.json"]  # no temporary file left behind


def test_write_tightens_a_loose_directory(tmp_path):
    tmp_path.chmod(0o755)
    state.write(state.state_path(str(tmp_path), "research"), state.empty("research"))
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700


def test_write_replaces_the_file_by_rename(tmp_path):
    path = state.state_path(str(tmp_path), "research")
    state.write(path, state.empty("research"))
    before = os.stat(path).st_ino
    doc, _entry = deployed(None, "1.0.0", "h1")
    state.write(path, doc)
    # A new inode: readers see the old file or the new one, never a file being rewritten in place.
    assert os.stat(path).st_ino != before
    assert state.load(path, "research") == doc


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = state.state_path(str(tmp_path), "research")
    state.write(path, state.empty("research"))

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(state.os, "replace", refuse)
    with pytest.raises(state.StateError, match=r"cannot write the toolbox state file .*No space left"):
        state.write(path, deployed(None, "1.0.0", "h1")[0])
    assert state.load(path, "research") == state.empty("research")
    assert os.listdir(tmp_path) == ["research.json"]


def test_load_of_a_missing_file_is_none(tmp_path):
    assert state.load(str(tmp_path / "research.json"), "research") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"schema": 2, "name": "research"}', "schema is 2"),
        ('{"schema": 1, "name": "other", "current": null, "history": [], "versions": {}}', "records toolbox 'other'"),
        ('{"schema": 1, "name": "research", "current": 3, "history": [], "versions": {}}', "'current'"),
        ('{"schema": 1, "name": "research", "current": null, "history": {}, "versions": {}}', "'history'"),
        ('{"schema": 1, "name": "research", "current": null, "history": [], "versions": []}', "'versions'"),
    ],
)
def test_a_file_that_is_not_a_record_is_refused_with_the_fix(tmp_path, text, problem):
    path = tmp_path / "research.json"
    path.write_text(text)
    with pytest.raises(state.StateError) as caught:
        state.load(str(path), "research")
    message = str(caught.value)
    assert str(path) in message and problem in message
    assert f"mv {path} {path}.corrupt" in message and "docs/state.md" in message
    assert path.read_text() == text


def test_an_unreadable_file_names_the_fix(tmp_path):
    (tmp_path / "research.json").mkdir()
    with pytest.raises(state.StateError, match=r"cannot read the toolbox state file .*research\.json"):
        state.load(str(tmp_path / "research.json"), "research")


def test_recorded_names_skips_temporaries_and_strangers(tmp_path):
    for name in ["research.json", "web.json", ".research.json.abc.tmp", "notes.txt", "Bad.json"]:
        (tmp_path / name).write_text("{}")
    assert state.recorded_names(str(tmp_path)) == ["research", "web"]
    assert state.recorded_names(str(tmp_path / "missing")) == []


def test_locked_excludes_a_second_holder(tmp_path):
    import fcntl

    with state.locked(str(tmp_path / "state")):
        fd = os.open(tmp_path / "state", os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(tmp_path / "state", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released on leaving
    finally:
        os.close(fd)


# --- live state and drift ------------------------------------------------------------------------


def service(name, toolbox="research", version="1.0.0", spec_hash="a1", server=None):
    labels = {
        stack.TOOLBOX_LABEL: toolbox,
        stack.SERVER_LABEL: server or name.split("_", 1)[1],
        stack.VERSION_LABEL: version,
        stack.HASH_LABEL: spec_hash,
    }
    return {"ID": name, "Spec": {"Name": name, "Labels": labels}}


def test_live_toolboxes_groups_services_and_hashes_like_toolbox_stack():
    services = [service("research_clock", spec_hash="a1"), service("research_gateway", spec_hash="a2")]
    services.append(service("web_gateway", toolbox="web", version="3", spec_hash="b1"))
    live = state.live_toolboxes(services)
    assert set(live) == {"research", "web"}
    assert live["research"]["version"] == "1.0.0"
    assert live["research"]["services"]["research_clock"] == {"server": "clock", "version": "1.0.0", "spec_hash": "a1"}
    # The same function toolbox_stack returns its spec_hash with, over the same labels.
    specs = {s["Spec"]["Name"]: s["Spec"] for s in services[:2]}
    assert live["research"]["spec_hash"] == stack.stack_hash(specs)


def test_live_version_is_null_while_services_disagree():
    live = state.live_toolboxes([service("research_clock", version="1"), service("research_gateway", version="2")])
    assert live["research"]["version"] is None


def test_services_without_the_toolbox_label_are_ignored():
    assert state.live_toolboxes([{"ID": "x", "Spec": {"Name": "other", "Labels": {}}}]) == {}


CURRENT = {"version": "1.0.0", "spec_hash": "h1"}


@pytest.mark.parametrize(
    ("current", "live", "expected", "reason"),
    [
        (None, None, False, None),
        (CURRENT, {"version": "1.0.0", "spec_hash": "h1", "services": {}}, False, None),
        (None, {"version": "1.0.0", "spec_hash": "h1", "services": {}}, True, "no deployment is recorded"),
        (CURRENT, None, True, "no service of it is live"),
        (CURRENT, {"version": "2.0.0", "spec_hash": "h1", "services": {}}, True, "live version 2.0.0"),
        (CURRENT, {"version": "1.0.0", "spec_hash": "h9", "services": {}}, True, "live spec_hash h9"),
        (
            CURRENT,
            {"version": None, "spec_hash": "h1", "services": {"a": {"version": "1"}, "b": {"version": "2"}}},
            True,
            "different versions (1, 2)",
        ),
    ],
)
def test_drift(current, live, expected, reason):
    found, reasons = state.drift(current, live)
    assert found is expected
    if reason:
        assert any(reason in text for text in reasons), reasons
    else:
        assert reasons == []


def test_diff_view():
    assert state.diff_view(None) == {"current": None, "last": None}
    doc, entry = deployed(None, "1.0.0", "h1")
    assert state.diff_view(doc) == {"current": doc["current"], "last": entry}
