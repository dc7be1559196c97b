#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rollout_results
short_description: Keep a fleet rollout's per-host results and its report on the controller
version_added: 0.1.0
description:
  - Manages the report directory of a rollout (role C(agentopia.toolbox.rollout)) on the controller, in the
    controller's own process, so a batch spends no time on it beyond the writes themselves.
  - With O(set_aside=true), moves an earlier run's C(hosts/) directory to C(hosts.<UTC time stamp>), so the report
    says what this run did.
  - With O(result), writes that host's result to C(hosts/<host>.json), creating the directories as needed.
  - With O(report=true), builds the report from every result file so far - a row per host of O(hosts), with
    C(unreachable) for a host still C(started) that is not among O(reachable) and C(untouched) for a host without
    a result - and writes C(report.json) and the aligned table C(report.txt).
  - Every file is replaced in one rename (mode 0640, directories 0750), so an interrupted run never leaves half a
    file. When several options are given they run in the order above.
  - This is an action plugin, and it never contacts a host.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.attributes.controller_action
attributes:
  check_mode:
    details: The report is the rollout's output on the controller, not state of a host, so it is written in check
      mode too.
  diff_mode:
    support: none
  idempotent:
    details: It never reports a change; its files are output, not state.
options:
  dir:
    description: The rollout's report directory on the controller.
    type: path
    required: true
  set_aside:
    description: Move an existing C(hosts/) directory aside first (the first batch of a new run).
    type: bool
    default: false
  result:
    description:
      - This host's result, written to C(hosts/<result.host>.json). It needs C(host) (the inventory name) and
        C(outcome); the role also writes C(toolbox), C(target), C(time), C(before), C(after), C(seconds), C(error).
    type: dict
  report:
    description: Build C(report.json) and C(report.txt) from every result file so far.
    type: bool
    default: false
  hosts:
    description: Every host of the rollout, in inventory order (C(ansible_play_hosts_all)). Required with O(report).
    type: list
    elements: str
  reachable:
    description: The hosts the play still has (C(ansible_play_hosts)). Required with O(report).
    type: list
    elements: str
notes:
  - The filters P(agentopia.toolbox.rollout_report#filter) and P(agentopia.toolbox.rollout_table#filter) build the
    same rows and table from result files you read yourself.
"""

EXAMPLES = r"""
- name: Note the host as started
  agentopia.toolbox.rollout_results:
    dir: "{{ rollout_report_dir }}"
    result: {host: "{{ inventory_hostname }}", outcome: started}

- name: Write the report of every host so far
  agentopia.toolbox.rollout_results:
    dir: "{{ rollout_report_dir }}"
    report: true
    hosts: "{{ ansible_play_hosts_all }}"
    reachable: "{{ ansible_play_hosts }}"
  run_once: true
  register: written

- name: Show it
  ansible.builtin.debug:
    msg: "{{ written.table.splitlines() }}"
"""

RETURN = r"""
set_aside:
  description: Where an earlier run's results went, or null when there were none.
  returned: when O(set_aside=true)
  type: str
path:
  description: The host's result file.
  returned: when O(result) is given
  type: str
report:
  description: One row per host, with at least C(host), C(before), C(after), C(outcome), C(seconds) and C(error).
  returned: when O(report=true)
  type: list
  elements: dict
table:
  description: The report as the aligned text table written to C(report.txt).
  returned: when O(report=true)
  type: str
"""
