# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Undoing a toolbox change that did not become healthy, and the message that says what happened
(private to the collection). Plain data in, plain data out: the module does the engine calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ansible_collections.agentopia.toolbox.plugins.module_utils._stack_health import Unsettled


class Step(NamedTuple):
    """One engine call of a rollback: remove `current` (spec None), or put `spec` back onto `current`
    (a service object to update) or as a new service (current None)."""

    service: str
    spec: dict | None
    current: dict | None


# What a service is left as when its rollback step failed, by the action the run had taken.
LEFT_AS = {
    "create": "the new service still exists",
    "update": "still on the new definition",
    "relabel": "still on the new labels",
    "remove": "still removed",
}


def rollback_steps(actions: dict[str, str], before: dict[str, dict], now: dict[str, dict]) -> list[Step]:
    """The calls that put every service this run touched back as it was.

    actions: service -> the plan's action; before: the service objects deployed before the run; now: those
    deployed at present (both keyed by name). Created services are removed, the others get the spec that
    was deployed before the run (a removed service is created again from it)."""
    steps = []
    for name, action in actions.items():
        if action == "unchanged":
            continue
        if action == "create":
            if name in now:
                steps.append(Step(name, None, now[name]))
        else:
            steps.append(Step(name, before[name]["Spec"], now.get(name)))
    return steps


def touched(actions: dict[str, str]) -> list[str]:
    return sorted(name for name, action in actions.items() if action != "unchanged")


def to_wait_for(actions: dict[str, str], failed: dict[str, str]) -> list[str]:
    """Services whose previous definition runs again and must become healthy (created ones are gone)."""
    return [name for name in touched(actions) if actions[name] != "create" and name not in failed]


@dataclass
class RollbackOutcome:
    """rolled_back: services put back; failed: service -> the engine's error for those whose step failed;
    unsettled: put back but not healthy within the rollback's wait."""

    actions: dict[str, str]
    failed: dict[str, str] = field(default_factory=dict)
    unsettled: Unsettled | None = None

    @property
    def rolled_back(self) -> list[str]:
        return [name for name in touched(self.actions) if name not in self.failed]


def failure_message(toolbox: str, failure: Unsettled, report: dict, rollback: RollbackOutcome | None) -> str:
    """One message for the user: per failing service its newest task, last error and last log lines;
    then what the rollback did, what it could not do, and what that leaves running."""
    parts = []
    for name, item in report.items():
        logs = " | ".join(item["logs"][-5:]) or "no log lines"
        error = item["error"] or "no task error recorded"
        parts.append(f"{name} ({failure.reason}): newest task {item['state']}, last error: {error}; last logs: {logs}")
    message = f"toolbox {toolbox}: " + "; ".join(parts) + "."
    if rollback is None or not touched(rollback.actions):
        return message + " Not rolled back."
    if rollback.rolled_back:
        message += f" Rolled back to the previous definition: {', '.join(rollback.rolled_back)}."
    if rollback.failed:
        failures = "; ".join(f"{name}: {error}" for name, error in sorted(rollback.failed.items()))
        left = ", ".join(f"{name} {LEFT_AS[rollback.actions[name]]}" for name in sorted(rollback.failed))
        message += f" The rollback failed for {', '.join(sorted(rollback.failed))} ({failures}); left: {left}."
    if rollback.unsettled:
        message += (
            f" Not healthy after the rollback: {', '.join(rollback.unsettled.names)} ({rollback.unsettled.reason})."
        )
    return message
