# SPDX-License-Identifier: GPL-3.0-or-later
"""host_files on real files in tmp_path: one call keeps directories, contents and attributes."""

import os
import stat

import pytest
from ansible_collections.agentopia.toolbox.plugins.modules import host_files

ME = str(os.getuid())


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def entries(tmp_path, content='{"icc": false}\n'):
    return [
        {"path": str(tmp_path / "etc"), "state": "directory", "mode": "0755"},
        {"path": str(tmp_path / "etc/daemon.json"), "content": content, "owner": ME, "mode": "0644"},
        {"path": str(tmp_path / "etc/key"), "content": "secret\n", "mode": "0400", "diff": False},
    ]


def all_paths(tmp_path):
    return [str(tmp_path / "etc"), str(tmp_path / "etc/daemon.json"), str(tmp_path / "etc/key")]


def test_first_run_makes_everything_and_a_rerun_changes_nothing(run_module, tmp_path):
    first = run_module(host_files.main, {"files": entries(tmp_path)}, diff=True)
    assert first["changed"] is True
    assert first["changed_paths"] == all_paths(tmp_path)
    assert (tmp_path / "etc/daemon.json").read_text() == '{"icc": false}\n'
    assert mode_of(tmp_path / "etc") == 0o755
    assert mode_of(tmp_path / "etc/daemon.json") == 0o644
    assert mode_of(tmp_path / "etc/key") == 0o400
    assert sorted(os.listdir(tmp_path / "etc")) == ["daemon.json", "key"]  # no temporary file left
    # The hidden file's content stays out of the diff.
    assert "secret" not in str(first["diff"])
    assert first["diff"][1]["after"] == '{"icc": false}\n'

    again = run_module(host_files.main, {"files": entries(tmp_path)}, diff=True)
    assert again == {"changed": False, "changed_paths": [], "diff": []}


def test_only_the_changed_content_is_written_and_reported(run_module, tmp_path):
    run_module(host_files.main, {"files": entries(tmp_path)})
    key_inode = os.stat(tmp_path / "etc/key").st_ino
    result = run_module(host_files.main, {"files": entries(tmp_path, '{"icc": true}\n')}, diff=True)
    assert result["changed_paths"] == [str(tmp_path / "etc/daemon.json")]
    assert result["diff"][0]["before"] == '{"icc": false}\n'
    assert result["diff"][0]["after"] == '{"icc": true}\n'
    assert (tmp_path / "etc/daemon.json").read_text() == '{"icc": true}\n'
    assert os.stat(tmp_path / "etc/key").st_ino == key_inode


def test_check_mode_reports_and_writes_nothing(run_module, tmp_path):
    result = run_module(host_files.main, {"files": entries(tmp_path)}, check_mode=True)
    assert result["changed_paths"] == all_paths(tmp_path)
    assert not (tmp_path / "etc").exists()

    run_module(host_files.main, {"files": entries(tmp_path)})
    os.chmod(tmp_path / "etc/daemon.json", 0o666)
    drift = run_module(host_files.main, {"files": entries(tmp_path)}, check_mode=True)
    assert drift["changed_paths"] == [str(tmp_path / "etc/daemon.json")]
    assert mode_of(tmp_path / "etc/daemon.json") == 0o666


def test_attributes_fix_modes_of_existing_paths_and_skip_missing_ones(run_module, tmp_path):
    unit = tmp_path / "docker.service"
    unit.write_text("[Unit]\n")
    os.chmod(unit, 0o666)
    files = [
        {"path": str(unit), "state": "attributes", "mode": "0644"},
        {"path": str(tmp_path / "absent.socket"), "state": "attributes", "mode": "0644"},
    ]
    result = run_module(host_files.main, {"files": files})
    assert result["changed_paths"] == [str(unit)]
    assert mode_of(unit) == 0o644
    assert unit.read_text() == "[Unit]\n"
    assert not (tmp_path / "absent.socket").exists()
    assert run_module(host_files.main, {"files": files})["changed"] is False


def test_a_failed_validation_writes_nothing_at_all(run_module, tmp_path):
    files = [
        {"path": str(tmp_path / "first.conf"), "content": "one\n", "mode": "0644"},
        {"path": str(tmp_path / "daemon.json"), "content": "{not json\n", "validate": "python3 -m json.tool %s"},
    ]
    with pytest.raises(run_module.Fail) as failed:
        run_module(host_files.main, {"files": files})
    message = failed.value.result["msg"]
    assert str(tmp_path / "daemon.json") in message
    assert "nothing was written" in message
    assert os.listdir(tmp_path) == []

    files[1]["content"] = '{"icc": false}\n'
    written = run_module(host_files.main, {"files": files})
    assert written["changed_paths"] == [str(tmp_path / "first.conf"), str(tmp_path / "daemon.json")]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"path": "relative.conf", "content": "x"}, "must be absolute"),
        ({"path": "/tmp/x.conf"}, "content is required for state=file"),
        ({"path": "/tmp/x", "state": "directory", "content": "x"}, "content is required for state=file and only"),
        ({"path": "/tmp/x.conf", "content": "x", "mode": "rw-r--r--"}, "mode must be octal"),
    ],
)
def test_bad_entries_fail_naming_the_path_and_the_fix(run_module, tmp_path, entry, expected):
    with pytest.raises(run_module.Fail) as failed:
        run_module(host_files.main, {"files": [entry]})
    assert expected in failed.value.result["msg"]
    assert entry["path"] in failed.value.result["msg"]


def test_a_file_where_a_directory_should_be_is_refused(run_module, tmp_path):
    (tmp_path / "etc").write_text("")
    with pytest.raises(run_module.Fail) as failed:
        run_module(host_files.main, {"files": [{"path": str(tmp_path / "etc"), "state": "directory"}]})
    assert "is not a directory" in failed.value.result["msg"]


def test_a_directory_gets_its_missing_parents(run_module, tmp_path):
    nested = tmp_path / "etc/agentopia/registry"
    result = run_module(host_files.main, {"files": [{"path": str(nested), "state": "directory", "mode": "0750"}]})
    assert result["changed_paths"] == [str(nested)]
    assert mode_of(nested) == 0o750
    assert nested.parent.is_dir()
