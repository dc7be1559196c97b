# SPDX-License-Identifier: GPL-3.0-or-later
"""image_contexts over a small plan on disk: hashes chained through the plan, archives only for the keys asked."""

import tarfile

from action_runner import run_action
from ansible_collections.agentopia.toolbox.plugins.action import image_contexts
from ansible_collections.agentopia.toolbox.plugins.action.image_contexts import ActionModule

PLAN = [
    {"key": "runtime", "ref": "ns/runtime:1", "from": "base:1", "files": ["x.sh"]},
    {"key": "gateway", "ref": "ns/gateway:1", "from": "ns/runtime:1", "tree": "gateway"},
    {"key": "other", "ref": "ns/other:1", "from": "base:1"},
]


def layout(root):
    (root / "files").mkdir()
    (root / "files/x.sh").write_text("echo\n")
    (root / "services/gateway/src/gw").mkdir(parents=True)
    (root / "services/gateway/src/gw/m.py").write_text("x = 1\n")
    (root / "services/gateway/tests").mkdir()
    (root / "services/gateway/tests/test_m.py").write_text("x = 2\n")


def args(root, **extra):
    return {
        "images": PLAN,
        "dockerfiles": {entry["key"]: f"FROM {entry['from']}\n" for entry in PLAN},
        "files_dir": str(root / "files"),
        "services_dir": str(root / "services"),
        "bases": {"base:1": "inputs:b"},
        **extra,
    }


def test_a_role_file_changes_its_image_and_those_built_from_it(tmp_path):
    layout(tmp_path)
    before = run_action(ActionModule, args(tmp_path), False)
    assert before["changed"] is False and before["archives"] == {}
    (tmp_path / "services/gateway/tests/test_m.py").write_text("changed, but never in an image\n")
    assert run_action(ActionModule, args(tmp_path), False)["inputs"] == before["inputs"]
    (tmp_path / "files/x.sh").write_text("echo changed\n")
    after = run_action(ActionModule, args(tmp_path), False)["inputs"]
    assert sorted(k for k in after if after[k] != before["inputs"][k]) == ["gateway", "runtime"]


def test_it_packs_only_the_keys_asked(tmp_path):
    layout(tmp_path)
    (tmp_path / "out").mkdir()
    result = run_action(ActionModule, args(tmp_path, archive=["gateway"], archive_dir=str(tmp_path / "out")), False)
    assert list(result["archives"]) == ["gateway"]
    with tarfile.open(result["archives"]["gateway"]) as archive:
        assert [m.name for m in archive.getmembers() if m.isfile()] == ["Dockerfile", "gateway/src/gw/m.py"]


def test_errors_name_the_field_and_the_fix(tmp_path):
    layout(tmp_path)
    result = run_action(ActionModule, args(tmp_path, archive=["gateway"]), False)
    assert result["failed"] and "archive_dir must be an existing folder" in result["msg"]
    result = run_action(ActionModule, {**args(tmp_path), "bases": {}}, False)
    assert result["failed"] and "runtime: its from base:1 is neither" in result["msg"]
    result = run_action(ActionModule, {**args(tmp_path), "dockerfiles": {}}, False)
    assert result["failed"] and "no Dockerfile for image runtime" in result["msg"]
    assert "unknown option(s) bogus" in run_action(ActionModule, {**args(tmp_path), "bogus": 1}, False)["msg"]


def test_an_archive_that_cannot_be_written_leaves_no_partial_file(tmp_path, monkeypatch):
    layout(tmp_path)
    (tmp_path / "out").mkdir()

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(image_contexts, "write_archive", disk_full)
    result = run_action(ActionModule, args(tmp_path, archive=["gateway"], archive_dir=str(tmp_path / "out")), False)
    assert result["failed"] is True
    assert result["msg"] == "image_contexts: cannot write an archive: [Errno 28] No space left on device"
    assert list((tmp_path / "out").iterdir()) == []
