# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway's token file on the deploying node (token_source digests; private to the collection)."""

from __future__ import annotations

import os

from ansible_collections.agentopia.toolbox.plugins.module_utils._files import write_atomically
from ansible_collections.agentopia.toolbox.plugins.module_utils._stack import UID


def write(path: str, content: str | None) -> None:
    """Replace the token file in one rename (the gateway sees the old file or the new one, never half of one);
    None removes it. Readable by the gateway's group only; the directory is what the gateway mounts."""
    if content is None:
        remove(os.path.dirname(path))
        return
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    os.chown(directory, 0, int(UID))
    os.chmod(directory, 0o750)
    write_atomically(path, content, mode=0o640, owner=(0, int(UID)))


def remove(directory: str) -> None:
    for entry in os.listdir(directory):
        os.unlink(os.path.join(directory, entry))
    os.rmdir(directory)
