# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A rollout's report directory on the controller: one result file per host, and the report built from them.

<dir>/hosts/<host>.json    each host's result, written when it starts and when it ends
<dir>/hosts.<UTC stamp>/   an earlier run's results, set aside when a new run starts
<dir>/report.json, .txt    every host so far: its result, or unreachable / untouched
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from ansible_collections.agentopia.toolbox.plugins.module_utils._files import write_atomically

COLUMNS = ("host", "before", "after", "outcome", "seconds", "error")
DIR_MODE, FILE_MODE = 0o750, 0o640


class ReportError(Exception):
    """A result or report that cannot be written or read; the message says which and why."""


def rows(results: list[Any], hosts: list[str], reachable: list[str]) -> list[dict[str, Any]]:
    """One row per host: its result, or `unreachable` / `untouched` where it has none to show.

    results: the hosts' result files (dicts with at least host and outcome), from this run and earlier ones;
    hosts: every host of the rollout in inventory order; reachable: the hosts the play still has.
    A host still `started` dropped out of the play mid-way: Ansible lost it (unreachable).
    """
    by_host = {}
    for result in results:
        if not isinstance(result, dict) or "host" not in result or "outcome" not in result:
            raise ReportError(f"a result file without host and outcome: {result!r}")
        by_host[result["host"]] = result
    report = []
    for host in [*hosts, *(h for h in by_host if h not in hosts)]:
        row = dict(by_host.get(host) or {"host": host, "outcome": "untouched"})
        if row["outcome"] == "started" and host not in reachable:
            row["outcome"] = "unreachable"
            row.setdefault("error", "the host dropped out of the play (unreachable) before it finished")
        report.append({column: row.get(column) for column in COLUMNS} | row)
    return report


def table(report: list[dict[str, Any]]) -> str:
    """The report as an aligned text table."""
    cells = [[("" if row.get(c) is None else str(row.get(c)))[:80] for c in COLUMNS] for row in report]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(COLUMNS)]
    lines = [COLUMNS, tuple("-" * w for w in widths), *cells]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def _write(path: Path, text: str) -> None:
    """Replace the file in one rename, so a reader (or an interrupted run) never sees half of it."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    write_atomically(path, text, mode=FILE_MODE)


def set_aside(directory: Path, now: datetime.datetime) -> str | None:
    """Move an earlier run's results out of the way; the new name, or None when there were none."""
    hosts = directory / "hosts"
    if not hosts.exists():
        return None
    aside = directory / f"hosts.{now.strftime('%Y%m%dT%H%M%S%fZ')}"
    hosts.rename(aside)
    return str(aside)


def write_result(directory: Path, result: dict[str, Any]) -> str:
    host = result.get("host")
    if not isinstance(host, str) or not host or "/" in host or host.startswith("."):
        raise ReportError(f"result.host must be the host's inventory name, got {host!r}")
    if not isinstance(result.get("outcome"), str):
        raise ReportError(f"result.outcome must be a string such as started or deployed, got {result.get('outcome')!r}")
    path = directory / "hosts" / f"{host}.json"
    _write(path, json.dumps(result, indent=4, sort_keys=True) + "\n")
    return str(path)


def write_report(directory: Path, hosts: list[str], reachable: list[str]) -> list[dict[str, Any]]:
    """Build the report from every result file so far and write report.json and report.txt."""
    results = []
    for path in sorted((directory / "hosts").glob("*.json")):
        try:
            results.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise ReportError(f"{path}: not a readable result file ({error}); remove it or fix it") from None
    report = rows(results, hosts, reachable)
    _write(directory / "report.json", json.dumps(report, indent=4) + "\n")
    _write(directory / "report.txt", table(report) + "\n")
    return report
