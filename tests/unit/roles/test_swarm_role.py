# SPDX-License-Identifier: GPL-3.0-or-later
"""The swarm role's decisions, rendered from its variables for cluster shapes a test can name."""

import pytest
from rolevars import ROLES, load
from rolevars import render as render_vars

ROLE = ROLES / "swarm"


def node(hostname, status="ready", manager=None, node_id=None):
    # As community.docker.docker_swarm_info reports them ("Leader", but "reachable").
    return {"ID": node_id or f"id-{hostname}", "Hostname": hostname, "Status": status, "ManagerStatus": manager}


def render(name, nodes, managers, workers):
    """Render with the play holding managers + workers, and swarm__nodes as the leader lists them."""
    hosts = managers + workers
    hostvars = {h: {"swarm__is_manager": h in managers, "swarm__info": {"NodeID": f"id-{h}"}} for h in hosts}
    files = (ROLE / "defaults/main.yml", ROLE / "vars/main.yml")
    return render_vars(name, files, swarm__nodes=nodes, ansible_play_hosts=hosts, hostvars=hostvars)


def quorum_allows(quorum):
    """The condition of the role's 'Refuse a change that would lose manager quorum' task."""
    q = {key: int(value) if key != "demote" else value for key, value in quorum.items()}
    return (
        q["reachable_now"] * 2 > q["managers_now"]
        and q["managers_after"] > 0
        and q["reachable_after"] * 2 > q["managers_after"]
    )


def test_the_guard_in_the_tasks_is_the_one_tested_here():
    tasks = load(ROLE / "tasks/nodes.yml")
    guard = next(t for t in tasks if t["name"] == "Refuse a change that would lose manager quorum")
    assert guard["ansible.builtin.assert"]["that"] == [
        "swarm__quorum.reachable_now * 2 > swarm__quorum.managers_now",
        "swarm__quorum.managers_after > 0",
        "swarm__quorum.reachable_after * 2 > swarm__quorum.managers_after",
    ]


@pytest.mark.parametrize(
    ("statuses", "demote", "allowed"),
    [
        # three healthy managers: demoting one leaves 2 of 2 reachable
        (["Leader", "reachable", "reachable"], ["m3"], True),
        # one of three down: demoting a healthy one leaves 1 of 2 reachable
        (["Leader", "reachable", "unreachable"], ["m2"], False),
        # one of three down: demoting the unreachable one leaves 2 of 2
        (["Leader", "reachable", "unreachable"], ["m3"], True),
        # five managers, two down: demoting one healthy leaves 2 of 4
        (["Leader", "reachable", "reachable", "unreachable", "unreachable"], ["m2"], False),
        # a single manager cannot demote itself
        (["Leader"], ["m1"], False),
        # quorum already lost: no role change at all
        (["Leader", "unreachable", "unreachable"], ["m2"], False),
    ],
)
def test_quorum_guard(statuses, demote, allowed):
    names = [f"m{i}" for i in range(1, len(statuses) + 1)]
    nodes = [
        node(n, manager=s, status="down" if s == "unreachable" else "ready")
        for n, s in zip(names, statuses, strict=True)
    ]
    managers = [n for n in names if n not in demote]
    quorum = render("swarm__quorum", nodes, managers, demote)
    assert quorum["demote"] == demote
    assert quorum_allows(quorum) is allowed


def test_a_worker_is_never_counted_as_a_manager():
    nodes = [node("m1", manager="Leader"), node("w1"), node("w2")]
    quorum = render("swarm__quorum", nodes, ["m1"], ["w1", "w2"])
    assert int(quorum["managers_now"]) == 1
    assert quorum["demote"] == []


def test_stale_entries_are_down_workers_whose_hostname_joined_again():
    nodes = [
        node("m1", manager="Leader"),
        node("w1", status="down", node_id="old-w1"),
        node("w1"),
        node("w2", status="down"),  # down, but never rejoined: kept
        node("m2", status="down", manager="unreachable", node_id="old-m2"),
        node("m2", manager="reachable"),  # stale manager entries need a demotion first: kept
    ]
    stale = render("swarm__stale_nodes", nodes, ["m1", "m2"], ["w1", "w2"])
    assert [n["ID"] for n in stale] == ["old-w1"]
