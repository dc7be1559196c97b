# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's table of server kinds as a filter, so roles read what a kind is from the same table."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.module_utils import _kinds as kinds

EVERY_RUNTIME = "all"


def mcp_kinds(runtime: str) -> dict[str, dict[str, Any]]:
    """Kind -> what it is (runtime, bin, package, module, image settings), for one runtime or all, in build order."""
    if runtime == EVERY_RUNTIME:
        table = kinds.KINDS
    else:
        try:
            table = kinds.by_runtime(runtime)
        except ValueError as error:
            raise AnsibleFilterError(f"mcp_kinds: {error} or {EVERY_RUNTIME}") from None
    return {name: kind.as_dict() for name, kind in table.items()}


class FilterModule:
    def filters(self):
        return {"mcp_kinds": mcp_kinds}
