# SPDX-License-Identifier: GPL-3.0-or-later
"""Time the whole site, playbooks/site.yml, on a 3-node bench lab (--stage site, the default), or docker_engine alone.

--stage site: one fresh bookworm bench lab (agentopia-bench, 172.28.98.0/24, .lab/bench; `make lab`'s lab is left
alone) and one first converge of site.yml (printed), then per round (each row the median of the rounds):
  floor    `ansible all -m ping` then `-m setup` on the bench inventory, one figure
  no-op    site.yml again, which must report changed=0; per-role times from ansible.posix.profile_roles
  service  the lab toolbox's first server gets another memory limit (320M / 192M by turns) through an extra-vars
           copy of toolbox_list: exactly that one service updated, healthy (the role waits for it), nothing built
  image    the time image's CMD gets another --local-timezone (mcp_images_args; a zone no earlier round used, so
           the build is new bytes the registry lacks): only that image built and pushed, only its services updated
Every run passes the extra vars the last change left (.lab/bench/site-changes.json), so the no-op stays a no-op.
Targets (issue 20): no-op <= 10 s; one-service change <= 20 s. The lab is destroyed at the end and on failure.

--stage engine, per round on fresh nodes each time:
  floor    `apt-get install -y docker.io` over ssh on every node at once (what a human would type)
  converge the first `playbooks/engine.yml` run (docker_engine) on every node
  no-op    the rerun right after, which must report changed=0
Both sides install from the node image's apt lists: the role is told they are fresh, as the
floor assumes. Targets (issue 3): converge <= 1.3 x floor; no-op <= 10 s on 3 nodes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import json
import os
import statistics
import sys
import time

from benchlab import (
    INVENTORY,
    JSON_OUTPUT,
    PROFILE_ROLES,
    STATE,
    assert_noop,
    destroy_lab,
    first_and_noop,
    fresh_lab,
    json_report,
    lab_vars,
    medians,
    module_results,
    playbook,
    record,
    role_defaults,
    role_times,
    run,
    ssh_output,
    timed,
)

# The floor uses the node image's apt lists as they are; so does the role with this setting.
SAME_APT_LISTS = ["-e", "docker_engine_apt_cache_valid_time=315360000"]
CHANGES = STATE / "site-changes.json"
MEMORY = ("192M", "320M")  # neither is the default 256M: round 1 is a change too
ZONES = ("Europe/Paris", "Asia/Tokyo", "America/New_York", "Australia/Sydney", "Africa/Nairobi", "Asia/Kolkata")
ANCHOR = "geerlingguy.docker + community.docker, engine + swarm + networks + a secret"
WORK = "mcp_images__work"  # the images mcp_images builds, audits or describes in a run (its tasks/decide.yml)


def apt_floor(addresses: list[str]) -> float:
    command = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null"
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(addresses)) as pool:
        list(pool.map(lambda address: ssh_output(address, command), addresses))
    return time.monotonic() - start


def engine(options: argparse.Namespace) -> None:
    rounds = options.rounds or 2
    figures: dict[str, list[float]] = {"floor": [], "converge": [], "noop": []}
    for round_number in range(1, rounds + 1):
        figures["floor"].append(apt_floor(fresh_lab(options.nodes)))
        fresh_lab(options.nodes)
        first, noop = first_and_noop(playbook("engine.yml", *SAME_APT_LISTS))
        figures["converge"].append(first)
        figures["noop"].append(noop)
        record(figures, round_number)

    median = medians(figures)
    ratio = median["converge"] / median["floor"]
    print(f"\n{options.nodes} nodes, {rounds} rounds (medians)")
    print("| figure | seconds | target |")
    print("|---|---|---|")
    print(f"| floor: apt-get install docker.io | {median['floor']:.1f} | |")
    print(f"| first converge | {median['converge']:.1f} | <= 1.3 x floor: {ratio:.2f} x |")
    print(f"| no-op rerun (changed=0) | {median['noop']:.1f} | <= 10 s |")


def ansible_floor() -> float:
    start = time.monotonic()
    run("ansible", "all", "-i", str(INVENTORY), "-m", "ansible.builtin.ping")
    run("ansible", "all", "-i", str(INVENTORY), "-m", "ansible.builtin.setup")
    return time.monotonic() - start


def row(figure: str, seconds: float, limit: float | None = None) -> None:
    target = f"<= {limit:g} s: {'met' if seconds <= limit else 'not met'}" if limit else ""
    print(f"| {figure} | {seconds:.1f} | {target} |")


def site_run(changes: dict, env: dict[str, str]) -> tuple[float, str]:
    """Time site.yml with the extra vars the last change left (none before the first)."""
    CHANGES.write_text(json.dumps(changes, indent=2))
    return timed(*playbook("site.yml", "-e", f"@{CHANGES}"), env=env)


def check_change(out: str, built: set[str], updated: set[str], what: str) -> None:
    """The run (JSON output) built, audited and pushed exactly the images `built` (mcp_images keys) and updated
    exactly the toolbox services `updated`; it succeeded, so they are healthy."""
    report = json_report(out)
    work = [image for r in module_results(report, "set_fact") for image in r.get("ansible_facts", {}).get(WORK, [])]
    actions: dict[str, str] = {}
    for result in module_results(report, "toolbox_stack"):
        actions.update(result.get("actions", {}))
    got = {
        "work": sorted(image["key"] for image in work),
        "built": sorted(image["key"] for image in work if image["build"]),
        "pushed": sorted(ref for r in module_results(report, "registry_push") for ref in r.get("pushed", [])),
        "services": {name: action for name, action in actions.items() if action != "unchanged"},
    }
    want = {
        "work": sorted(built),
        "built": sorted(built),
        "pushed": sorted(image["ref"] for image in work if image["key"] in built and image["ship"]),
        "services": dict.fromkeys(updated, "update"),
    }
    if got != want or not actions:
        saved = STATE / "failed-run.json"
        saved.write_text(out)
        sys.exit(f"bench: {what}: expected {want}, got {got}; the run's JSON output is in {saved}")


def site(options: argparse.Namespace) -> None:
    rounds = options.rounds or 3
    if rounds > len(ZONES):
        sys.exit(f"bench: at most {len(ZONES)} rounds (one time zone each)")
    print(f"load average (1 min) at the start: {os.getloadavg()[0]:.2f}", flush=True)
    fresh_lab(options.nodes)
    first = timed(*playbook("site.yml"))[0]
    print(f"first converge of playbooks/site.yml: {first:.1f}s", flush=True)
    toolboxes = lab_vars()["toolbox_list"]
    toolbox, server = toolboxes[0]["name"], toolboxes[0]["servers"][0]["name"]
    clocks = {f"{t['name']}_{s['name']}" for t in toolboxes for s in t["servers"] if s["kind"] == "time"}
    if not clocks:
        sys.exit("bench: the lab inventory's toolbox_list has no time server, whose image the image round changes")
    default_args = role_defaults("mcp_images")["mcp_images_args"]

    changes: dict[str, object] = {}
    figures: dict[str, list[float]] = {"floor": [], "noop": [], "service": [], "image": []}
    roles: dict[str, list[float]] = {}
    for number in range(1, rounds + 1):
        figures["floor"].append(ansible_floor())

        seconds, out = site_run(changes, PROFILE_ROLES)
        assert_noop(out)
        times = role_times(out)
        if not times:
            sys.exit(f"bench: no ROLES RECAP from ansible.posix.profile_roles in the no-op's output:\n{out}")
        figures["noop"].append(seconds)
        for role, role_seconds in times.items():
            roles.setdefault(role, []).append(role_seconds)

        memory = MEMORY[number % 2]
        changes["toolbox_list"] = copy.deepcopy(toolboxes)
        changes["toolbox_list"][0]["servers"][0]["memory"] = memory
        seconds, out = site_run(changes, JSON_OUTPUT)
        check_change(out, set(), {f"{toolbox}_{server}"}, f"round {number}, {server}'s memory limit {memory}")
        figures["service"].append(seconds)

        zone = ZONES[number - 1]
        changes["mcp_images_args"] = {**default_args, "time": ["--local-timezone", zone]}
        seconds, out = site_run(changes, JSON_OUTPUT)
        check_change(out, {"time"}, clocks, f"round {number}, the time image with --local-timezone {zone}")
        figures["image"].append(seconds)
        record(figures, number)
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}", flush=True)

    median = medians(figures)
    print(f"\nplaybooks/site.yml, {options.nodes} bench nodes, {rounds} rounds (medians); first converge {first:.0f}s")
    print("| figure | seconds | target |")
    print("|---|---|---|")
    row("floor: `ansible all -m ping` + `-m setup`", median["floor"])
    row(f"anchor (a reference, not measured): {ANCHOR}", 16)
    row("no-op rerun of site.yml (changed=0)", median["noop"], 10)
    row("one server's memory limit changed: one service updated", median["service"], 20)
    row("one image's input changed: built, pushed, its services updated", median["image"])
    print("\n| role (no-op rerun) | seconds |")
    print("|---|---|")
    for role, values in sorted(roles.items(), key=lambda item: -statistics.median(item[1])):
        print(f"| {role} | {statistics.median(values):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=("site", "engine"), default="site")
    parser.add_argument("--rounds", type=int, help="default: 3 (site), 2 (engine)")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the bench lab at the end and on failure")
    options = parser.parse_args()
    try:
        (site if options.stage == "site" else engine)(options)
    finally:
        if not options.keep:
            destroy_lab()


if __name__ == "__main__":
    main()
