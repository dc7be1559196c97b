# SPDX-License-Identifier: GPL-3.0-or-later
"""Time docker_engine on a 3-node lab against the bare package install, in the same run.

Per round, on fresh nodes each time:
  floor    `apt-get install -y docker.io` over ssh on every node at once (what a human would type)
  converge the first `playbooks/engine.yml` run (docker_engine) on every node
  no-op    the rerun right after, which must report changed=0
Both sides install from the node image's apt lists: the role is told they are fresh, as the
floor assumes. Targets (issue 3): converge <= 1.3 x floor; no-op <= 10 s on 3 nodes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import time

from benchlab import destroy_lab, first_and_noop, fresh_lab, medians, playbook, record, ssh_output

# The floor uses the node image's apt lists as they are; so does the role with this setting.
SAME_APT_LISTS = ["-e", "docker_engine_apt_cache_valid_time=315360000"]


def floor(addresses: list[str]) -> float:
    command = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null"
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(addresses)) as pool:
        list(pool.map(lambda address: ssh_output(address, command), addresses))
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--nodes", type=int, default=3)
    options = parser.parse_args()
    figures: dict[str, list[float]] = {"floor": [], "converge": [], "noop": []}
    for round_number in range(1, options.rounds + 1):
        figures["floor"].append(floor(fresh_lab(options.nodes)))
        fresh_lab(options.nodes)
        first, noop = first_and_noop(playbook("engine.yml", *SAME_APT_LISTS))
        figures["converge"].append(first)
        figures["noop"].append(noop)
        record(figures, round_number)
    destroy_lab()

    median = medians(figures)
    ratio = median["converge"] / median["floor"]
    print(f"\n{options.nodes} nodes, {options.rounds} rounds (medians)")
    print("| figure | seconds | target |")
    print("|---|---|---|")
    print(f"| floor: apt-get install docker.io | {median['floor']:.1f} | |")
    print(f"| first converge | {median['converge']:.1f} | <= 1.3 x floor: {ratio:.2f} x |")
    print(f"| no-op rerun (changed=0) | {median['noop']:.1f} | <= 10 s |")


if __name__ == "__main__":
    main()
