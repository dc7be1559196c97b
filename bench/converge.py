# SPDX-License-Identifier: GPL-3.0-or-later
"""Time docker_engine on a 3-node lab against the bare package install, in the same run.

Per round, on fresh nodes each time:
  floor    `apt-get install -y docker.io` over ssh on every node at once (what a human would type)
  converge the first `playbooks/engine.yml` run (docker_engine) on every node
  no-op    the rerun right after, which must report changed=0
The bench uses its own lab (name, subnet, inventory), so a running `make lab` is left alone.
Both sides install from the node image's apt lists: the role is told they are fresh, as the
floor assumes. Targets (issue 3): converge <= 1.3 x floor; no-op <= 10 s on 3 nodes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".lab/bench"
LAB = [
    "-e", "lab_name=agentopia-bench",
    "-e", "lab_subnet_prefix=172.28.98",
    "-e", f"lab_state_dir={STATE}",
]  # fmt: skip
INVENTORY = STATE / "inventory.yml"
# The floor uses the node image's apt lists as they are; so does the role with this setting.
SAME_APT_LISTS = ["-e", "docker_engine_apt_cache_valid_time=315360000"]


def run(*args: str, quiet: bool = True) -> str:
    done = subprocess.run(args, cwd=ROOT, capture_output=quiet, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout or ""


def timed(*args: str) -> tuple[float, str]:
    start = time.monotonic()
    out = run(*args)
    return time.monotonic() - start, out


def fresh_lab(nodes: int) -> list[str]:
    run("ansible-playbook", "playbooks/lab-destroy.yml", *LAB)
    env_nodes = ["-e", f"lab_nodes={nodes}"]
    run("ansible-playbook", "playbooks/lab.yml", *LAB, *env_nodes)
    return re.findall(r"ansible_host: (\S+)", INVENTORY.read_text())


def ssh_output(address: str, command: str) -> str:
    return run(
        "ssh", "-i", str(STATE / "id_ed25519"), "-o", "StrictHostKeyChecking=no",
        "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"root@{address}", command,
    )  # fmt: skip


def floor(addresses: list[str]) -> float:
    command = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null"
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(addresses)) as pool:
        list(pool.map(lambda address: ssh_output(address, command), addresses))
    return time.monotonic() - start


def changed(recap: str) -> int:
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--nodes", type=int, default=3)
    options = parser.parse_args()
    site = ["ansible-playbook", "-i", str(INVENTORY), "playbooks/engine.yml", *SAME_APT_LISTS]
    figures: dict[str, list[float]] = {"floor": [], "converge": [], "noop": []}
    for round_number in range(1, options.rounds + 1):
        figures["floor"].append(floor(fresh_lab(options.nodes)))
        fresh_lab(options.nodes)
        seconds = timed(*site)[0]
        figures["converge"].append(seconds)
        seconds, out = timed(*site)
        if changed(out):
            sys.exit(f"bench: the no-op rerun changed something:\n{out}")
        figures["noop"].append(seconds)
        print(f"round {round_number}: " + ", ".join(f"{k} {v[-1]:.1f}s" for k, v in figures.items()), flush=True)
    run("ansible-playbook", "playbooks/lab-destroy.yml", *LAB)

    median = {name: statistics.median(values) for name, values in figures.items()}
    ratio = median["converge"] / median["floor"]
    print(f"\n{options.nodes} nodes, {options.rounds} rounds (medians)")
    print("| figure | seconds | target |")
    print("|---|---|---|")
    print(f"| floor: apt-get install docker.io | {median['floor']:.1f} | |")
    print(f"| first converge | {median['converge']:.1f} | <= 1.3 x floor: {ratio:.2f} x |")
    print(f"| no-op rerun (changed=0) | {median['noop']:.1f} | <= 10 s |")


if __name__ == "__main__":
    main()
