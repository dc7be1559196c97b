# SPDX-License-Identifier: GPL-3.0-or-later
"""Convergence, crash loops, pending tasks and the failure report, over recorded engine answers (fixtures/engine)."""

import copy
import json
from pathlib import Path

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack_health as health

FIXTURES = Path(__file__).parent / "fixtures" / "engine"


def recorded(case: str) -> tuple[dict, list[dict]]:
    answer = json.loads((FIXTURES / f"{case}.json").read_text())
    return answer["service"], answer["tasks"]


def test_starting_tasks_are_converging():
    assert health.service_state(*recorded("starting")) == health.Converging(running=0, replicas=2)


def test_running_tasks_are_converged():
    assert health.service_state(*recorded("converged")) == health.Converged()


def test_a_crash_loop_is_failed_by_its_failed_tasks():
    service, tasks = recorded("crash_looping")
    state = health.service_state(service, tasks)
    assert state == health.Failed("its tasks failed 3 times")


def test_two_failures_are_not_yet_a_crash_loop():
    service, tasks = recorded("crash_looping")
    by_time = sorted(tasks, key=lambda t: t["Status"]["Timestamp"])
    assert health.service_state(service, by_time[:2]) == health.Converging(running=0, replicas=1)
    assert health.service_state(service, by_time[:3]) == health.Failed("its tasks failed 3 times")


def test_an_unhealthy_kill_counts_as_a_failure_but_one_is_not_a_loop():
    service, tasks = recorded("unhealthy")
    assert [health.failed_task(t) for t in tasks].count(True) == 1
    assert health.service_state(service, tasks) == health.Converging(running=0, replicas=1)


def test_pending_for_lack_of_resources_keeps_converging():
    # The scheduler places the task once a node frees up: only the wait's deadline ends it.
    assert health.service_state(*recorded("pending_no_resources")) == health.Converging(running=0, replicas=1)


def test_an_update_is_judged_on_its_new_tasks_not_the_old_ones_still_running():
    service, tasks = recorded("update_crash_looping")
    old_running = [t for t in tasks if t["Status"]["State"] == "running"]
    assert len(old_running) == health.replicas(service) == 2  # start-first kept the old spec's tasks
    assert all(t not in health.current_tasks(service, tasks) for t in old_running)
    assert isinstance(health.service_state(service, tasks), health.Failed)


def test_a_rolled_back_service_is_converged_on_its_old_tasks():
    service, tasks = recorded("update_rolled_back")
    assert service["UpdateStatus"]["State"] == "rollback_completed"
    assert health.service_state(service, tasks) == health.Converged()


def test_an_exited_task_swarm_replaced_with_an_error_is_an_unhealthy_exit():
    tasks = recorded("converged")[1]
    task = copy.deepcopy(tasks[0])
    task["DesiredState"] = "shutdown"
    task["Status"].update(State="shutdown", Err="task: non-zero exit (1)")
    assert health.unhealthy_exit(task)
    task["Status"]["Err"] = ""  # stopped by an update: no error, no failure
    assert not health.unhealthy_exit(task) and not health.failed_task(task)


class FakeTime:
    """A clock that only moves when the wait sleeps."""

    def __init__(self):
        self.now, self.slept = 100.0, 0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        self.slept += 1


def answers(*cases):
    """observe() that answers each recorded case in turn, then the last one for ever."""
    sequence = [recorded(case) for case in cases]
    calls = []

    def observe(name):
        calls.append(name)
        return sequence[min(len(calls), len(sequence)) - 1]

    return observe


def test_wait_returns_once_the_tasks_run():
    time = FakeTime()
    outcome = health.wait(["research_time"], answers("starting", "starting", "converged"), 30, **vars_of(time))
    assert outcome is None and time.slept == 2


def test_wait_gives_up_on_a_crash_loop_at_once_not_at_the_deadline():
    time = FakeTime()
    outcome = health.wait(["research_web"], answers("starting", "crash_looping"), 180, **vars_of(time))
    assert outcome == health.Unsettled(["research_web"], "its tasks failed 3 times")
    assert time.slept == 1


def test_wait_for_a_pending_task_ends_at_the_deadline_naming_it():
    time = FakeTime()
    outcome = health.wait(["research_db", "research_time"], answers("pending_no_resources"), 30, **vars_of(time))
    assert outcome == health.Unsettled(["research_db", "research_time"], "not healthy within 30 s")
    assert 30 <= time.slept <= 32


def test_without_stop_on_failure_a_crash_loop_is_waited_out():
    time = FakeTime()
    outcome = health.wait(["research_web"], answers("crash_looping"), 20, stop_on_failure=False, **vars_of(time))
    assert outcome == health.Unsettled(["research_web"], "not healthy within 20 s")
    assert time.slept >= 20


def test_wait_for_nothing_does_not_ask_the_engine():
    assert health.wait([], pytest.fail, 10) is None


def vars_of(time: FakeTime) -> dict:
    return {"clock": time.clock, "sleep": time.sleep}


def test_report_of_a_crash_loop_names_the_last_error_and_exit_code():
    service, tasks = recorded("crash_looping")
    report = health.service_report(health.current_tasks(service, tasks), ["time-server: error: bad option"])
    assert report == {
        "state": "starting",  # the newest task, Swarm's next try
        "error": "task: non-zero exit (2)",
        "exit_code": 2,
        "failed_tasks": 4,
        "logs": ["time-server: error: bad option"],
    }


def test_report_of_a_pending_task_says_why_it_is_not_placed():
    service, tasks = recorded("pending_no_resources")
    report = health.service_report(health.current_tasks(service, tasks), [])
    assert report["state"] == "pending"
    assert report["error"] == "no suitable node (insufficient resources on 1 node)"
    assert report["exit_code"] is None


def test_report_of_an_unhealthy_kill_has_its_137():
    tasks = recorded("unhealthy")[1]
    report = health.service_report(tasks, [])
    assert (report["state"], report["exit_code"]) == ("ready", 137)
    assert "unhealthy container" in report["error"]


def test_report_orders_tasks_by_time_not_by_text():
    # Go drops trailing zeros of the nanoseconds: ".7Z" is earlier than ".70060005Z" but sorts after it as text.
    tasks = recorded("unhealthy")[1]
    failed, ready = sorted(tasks, key=lambda t: t["Status"]["State"])
    failed["Status"]["Timestamp"] = "2026-12-07T18:54:44.7Z"
    ready["Status"]["Timestamp"] = "2026-12-07T18:54:44.70060005Z"
    assert health.service_report([ready, failed], [])["state"] == "ready"
    ready["Status"]["Timestamp"] = "2026-12-07T18:54:44Z"
    assert health.service_report([ready, failed], [])["state"] == "failed"


def test_report_of_a_service_without_tasks():
    assert health.service_report([], [])["state"] == "no task"
