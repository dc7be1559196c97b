# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a run reported as changed or failed, from the report of the json stdout callback (collection ansible.posix)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError


def run_changes(report: Any, failed: bool = False) -> list[list[Any]]:
    """["<host>: <task name>", result] for every task result that reported a change (or, with failed, a failure),
    in the order the run printed them."""
    if not isinstance(report, dict) or not isinstance(report.get("plays"), list):
        raise AnsibleFilterError(
            "run_changes: give the parsed report of the json stdout callback of ansible.posix (a mapping with plays), "
            "e.g. {{ run.stdout | from_json | agentopia.toolbox.run_changes }}"
        )
    key = "failed" if failed else "changed"
    found = []
    for play in report["plays"]:
        for task in play.get("tasks") or []:
            name = (task.get("task") or {}).get("name", "")
            for host, result in (task.get("hosts") or {}).items():
                if isinstance(result, dict) and result.get(key):
                    found.append([f"{host}: {name}", result])
    return found


class FilterModule:
    def filters(self):
        return {"run_changes": run_changes}
