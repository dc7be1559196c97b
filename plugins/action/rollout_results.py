# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rollout_results: keep a rollout's results in its report directory on the controller.

In the controller's own process: a copy task delegated to localhost runs two or three module processes per file,
seconds per batch of a rollout that are not the hosts' own work (bench/rollout.py measures that overhead).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from ansible_collections.agentopia.toolbox.plugins.module_utils._rollout_report import (
    ReportError,
    set_aside,
    table,
    write_report,
    write_result,
)
from ansible_collections.agentopia.toolbox.plugins.plugin_utils._controller_action import ControllerAction

OPTIONS = frozenset(("dir", "set_aside", "result", "report", "hosts", "reachable"))


def _string_list(args: dict[str, Any], name: str) -> list[str]:
    value = args.get(name)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ReportError(f"{name} must be a list of inventory host names, e.g. {{{{ ansible_play_hosts_all }}}}")
    return value


def keep(args: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """Do what the arguments ask, in a fixed order: set aside, write the result, write the report."""
    unknown = sorted(str(key) for key in args if key not in OPTIONS)
    if unknown:
        raise ReportError(f"unknown option(s) {', '.join(unknown)}; it takes {', '.join(sorted(OPTIONS))}")
    if not isinstance(args.get("dir"), str) or not args["dir"]:
        raise ReportError("dir is required: the rollout's report directory on the controller")
    directory = Path(args["dir"])
    if not any(args.get(key) for key in ("set_aside", "result", "report")):
        raise ReportError("nothing to do: give set_aside=true, result (this host's result) or report=true")
    outcome: dict[str, Any] = {"changed": False}
    if args.get("set_aside"):
        outcome["set_aside"] = set_aside(directory, now)
    if args.get("result") is not None:
        result = args["result"]
        if not isinstance(result, dict):
            raise ReportError("result must be a mapping with at least host and outcome")
        outcome["path"] = write_result(directory, result)
    if args.get("report"):
        report = write_report(directory, _string_list(args, "hosts"), _string_list(args, "reachable"))
        outcome.update(report=report, table=table(report))
    return outcome


class ActionModule(ControllerAction):
    # The report is the rollout's output on the controller, not state of any host: written in check mode too,
    # and never reported as a change (a rerun of a finished rollout must say changed=0).
    name = "rollout_results"
    errors = (ReportError, OSError)

    def work(self, args: dict[str, Any]) -> dict[str, Any]:
        return keep(args, datetime.datetime.now(datetime.UTC))
