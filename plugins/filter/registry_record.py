# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry role's record of what it published, read back by a run that did not push (registry entry point
``recorded``)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.module_utils import _registry_push as record


def registry_record(text: str, path: str = "the record") -> dict[str, Any]:
    """The record file's text -> registry, digests (name:tag -> reference by digest), keys (key -> name:tag) and
    images (key -> reference by digest)."""
    try:
        data = record.loads(text)
    except record.RecordError as error:
        raise AnsibleFilterError(
            f"registry_record: {path} is not a record of the registry role: {error}. "
            "Run playbooks/registry.yml (or site.yml) to write it again."
        ) from None
    return {**data, "images": record.images_by_key(data)}


class FilterModule:
    def filters(self):
        return {"registry_record": registry_record}
