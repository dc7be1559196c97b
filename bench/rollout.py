# SPDX-License-Identifier: GPL-3.0-or-later
"""Orchestration overhead of a fleet rollout: playbooks/rollout.yml on 4 per-user hosts, serial 1 and serial 2.

Setup, not timed: a 4-node lab of its own (agentopia-rbench, 172.28.97.0/24, .lab/rbench), the engine, each node
its own single-node swarm, the base, time-server and gateway images built on node1 and pushed to a registry there,
then a first rollout of the fleet toolbox (one `time` server, "clock") that every host pulls the images for.
Then ROUNDS times, serial 1 and serial 2 in alternating order, each rollout a real change (a new version whose
clock runs with the other --local-timezone, so the clock service is replaced on every host):
  total     wall time of `ansible-playbook playbooks/rollout.yml`
  hosts     each host's `seconds` from the report's hosts/<host>.json: the host's own work (facts, pre-flight,
            plan, deploy, gate, record)
  ideal     per batch, its slowest host; summed over the batches (serial 1: the plain sum)
  overhead  total / ideal - 1
  deploy    the `Deploy the toolbox at ...` task and the gate task alone, per batch (the slowest host, as the
            linear strategy waits for it), summed; from the ansible.posix.json callback's task times
Target (issue 9): overhead at most 20 %.
`.venv/bin/python bench/rollout.py [--rounds N] [--keep-lab] [--reuse]`; --reuse skips the setup on a lab an
earlier --keep-lab run left (its images file and first rollout in place); --rounds 0 --keep-lab only sets it up.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchlab import ROOT, run

STATE = ROOT / ".lab/rbench"
INVENTORY = STATE / "inventory.yml"
IMAGES = STATE / "rollout-images.json"
FLEET_VARS = STATE / "fleet.json"
REPORTS = STATE / "reports"
# Not the shared bench lab (agentopia-bench, 172.28.98): another bench may be using it.
LAB = [
    "-e", "lab_name=agentopia-rbench",
    "-e", "lab_subnet_prefix=172.28.97",
    "-e", f"lab_state_dir={STATE}",
]  # fmt: skip
NODES = 4
BUILD_HOST = "node1"
TIMEZONES = ("Europe/Paris", "Europe/Berlin")
DEPLOY_TASK = "Deploy the toolbox at"
GATE_TASK = "Gate - "

# As molecule/rollout/converge.yml does it: solo swarms, images on the first host, the registry there trusted
# by every host, and kind -> reference by digest written for the rollouts.
SETUP = """---
- name: Docker engine
  ansible.builtin.import_playbook: {root}/playbooks/engine.yml

- name: Each host its own single-node swarm
  ansible.builtin.import_playbook: {root}/playbooks/solo-swarm.yml

- name: Images FROM the base, on the first host
  ansible.builtin.import_playbook: {root}/playbooks/images.yml

- name: Registry on the first host; the images pushed once
  ansible.builtin.import_playbook: {root}/playbooks/registry.yml

- name: Keep the images' registry references for the rollouts
  hosts: {build_host}
  gather_facts: false
  tasks:
    - name: Write kind -> reference by digest
      ansible.builtin.copy:
        dest: {images}
        content: "{{{{ dict(mcp_images_refs.keys() | zip(mcp_images_refs.values() | map('extract', registry_digests)))
                     | to_nice_json }}}}"
        mode: "0644"
      delegate_to: localhost
"""


def playbook(path: str | Path, *extra: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run one playbook against the rbench lab; its wall time and stdout."""
    command = ["ansible-playbook", "-i", str(INVENTORY), str(path), *extra]
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(command)} failed:\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}")
    return seconds, done.stdout


def debian_mirror() -> str:
    """The live URIs line of the host's apt sources (never a commented snapshot address)."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split(":", 1)[1].strip().split()[0]
    return "http://deb.debian.org/debian"


def setup() -> None:
    shutil.rmtree(REPORTS, ignore_errors=True)
    run("ansible-playbook", "playbooks/lab-destroy.yml", *LAB)
    # -i names the inventory lab.yml writes, so its refresh never loads another lab's.
    run("ansible-playbook", "-i", str(INVENTORY), "playbooks/lab.yml", *LAB, "-e", f"lab_nodes={NODES}")
    path = STATE / "setup.yml"
    path.write_text(SETUP.format(root=ROOT, build_host=BUILD_HOST, images=IMAGES))
    settings = {
        "solo_swarm_hosts": "lab",
        "image_build_host": BUILD_HOST,
        "base_image_mirror": debian_mirror(),
        "mcp_images_kinds": ["time"],
        "mcp_images_postgresql": False,
    }
    seconds = playbook(path, "-e", json.dumps(settings))[0]
    print(f"setup: engine, solo swarms, images and registry in {seconds:.0f}s", flush=True)
    write_fleet_vars()
    seconds = playbook("playbooks/rollout.yml", "-e", f"@{FLEET_VARS}", "-e", json.dumps(rollout_vars(0, [1, 3])))[0]
    print(f"setup: first rollout (every host pulls the images) in {seconds:.0f}s", flush=True)


def write_fleet_vars() -> None:
    """The fleet's settings for every rollout: images by digest, the token, the gate."""
    token = STATE / "fleet-token"
    if not token.exists():
        token.write_text(secrets.token_hex(20))
        token.chmod(0o600)
    fleet = {
        "rollout_hosts": "lab",
        "rollout_images": json.loads(IMAGES.read_text()),
        "rollout_secrets": {"fleet_token": token.read_text().strip()},
        "rollout_smoke_call": {"name": "clock__get_current_time", "arguments": {"timezone": "UTC"}},
        "rollout_smoke_text": "UTC",
        "rollout_gate_budget": 45,
    }
    FLEET_VARS.write_text(json.dumps(fleet, indent=2))
    FLEET_VARS.chmod(0o600)


def rollout_vars(number: int, serial: int | list[int]) -> dict[str, object]:
    """Rollout `number`: version 1.<number>.0, its clock on the other time zone than the rollout before."""
    version = f"1.{number}.0"
    clock = {"name": "clock", "kind": "time", "args": ["--local-timezone", TIMEZONES[number % 2]]}
    return {
        "rollout_toolbox": {"name": "fleet", "version": version, "servers": [clock]},
        "rollout_serial": serial,
        "rollout_report_dir": str(REPORTS / version),
    }


def stamp(text: str) -> float:
    return datetime.datetime.fromisoformat(text.removesuffix("Z")).timestamp()


def task_seconds(callback: dict, prefix: str) -> float:
    """The named task's time per batch (start to its last host's result), summed over the batches."""
    total = 0.0
    for play in callback["plays"]:
        for task in play["tasks"]:
            duration = task["task"]["duration"]
            # Role tasks are named "rollout : <name>".
            if prefix in task["task"]["name"] and "end" in duration:
                total += stamp(duration["end"]) - stamp(duration["start"])
    return total


def batches(callback: dict) -> list[list[str]]:
    """The hosts of each batch, in order: under `serial`, every batch is a play of its own."""
    found = []
    for play in callback["plays"]:
        hosts = sorted({host for task in play["tasks"] for host in task["hosts"]})
        if hosts:
            found.append(hosts)
    return found


def measure(number: int, serial: int) -> dict[str, float]:
    variables = rollout_vars(number, serial)
    version = f"1.{number}.0"
    report = Path(str(variables["rollout_report_dir"]))
    shutil.rmtree(report, ignore_errors=True)
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_JSON_INDENT="0")
    total, out = playbook("playbooks/rollout.yml", "-e", f"@{FLEET_VARS}", "-e", json.dumps(variables), env=env)
    callback = json.loads(out[out.index("{") :])
    (report / "callback.json").write_text(json.dumps(callback))
    seconds: dict[str, float] = {}
    for path in sorted((report / "hosts").glob("*.json")):
        result = json.loads(path.read_text())
        if result["outcome"] != "deployed" or result["after"] != version:
            sys.exit(f"bench: {path}: expected deployed at the new version, got {result}")
        seconds[result["host"]] = float(result["seconds"])
    groups = batches(callback)
    if sorted(seconds) != sorted(host for group in groups for host in group) or len(seconds) != NODES:
        sys.exit(f"bench: rollout {number}: report hosts {sorted(seconds)} do not match the batches {groups}")
    if any(len(group) > serial for group in groups):
        sys.exit(f"bench: rollout {number}: a batch is larger than serial {serial}: {groups}")
    ideal = sum(max(seconds[host] for host in group) for group in groups)
    figures = {
        "total": total,
        "ideal": ideal,
        "overhead": total / ideal - 1,
        "deploy": task_seconds(callback, DEPLOY_TASK),
        "gate": task_seconds(callback, GATE_TASK),
    }
    per_host = ", ".join(f"{host} {value:.1f}" for host, value in sorted(seconds.items()))
    print(
        f"  serial {serial} ({version}, batches {groups}): "
        f"total {total:.1f}s, ideal {ideal:.1f}s, overhead {figures['overhead']:+.1%}, "
        f"deploy tasks {figures['deploy']:.1f}s, gate tasks {figures['gate']:.1f}s; hosts: {per_host}",
        flush=True,
    )
    return figures


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab up at the end (for --reuse)")
    parser.add_argument("--reuse", action="store_true", help="skip the setup: a --keep-lab run left the lab")
    options = parser.parse_args()
    # ansible-playbook and the controller-side modules (mcp_probe) come from the interpreter's venv.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    print(f"load before: {load()}", flush=True)
    if options.reuse:
        if not (IMAGES.exists() and INVENTORY.exists()):
            sys.exit(f"bench: --reuse needs a lab left by --keep-lab ({IMAGES} and {INVENTORY})")
        write_fleet_vars()
    else:
        setup()

    # Later versions than any earlier rollout on this lab, so every rollout is a change.
    done = [int(p.name.split(".")[1]) for p in REPORTS.glob("1.*.0")] if REPORTS.exists() else []
    number = max(done, default=0)
    figures: dict[int, dict[str, list[float]]] = {1: {}, 2: {}}
    for round_number in range(1, options.rounds + 1):
        print(f"round {round_number}", flush=True)
        # Alternate which goes first, so the machine's load hits both alike.
        for serial in (1, 2) if round_number % 2 else (2, 1):
            number += 1
            for name, value in measure(number, serial).items():
                figures[serial].setdefault(name, []).append(value)
    print(f"load after: {load()}", flush=True)
    if not options.keep_lab:
        run("ansible-playbook", "playbooks/lab-destroy.yml", *LAB)
    if not options.rounds:
        return  # --rounds 0 --keep-lab: the setup alone, for a later --reuse

    print(
        f"\n{NODES} hosts, each its own swarm; one clock server behind the gateway; {options.rounds} rounds (medians)"
    )
    print("| serial | total s | ideal s (sum of batches' slowest host) | overhead | deploy tasks s | gate tasks s |")
    print("|---|---|---|---|---|---|")
    for serial, values in figures.items():
        median = {name: statistics.median(series) for name, series in values.items()}
        verdict = "met" if median["overhead"] <= 0.20 else "NOT met"
        print(
            f"| {serial} | {median['total']:.1f} | {median['ideal']:.1f} | {median['overhead']:+.1%} "
            f"(<= 20 %: {verdict}) | {median['deploy']:.1f} | {median['gate']:.1f} |"
        )
    print("\nRounds:")
    for serial, values in figures.items():
        rows = zip(values["total"], values["ideal"], values["overhead"], strict=True)
        print(f"serial {serial}: " + "; ".join(f"{t:.1f} / {i:.1f} s ({o:+.1%})" for t, i, o in rows))


if __name__ == "__main__":
    main()
