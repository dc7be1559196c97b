# SPDX-License-Identifier: GPL-3.0-or-later
"""What the bench scripts share: a lab of their own, ssh to its nodes, timing playbook runs."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".lab/bench"
INVENTORY = STATE / "inventory.yml"
# Its own name, subnet and inventory, so a running `make lab` is left alone.
LAB = [
    "-e", "lab_name=agentopia-bench",
    "-e", "lab_subnet_prefix=172.28.98",
    "-e", f"lab_state_dir={STATE}",
]  # fmt: skip


def run(*args: str) -> str:
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def timed(*args: str) -> tuple[float, str]:
    start = time.monotonic()
    out = run(*args)
    return time.monotonic() - start, out


def fresh_lab(nodes: int) -> list[str]:
    """Recreate the bench lab with new nodes; return their addresses."""
    destroy_lab()
    run("ansible-playbook", "playbooks/lab.yml", *LAB, "-e", f"lab_nodes={nodes}")
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


def first_and_noop(command: list[str]) -> tuple[float, float]:
    """Time a first run and the rerun right after, which must change nothing."""
    first = timed(*command)[0]
    noop, out = timed(*command)
    if sum(int(n) for n in re.findall(r"changed=(\d+)", out)):
        sys.exit(f"bench: the no-op rerun changed something:\n{out}")
    return first, noop


def record(figures: dict[str, list[float]], round_number: int) -> None:
    print(f"round {round_number}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in figures.items()), flush=True)


def medians(figures: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in figures.items()}
