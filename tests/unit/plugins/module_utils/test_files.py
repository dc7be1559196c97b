# SPDX-License-Identifier: GPL-3.0-or-later
"""write_atomically: a file replaced in one rename, with its mode and owner, and nothing left when it fails."""

import errno
import os
import stat

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _files as files
from ansible_collections.agentopia.toolbox.plugins.module_utils._files import write_atomically


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def chowns(monkeypatch):
    """The (uid, gid) the helper gives the file, without needing root to give them."""
    calls = []
    monkeypatch.setattr(files.os, "fchown", lambda fd, uid, gid: calls.append((uid, gid)))
    return calls


def test_a_new_file_has_the_data_and_the_mode(tmp_path):
    path = tmp_path / "record.json"
    write_atomically(str(path), b"{}\n", mode=0o640)
    assert path.read_bytes() == b"{}\n"
    assert mode_of(path) == 0o640
    assert os.listdir(tmp_path) == ["record.json"]


def test_the_default_mode_is_0644_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        write_atomically(tmp_path / "record.json", "x")
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "record.json") == 0o644


def test_a_str_is_written_as_utf8(tmp_path):
    path = tmp_path / "note.txt"
    write_atomically(str(path), "café\n")
    assert path.read_bytes() == "café\n".encode()


def test_a_file_is_replaced_by_rename_with_the_new_mode(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("old")
    path.chmod(0o600)
    before = os.stat(path).st_ino
    write_atomically(str(path), "new", mode=0o644)
    # A new inode: a reader has the old file or the new one, never one being rewritten in place.
    assert os.stat(path).st_ino != before
    assert path.read_text() == "new"
    assert mode_of(path) == 0o644
    assert os.listdir(tmp_path) == ["record.json"]


def test_keep_owner_and_mode_keeps_the_old_files(tmp_path, chowns):
    path = tmp_path / "htpasswd"
    path.write_text("old")
    path.chmod(0o440)
    old = os.stat(path)
    write_atomically(str(path), b"new", mode=0o600, owner=(1, 2), keep_owner_and_mode=True)
    assert path.read_bytes() == b"new"
    assert mode_of(path) == 0o440
    assert chowns == [(old.st_uid, old.st_gid)]


def test_keep_owner_and_mode_of_a_new_file_takes_mode_and_owner(tmp_path, chowns):
    path = tmp_path / "htpasswd"
    write_atomically(str(path), b"new", mode=0o600, keep_owner_and_mode=True)
    assert mode_of(path) == 0o600
    assert chowns == []
    write_atomically(str(tmp_path / "tokens"), "t", mode=0o640, owner=(0, 10001), keep_owner_and_mode=True)
    assert chowns == [(0, 10001)]


def test_an_owner_the_writer_may_not_give_is_left_when_keeping(tmp_path, monkeypatch):
    def refuse(fd, uid, gid):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    path = tmp_path / "htpasswd"
    path.write_text("old")
    path.chmod(0o400)
    monkeypatch.setattr(files.os, "fchown", refuse)
    write_atomically(str(path), b"new", keep_owner_and_mode=True)
    assert (path.read_bytes(), mode_of(path)) == (b"new", 0o400)
    # Asked for by name, the owner is not optional.
    with pytest.raises(PermissionError):
        write_atomically(str(tmp_path / "tokens"), "t", owner=(0, 10001))
    assert sorted(os.listdir(tmp_path)) == ["htpasswd"]


@pytest.mark.integration  # gives the files another owner, which needs root
def test_owner_and_kept_owner_on_disk(tmp_path):
    path = tmp_path / "tokens"
    write_atomically(str(path), "t", mode=0o640, owner=(0, 10001))
    assert (os.stat(path).st_uid, os.stat(path).st_gid, mode_of(path)) == (0, 10001, 0o640)
    os.chown(path, 10001, 10002)
    write_atomically(str(path), "u", keep_owner_and_mode=True)
    assert (os.stat(path).st_uid, os.stat(path).st_gid, mode_of(path)) == (10001, 10002, 0o640)


@pytest.mark.parametrize("step", ["replace", "fsync"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, step):
    path = tmp_path / "record.json"
    path.write_text("old")

    def fail(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, step, fail)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(str(path), "new")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["record.json"]


def test_make_parents_creates_every_missing_directory_0755(tmp_path):
    path = tmp_path / "a" / "b" / "record.json"
    old = os.umask(0o077)
    try:
        write_atomically(str(path), "x", make_parents=True)
    finally:
        os.umask(old)
    assert path.read_text() == "x"
    assert mode_of(tmp_path / "a") == mode_of(tmp_path / "a" / "b") == 0o755
    # An existing directory keeps its mode.
    (tmp_path / "c").mkdir(mode=0o700)
    write_atomically(str(tmp_path / "c" / "record.json"), "x", make_parents=True)
    assert mode_of(tmp_path / "c") == 0o700


def test_without_make_parents_a_missing_directory_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomically(str(tmp_path / "missing" / "record.json"), "x")
    assert os.listdir(tmp_path) == []
