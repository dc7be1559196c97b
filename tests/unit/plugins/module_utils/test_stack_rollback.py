# SPDX-License-Identifier: GPL-3.0-or-later
"""The rollback plan and the failure message, over recorded service objects (fixtures/engine)."""

import copy
import json
from pathlib import Path

from ansible_collections.agentopia.toolbox.plugins.module_utils._stack_health import Unsettled
from ansible_collections.agentopia.toolbox.plugins.module_utils._stack_rollback import (
    RollbackOutcome,
    Step,
    failure_message,
    rollback_steps,
    to_wait_for,
)

FIXTURES = Path(__file__).parent / "fixtures" / "engine"


def service(name: str, case: str = "converged") -> dict:
    """A recorded service object renamed; `update_crash_looping` is the same service after a broken update."""
    found = copy.deepcopy(json.loads((FIXTURES / f"{case}.json").read_text())["service"])
    found["Spec"]["Name"] = name
    return found


ACTIONS = {
    "research_new": "create",
    "research_web": "update",
    "research_old": "remove",
    "research_time": "unchanged",
    "research_files": "relabel",
}
BEFORE = {name: service(name) for name in ("research_web", "research_old", "research_time", "research_files")}
NOW = {name: service(name, "update_crash_looping") for name in ("research_new", "research_web", "research_files")}
NOW["research_time"] = BEFORE["research_time"]


def test_each_touched_service_goes_back_to_what_ran_before():
    steps = {step.service: step for step in rollback_steps(ACTIONS, BEFORE, NOW)}
    assert sorted(steps) == ["research_files", "research_new", "research_old", "research_web"]
    assert steps["research_new"] == Step("research_new", None, NOW["research_new"])  # created: removed
    # updated: the old spec onto the service as it is now (its Version is the one the engine expects)
    assert steps["research_web"].spec == BEFORE["research_web"]["Spec"]
    assert (
        steps["research_web"].current["Version"] == NOW["research_web"]["Version"] != BEFORE["research_web"]["Version"]
    )
    assert steps["research_old"] == Step("research_old", BEFORE["research_old"]["Spec"], None)  # removed: created
    assert steps["research_files"].spec == BEFORE["research_files"]["Spec"]


def test_a_created_service_already_gone_needs_no_call():
    assert rollback_steps({"research_new": "create"}, {}, {}) == []


def test_the_rollback_waits_for_what_it_put_back_only():
    assert to_wait_for(ACTIONS, {}) == ["research_files", "research_old", "research_web"]
    assert to_wait_for(ACTIONS, {"research_web": "refused"}) == ["research_files", "research_old"]


CRASH = Unsettled(["research_web"], "its tasks failed 3 times")
REPORT = {
    "research_web": {
        "state": "starting",
        "error": "task: non-zero exit (2)",
        "exit_code": 2,
        "failed_tasks": 4,
        "logs": ["a", "b", "time-server: error: unrecognized arguments: --no-such-option"],
    }
}
ORIGINAL = (
    "toolbox research: research_web (its tasks failed 3 times): newest task starting, last error: "
    "task: non-zero exit (2); last logs: a | b | time-server: error: unrecognized arguments: --no-such-option."
)


def test_message_without_rollback():
    assert failure_message("research", CRASH, REPORT, None) == ORIGINAL + " Not rolled back."


def test_message_after_a_rollback():
    outcome = RollbackOutcome({"research_web": "update", "research_time": "unchanged"})
    assert failure_message("research", CRASH, REPORT, outcome) == (
        ORIGINAL + " Rolled back to the previous definition: research_web."
    )


def test_a_rollback_that_fails_says_both_failures_and_what_is_left():
    outcome = RollbackOutcome(
        {"research_web": "update", "research_new": "create", "research_old": "remove"},
        failed={
            "research_new": "500 Server Error: rpc error: code = Unavailable",
            "research_web": "update out of sequence",
        },
    )
    assert outcome.rolled_back == ["research_old"]
    message = failure_message("research", CRASH, REPORT, outcome)
    assert message.startswith(ORIGINAL)  # the original failure first, whole
    assert message.endswith(
        " Rolled back to the previous definition: research_old."
        " The rollback failed for research_new, research_web (research_new: 500 Server Error: rpc error: code ="
        " Unavailable; research_web: update out of sequence);"
        " left: research_new the new service still exists, research_web still on the new definition."
    )


def test_a_rollback_whose_old_definition_does_not_come_back_healthy():
    outcome = RollbackOutcome(
        {"research_web": "update"}, unsettled=Unsettled(["research_web"], "not healthy within 60 s")
    )
    assert failure_message("research", CRASH, REPORT, outcome).endswith(
        " Rolled back to the previous definition: research_web."
        " Not healthy after the rollback: research_web (not healthy within 60 s)."
    )


def test_message_of_a_timeout_with_no_task_error():
    report = {"research_db": {"state": "pending", "error": "", "exit_code": None, "failed_tasks": 0, "logs": []}}
    message = failure_message("research", Unsettled(["research_db"], "not healthy within 180 s"), report, None)
    assert message == (
        "toolbox research: research_db (not healthy within 180 s): newest task pending, "
        "last error: no task error recorded; last logs: no log lines. Not rolled back."
    )
