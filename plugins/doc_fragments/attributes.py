# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Each claim's text, once. A module that supports less says so in its own attributes (support: none and
    # details): ansible-doc merges those keys over these, per attribute.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
"""

    # For action plugins that run on the controller and never contact a host (toolbox_validate, rollout_results);
    # they extend DOCUMENTATION too and state where their check_mode, diff_mode and idempotent claims differ.
    CONTROLLER_ACTION = r"""
options: {}
attributes:
  action:
    description: Has a corresponding action plugin that runs on the controller.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
"""
