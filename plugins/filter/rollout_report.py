# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rollout report as filters: every host's result file, plus what the play knows of hosts without one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.module_utils._rollout_report import ReportError, rows, table


def rollout_report(results, hosts, reachable):
    """One row per host: its result, or `unreachable` / `untouched` where it has none to show."""
    try:
        return rows(results, hosts, reachable)
    except ReportError as error:
        raise AnsibleFilterError(f"rollout_report: {error}") from None


def rollout_table(report):
    """The report as an aligned text table."""
    return table(report)


class FilterModule:
    def filters(self):
        return {"rollout_report": rollout_report, "rollout_table": rollout_table}
