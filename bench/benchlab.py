# SPDX-License-Identifier: GPL-3.0-or-later
"""What the bench scripts share: a lab of their own, ssh to its nodes, timing playbook runs."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".lab/bench"
INVENTORY = STATE / "inventory.yml"
# Its own name, subnet and inventory, so a running `make lab` is left alone.
LAB = [
    "-e", "lab_name=agentopia-bench",
    "-e", "lab_subnet_prefix=172.28.98",
    "-e", f"lab_state_dir={STATE}",
]  # fmt: skip
# Environments for ansible-playbook: per-role times at the end of the usual output, or the whole run as one JSON.
PROFILE_ROLES = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_roles", "PROFILE_ROLES_SUMMARY_ONLY": "true"}
JSON_OUTPUT = {"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_JSON_INDENT": "0"}


def run(*args: str, env: dict[str, str] | None = None) -> str:
    environment = {**os.environ, **env} if env else None
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False, env=environment)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def timed(*args: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.monotonic()
    out = run(*args, env=env)
    return time.monotonic() - start, out


def fresh_lab(nodes: int) -> list[str]:
    """Recreate the bench lab with new nodes; return their addresses."""
    destroy_lab()
    # -i names the inventory lab.yml writes: its refresh and ping then reach the bench nodes, never `make lab`'s.
    run("ansible-playbook", "-i", str(INVENTORY), "playbooks/lab.yml", *LAB, "-e", f"lab_nodes={nodes}")
    return re.findall(r"ansible_host: (\S+)", INVENTORY.read_text())


def destroy_lab() -> None:
    run("ansible-playbook", "playbooks/lab-destroy.yml", *LAB)


def ssh(address: str, command: str) -> list[str]:
    """The ssh command line that runs `command` on a bench node as root."""
    return [
        "ssh", "-i", str(STATE / "id_ed25519"), "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"root@{address}", command,
    ]  # fmt: skip


def ssh_output(address: str, command: str) -> str:
    return run(*ssh(address, command))


def playbook(name: str, *extra: str) -> list[str]:
    return ["ansible-playbook", "-i", str(INVENTORY), f"playbooks/{name}", *extra]


def lab_vars() -> dict:
    """The bench inventory's variables of the group lab, as playbooks/lab.yml wrote them (toolbox_list...)."""
    return yaml.safe_load(INVENTORY.read_text())["all"]["children"]["lab"]["vars"]


def role_defaults(role: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / "defaults/main.yml").read_text())


def assert_noop(out: str) -> None:
    """A run's PLAY RECAP (default output) must say changed=0 for every host."""
    if sum(int(n) for n in re.findall(r"changed=(\d+)", out)):
        sys.exit(f"bench: the no-op rerun changed something:\n{out}")


def first_and_noop(command: list[str]) -> tuple[float, float]:
    """Time a first run and the rerun right after, which must change nothing."""
    first = timed(*command)[0]
    noop, out = timed(*command)
    assert_noop(out)
    return first, noop


def role_times(out: str) -> dict[str, float]:
    """Role (outside roles: module) -> seconds, from the ROLES RECAP that ansible.posix.profile_roles prints last."""
    recap = out.rpartition("ROLES RECAP")[2]
    return {name: float(s) for name, s in re.findall(r"^(\S+) -+ (\d+\.\d+)s$", recap, re.M) if name != "total"}


def json_report(out: str) -> dict:
    """The document the ansible.posix.json stdout callback prints at the end of a run."""
    start = re.search(r"^\{", out, re.M)
    if not start:
        sys.exit(f"bench: no ansible.posix.json report in the output:\n{out}")
    return json.JSONDecoder().raw_decode(out, start.start())[0]


def module_results(report: dict, module: str) -> list[dict]:
    """Every result of the tasks running `module` (its short name) in a JSON report, loop items one by one."""
    return [
        item
        for play in report["plays"]
        for task in play["tasks"]
        for result in task["hosts"].values()
        if result.get("action", "").rpartition(".")[2] == module
        for item in result.get("results", [result])
    ]


def record(figures: dict[str, list[float]], round_number: int) -> None:
    print(f"round {round_number}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in figures.items()), flush=True)


def medians(figures: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in figures.items()}
