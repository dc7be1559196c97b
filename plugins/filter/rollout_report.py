# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rollout report: every host's result file, plus what the play knows of hosts without one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

COLUMNS = ("host", "before", "after", "outcome", "seconds", "error")


def rollout_report(results, hosts, reachable):
    """One row per host: its result, or `unreachable` / `untouched` where it has none to show.

    results: the hosts' result files (dicts with at least host and outcome), from this run and earlier ones;
    hosts: every host of the rollout in inventory order; reachable: the hosts the play still has.
    A host still `started` dropped out of the play mid-way: Ansible lost it (unreachable).
    """
    by_host = {}
    for result in results:
        if not isinstance(result, dict) or "host" not in result or "outcome" not in result:
            raise AnsibleFilterError(f"rollout_report: a result file without host and outcome: {result!r}")
        by_host[result["host"]] = result
    rows = []
    for host in [*hosts, *(h for h in by_host if h not in hosts)]:
        row = dict(by_host.get(host) or {"host": host, "outcome": "untouched"})
        if row["outcome"] == "started" and host not in reachable:
            row["outcome"] = "unreachable"
            row.setdefault("error", "the host dropped out of the play (unreachable) before it finished")
        rows.append({column: row.get(column) for column in COLUMNS} | row)
    return rows


def rollout_table(rows):
    """The report as an aligned text table."""
    cells = [[("" if row.get(c) is None else str(row.get(c)))[:80] for c in COLUMNS] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(COLUMNS)]
    lines = [COLUMNS, tuple("-" * w for w in widths), *cells]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


class FilterModule:
    def filters(self):
        return {"rollout_report": rollout_report, "rollout_table": rollout_table}
