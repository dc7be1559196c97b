# SPDX-License-Identifier: GPL-3.0-or-later
"""The toolbox role's recording, run by ansible-playbook against localhost with a stand-in toolbox_stack.

What molecule's idempotence step would see, without a swarm: the role records each deploy, a rerun
changes nothing, a failed deploy is recorded with toolbox_stack's message and still fails the play with
it, check mode writes nothing, and state=absent records removed once.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rolevars import ROLES

ROOT = ROLES.parent
PLAYBOOK = """
- name: The toolbox role with a stand-in toolbox_stack
  hosts: swarm_managers:swarm_workers
  gather_facts: false
  roles:
    - role: agentopia.toolbox.toolbox
      vars:
        toolbox_state_dir: "{{ state_dir }}"
        toolbox_images: {time: "reg:5000/agentopia/mcp-time:1", gateway: "reg:5000/agentopia/gateway:1"}
        toolbox_secrets: {research_token: t1, web_token: t2}
        toolbox_state: "{{ wanted_state | default('present') }}"
        toolbox_list:
          - name: research
            version: "{{ research_version | default('1.0.0') }}"
            servers: >-
              {{ [{'name': 'clock', 'kind': 'time'}]
                 + ([{'name': 'broken', 'kind': 'time'}] if broken | default(false) | bool else []) }}
          - {name: web, version: "2.0", servers: [{name: clock, kind: time}]}
"""


def link_collection(target: Path) -> None:
    """This checkout as agentopia.toolbox, with toolbox_stack replaced by the stand-in."""
    collection = target / "ansible_collections/agentopia/toolbox"
    modules = collection / "plugins/modules"
    modules.mkdir(parents=True)
    for entry in ROOT.iterdir():
        if entry.name not in ("plugins", ".git", ".venv", ".collections", ".build") and not entry.name.startswith("."):
            (collection / entry.name).symlink_to(entry)
    for entry in (ROOT / "plugins").iterdir():
        if entry.name != "modules":
            (collection / "plugins" / entry.name).symlink_to(entry)
    for entry in (ROOT / "plugins/modules").glob("*.py"):
        if entry.name != "toolbox_stack.py":
            (modules / entry.name).symlink_to(entry)
    (modules / "toolbox_stack.py").symlink_to(Path(__file__).parent / "stand_in_toolbox_stack.py")


@pytest.fixture(scope="module", name="play")
def fixture_play(tmp_path_factory):
    base = tmp_path_factory.mktemp("toolbox-role")
    link_collection(base / "collections")
    (base / "swarm").mkdir()
    python = sys.executable
    (base / "inventory.yml").write_text(
        json.dumps(
            {
                "swarm_managers": {
                    "hosts": {"m1": {"ansible_connection": "local", "ansible_python_interpreter": python}}
                },
                "swarm_workers": {
                    "hosts": {"w1": {"ansible_connection": "local", "ansible_python_interpreter": python}}
                },
            }
        )
    )
    (base / "play.yml").write_text(PLAYBOOK)
    (base / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(base / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(base / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOCAL_TEMP": str(base / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(base / "tmp"),
        "FAKE_SWARM": str(base / "swarm"),
    }
    state_dir = base / "state"

    def run(*extra: str) -> dict:
        command = [
            str(Path(python).parent / "ansible-playbook"),
            "-i",
            str(base / "inventory.yml"),
            str(base / "play.yml"),
        ]
        command += ["-e", f"state_dir={state_dir}", *extra]
        done = subprocess.run(command, env=env, cwd=base, capture_output=True, text=True, timeout=300, check=False)
        output = json.loads(done.stdout)
        output["rc"] = done.returncode
        return output

    run.state_dir = state_dir
    return run


def changed(output: dict) -> int:
    return sum(stats["changed"] for stats in output["stats"].values())


def failed(output: dict) -> int:
    return sum(stats["failures"] for stats in output["stats"].values())


def task(output: dict, name: str) -> dict:
    """The result of the task named name on m1 (the run_once host)."""
    for play in output["plays"]:
        for item in play["tasks"]:
            if item["task"]["name"].endswith(name):  # "<role> : <task name>"
                return item["hosts"]["m1"]
    raise AssertionError(f"no task {name!r} ran")


def record(play, name: str) -> dict:
    return json.loads((play.state_dir / f"{name}.json").read_text())


def test_the_role_records_reruns_without_change_and_records_failures(play):
    first = play()
    assert first["rc"] == 0
    assert record(play, "research")["current"]["version"] == "1.0.0"
    assert record(play, "web")["current"]["version"] == "2.0"
    assert record(play, "research")["current"]["images"]["time"] == "reg:5000/agentopia/mcp-time:1"
    assert [r["changed"] for r in task(first, "Record each toolbox's deployment in toolbox_state_dir")["results"]] == [
        True,
        True,
    ]

    # What molecule's idempotence step checks.
    rerun = play()
    assert rerun["rc"] == 0 and changed(rerun) == 0
    assert len(record(play, "research")["history"]) == 1

    broken = play("-e", "research_version=1.1.0", "-e", "broken=true")
    assert broken["rc"] != 0 and failed(broken) >= 1
    deploy = task(broken, "Deploy each toolbox")["results"][0]
    assert deploy["failed"] is True
    # The play fails with toolbox_stack's own message, not a generic one.
    assert task(broken, "Fail with the deploy's own message")["msg"] == deploy["msg"]
    research = record(play, "research")
    assert research["current"]["version"] == "1.0.0"
    assert research["history"][-1] == {
        "time": research["history"][-1]["time"],
        "version": "1.1.0",
        "spec_hash": deploy["spec_hash"],
        "outcome": "failed",
        "detail": deploy["msg"],
        "rolled_back": ["research_broken"],
    }
    assert len(record(play, "web")["history"]) == 1  # the toolbox that deployed fine records nothing new

    before = {name: (play.state_dir / f"{name}.json").read_text() for name in ("research", "web")}
    preview = play("--check", "-e", "research_version=1.1.0")
    assert preview["rc"] == 0 and changed(preview) > 0
    assert {name: (play.state_dir / f"{name}.json").read_text() for name in ("research", "web")} == before

    removed = play("-e", "wanted_state=absent")
    assert removed["rc"] == 0
    assert record(play, "research")["current"] is None
    assert record(play, "research")["history"][-1]["outcome"] == "removed"
    assert record(play, "research")["history"][-1]["version"] == "1.0.0"  # what was current
    again = play("-e", "wanted_state=absent")
    assert again["rc"] == 0 and changed(again) == 0
