# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Is a toolbox's service healthy? Decisions over the engine's own answers (private to the collection).

`service` is what `APIClient.inspect_service(name)` returns and `tasks` what `APIClient.tasks(filters={"service":
name})` returns: plain dicts, so every decision here is tested on recorded engine answers, without an engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

# Task states after which Swarm never runs that task again.
TERMINAL_FAILURES = frozenset({"failed", "rejected", "orphaned"})
# A crash loop is told from a slow start by this many failed tasks of the current spec.
FAILURES_BEFORE_GIVING_UP = 3


@dataclass(frozen=True)
class Converged:
    """Every replica of the current spec runs (Swarm says `running` only once the health check passed)."""


@dataclass(frozen=True)
class Converging:
    """Not there yet: `running` of `replicas` replicas run."""

    running: int
    replicas: int


@dataclass(frozen=True)
class Failed:
    """The current spec's tasks keep failing: waiting longer would not help."""

    reason: str


class Unsettled(NamedTuple):
    """The services a wait gave up on, and why (the same reason for each)."""

    names: list[str]
    reason: str


def current_tasks(service: dict, tasks: list[dict]) -> list[dict]:
    """The tasks of the service's current spec; tasks of an older spec are the ones being replaced (a
    start-first update keeps them running meanwhile), so they say nothing about the new one."""
    container = service["Spec"]["TaskTemplate"]["ContainerSpec"]
    return [task for task in tasks if task["Spec"].get("ContainerSpec") == container]


def replicas(service: dict) -> int:
    return service["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 1)


def unhealthy_exit(task: dict) -> bool:
    """A task Swarm already replaced after its container exited or failed its health check."""
    status = task["Status"]
    return (
        task["DesiredState"] == "shutdown" and status["State"] in ("complete", "shutdown") and bool(status.get("Err"))
    )


def failed_task(task: dict) -> bool:
    return task["Status"]["State"] in TERMINAL_FAILURES or unhealthy_exit(task)


def service_state(service: dict, tasks: list[dict]) -> Converged | Converging | Failed:
    """Where the service is, from its inspect answer and every task the engine lists for it.

    A task stuck in `pending` (no node has the resources, or a constraint matches none) is still converging:
    the scheduler places it as soon as a node frees up, so only the wait's timeout ends it."""
    tasks = current_tasks(service, tasks)
    wanted = replicas(service)
    running = sum(1 for t in tasks if t["DesiredState"] == "running" and t["Status"]["State"] == "running")
    if running >= wanted:
        return Converged()
    if sum(1 for t in tasks if failed_task(t)) >= FAILURES_BEFORE_GIVING_UP:
        return Failed(f"its tasks failed {FAILURES_BEFORE_GIVING_UP} times")
    return Converging(running, wanted)


def wait(
    names: list[str],
    observe: Callable[[str], tuple[dict, list[dict]]],
    timeout: float,
    *,
    stop_on_failure: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 1.0,
) -> Unsettled | None:
    """Poll each service (observe(name) -> (service, tasks)) until all have converged: None then.

    With stop_on_failure, the first service found Failed ends the wait at once; otherwise only the
    deadline does (a rollback waits for what it put back but has nothing left to undo)."""
    deadline = clock() + timeout
    pending = set(names)
    while pending:
        for name in sorted(pending):
            state = service_state(*observe(name))
            if isinstance(state, Converged):
                pending.discard(name)
            elif isinstance(state, Failed) and stop_on_failure:
                return Unsettled([name], state.reason)
        if not pending:
            return None
        if clock() > deadline:
            return Unsettled(sorted(pending), f"not healthy within {timeout:g} s")
        sleep(interval)
    return None


def _timestamp_key(text: str) -> tuple[str, int]:
    """An engine timestamp as a sortable key. Go drops trailing zeros of the nanoseconds
    (`...44.70060005Z`), so the strings themselves do not sort in time order."""
    stamp = text.rstrip("Z")
    seconds, _dot, fraction = stamp.partition(".")
    return seconds, int((fraction + "000000000")[:9] or 0)


def service_report(tasks: list[dict], logs: list[str]) -> dict:
    """What a user needs to see about a failing service: its newest task's state, the last error any task
    of the current spec met (with the container's exit code), how many failed, and its last log lines."""
    tasks = sorted(tasks, key=lambda t: _timestamp_key(t["Status"].get("Timestamp", "")))
    newest = tasks[-1]["Status"] if tasks else {}
    errors = [t["Status"] for t in tasks if t["Status"].get("Err")]
    last_error = errors[-1] if errors else {}
    return {
        "state": newest.get("State", "no task"),
        "error": last_error.get("Err", ""),
        "exit_code": last_error.get("ContainerStatus", {}).get("ExitCode"),
        "failed_tasks": len(errors),
        "logs": logs,
    }
