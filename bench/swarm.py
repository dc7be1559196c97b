# SPDX-License-Identifier: GPL-3.0-or-later
"""Time forming a 3-node swarm with the swarm role against bare `docker swarm init/join`, same run.

Nodes get the Docker engine first (not timed). Per round:
  floor    `docker swarm init` on node1, then `docker swarm join` on the others at once, over ssh
  form     playbooks/swarm.yml from nodes that left every swarm
  no-op    the rerun right after, which must report changed=0
Target (issue 4): no-op rerun <= 10 s on 3 nodes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import time

from benchlab import destroy_lab, first_and_noop, fresh_lab, medians, playbook, record, run, ssh_output


def leave_all(addresses: list[str]) -> None:
    with concurrent.futures.ThreadPoolExecutor(len(addresses)) as pool:
        list(pool.map(lambda a: ssh_output(a, "docker swarm leave --force >/dev/null 2>&1 || true"), addresses))


def floor(addresses: list[str]) -> float:
    manager, workers = addresses[0], addresses[1:]
    start = time.monotonic()
    ssh_output(manager, f"docker swarm init --advertise-addr {manager} >/dev/null")
    token = ssh_output(manager, "docker swarm join-token -q worker").strip()
    join = f"docker swarm join --token {token} --advertise-addr {{}} {manager}:2377 >/dev/null"
    with concurrent.futures.ThreadPoolExecutor(len(workers)) as pool:
        list(pool.map(lambda a: ssh_output(a, join.format(a)), workers))
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    addresses = fresh_lab(3)
    run(*playbook("engine.yml"))
    figures: dict[str, list[float]] = {"floor": [], "form": [], "noop": []}
    for round_number in range(1, options.rounds + 1):
        leave_all(addresses)
        figures["floor"].append(floor(addresses))
        leave_all(addresses)
        first, noop = first_and_noop(playbook("swarm.yml"))
        figures["form"].append(first)
        figures["noop"].append(noop)
        record(figures, round_number)
    destroy_lab()

    median = medians(figures)
    print(f"\n3 nodes, {options.rounds} rounds (medians)")
    print("| figure | seconds | target |")
    print("|---|---|---|")
    print(f"| floor: docker swarm init + join over ssh | {median['floor']:.1f} | |")
    print(f"| form with the swarm role | {median['form']:.1f} | {median['form'] / median['floor']:.1f} x floor |")
    print(f"| no-op rerun (changed=0) | {median['noop']:.1f} | <= 10 s |")


if __name__ == "__main__":
    main()
