# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Replacing a file in one rename (private to the collection)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile

PARENT_MODE = 0o755


def write_atomically(
    path: str | os.PathLike[str],
    data: bytes | str,
    mode: int = 0o644,
    owner: tuple[int, int] | None = None,
    keep_owner_and_mode: bool = False,
    make_parents: bool = False,
) -> None:
    """Replace path with data (a str is written as UTF-8): a temporary file in the same directory is written,
    flushed to disk, given its mode and owner, then renamed over path. A reader sees the old file or the new one,
    never half of one; a failure removes the temporary file and leaves the old file as it was.

    mode: the file's mode, whatever the umask. owner: (uid, gid), or None to leave the writer's.
    keep_owner_and_mode: when path exists, the new file takes its mode and owner instead (the owner only as far as
    the writer may give it: not root, the file stays the writer's, as atomic_move does).
    make_parents: create the missing parent directories, each 0755 whatever the umask.
    OSError is raised as it comes; the caller says which file it could not write.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if make_parents:
        _make_parents(directory)
    if isinstance(data, str):
        data = data.encode("utf-8")
    keep = None
    if keep_owner_and_mode:
        with contextlib.suppress(FileNotFoundError):
            keep = os.stat(path)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if keep is not None:
                try:
                    os.fchown(handle.fileno(), keep.st_uid, keep.st_gid)
                except OSError as exc:
                    if exc.errno != errno.EPERM:
                        raise
                os.fchmod(handle.fileno(), keep.st_mode & 0o7777)
            else:
                if owner is not None:
                    os.fchown(handle.fileno(), *owner)
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def read_if_present(path: str | os.PathLike[str]) -> bytes | None:
    """The file's bytes, or None when there is no such file; any other OSError is raised as it comes."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _make_parents(directory: str) -> None:
    """Create directory and its missing parents, each PARENT_MODE whatever the umask."""
    missing = []
    while not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for created in reversed(missing):
        os.mkdir(created)
        os.chmod(created, PARENT_MODE)
