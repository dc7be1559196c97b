# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""image_contexts: hash every image of an image plan (mcp_images, exporters) on the controller, and pack the
contexts to build."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from ansible_collections.agentopia.toolbox.plugins.module_utils._image_inputs import (
    InputError,
    plan_inputs,
    read_context,
    write_archive,
)
from ansible_collections.agentopia.toolbox.plugins.plugin_utils._controller_action import ControllerAction

OPTIONS = frozenset(
    ("images", "dockerfiles", "files_dir", "services_dir", "ca_file", "bases", "archive", "archive_dir", "mtime")
)
REQUIRED = ("images", "dockerfiles", "files_dir", "services_dir", "bases")


def contexts(args: dict[str, Any]) -> dict[str, Any]:
    """The task result: every image's input hash and, for the keys in `archive`, the path of its context's tar."""
    unknown = sorted(str(key) for key in args if key not in OPTIONS)
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(unknown)}; image_contexts takes {', '.join(sorted(OPTIONS))}")
    missing = [name for name in REQUIRED if args.get(name) is None]
    if missing:
        raise InputError(f"{', '.join(missing)} is required")
    images, dockerfiles = list(args["images"]), dict(args["dockerfiles"])
    ca_file = str(args.get("ca_file") or "")
    digests, entries = {}, {}
    for image in images:
        key = image["key"]
        if key not in dockerfiles:
            raise InputError(f"dockerfiles has no Dockerfile for image {key}")
        entries[key], digests[key] = read_context(
            image, str(dockerfiles[key]), str(args["files_dir"]), str(args["services_dir"]), ca_file
        )
    inputs = plan_inputs(images, digests, dict(args["bases"]))
    archives = {}
    wanted = list(args.get("archive") or [])
    if wanted:
        folder = args.get("archive_dir")
        if not folder or not os.path.isdir(str(folder)):
            raise InputError(f"archive_dir must be an existing folder on the controller (got {folder!r})")
        for key in wanted:
            if key not in entries:
                raise InputError(f"archive names {key}, which is not an image of images")
            path = os.path.join(str(folder), f"{key}-{inputs[key][:16]}.tar")
            fd, temporary = tempfile.mkstemp(dir=str(folder), prefix=".context-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    write_archive(str(dockerfiles[key]), entries[key], handle, int(args.get("mtime") or 0))
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
                raise
            archives[key] = path
    return {"changed": False, "inputs": inputs, "archives": archives}


class ActionModule(ControllerAction):
    # Reads and writes only the controller's files: no connection, the same answer in check mode.
    name = "image_contexts"
    errors = (InputError, OSError)

    def work(self, args: dict[str, Any]) -> dict[str, Any]:
        return contexts(args)

    def describe(self, error: BaseException) -> str:
        return f"cannot write an archive: {error}" if isinstance(error, OSError) else str(error)
