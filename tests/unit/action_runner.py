# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one of the collection's action plugins as a task would, with no connection at all."""

from typing import Any
from unittest.mock import MagicMock

from ansible.playbook.play_context import PlayContext


def run_action(action_class: Any, args: dict[str, Any], check_mode: bool = False) -> dict[str, Any]:
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    # No connection: a controller-side action must not need one.
    action = action_class(task, None, PlayContext(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={})
