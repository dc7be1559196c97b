# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway's token file (token_source digests): replaced whole, readable by the gateway's group only."""

import os
import stat

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils import _token_file as token_file


@pytest.mark.integration  # chowns the file and its directory to root:10001, which needs root
def test_token_file_is_replaced_whole_with_the_gateways_group(tmp_path):
    path = tmp_path / "tokens" / "research" / "tokens"
    first = stack.token_digests(["old-token"])
    token_file.write(str(path), first)
    inode = path.stat().st_ino
    assert path.read_text() == first
    mode = path.stat()
    assert (stat.S_IMODE(mode.st_mode), mode.st_uid, mode.st_gid) == (0o640, 0, 10001)
    directory = path.parent.stat()
    assert (stat.S_IMODE(directory.st_mode), directory.st_uid, directory.st_gid) == (0o750, 0, 10001)

    second = stack.token_digests(["old-token\nnew-token"])
    token_file.write(str(path), second)
    # A new inode: the gateway, which watches inode, mtime and size, sees the whole new file at once.
    assert path.read_text() == second and path.stat().st_ino != inode
    assert os.listdir(path.parent) == ["tokens"]  # no temporary file left behind

    token_file.write(str(path), None)  # the state before the first write: no file, no directory
    assert not path.parent.exists()
