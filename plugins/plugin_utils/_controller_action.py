# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base of the collection's actions that work on the controller only (private to the collection)."""

from __future__ import annotations

from typing import Any, ClassVar

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """An action with no connection to the host that gives the same answer in check mode.

    A subclass names itself (``name``), lists the errors a user can act on (``errors``) and implements
    ``work(args)``, which returns the task result; such an error becomes one failed result whose message starts
    with the name. ``describe`` words an error when its text alone would not say enough.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    name: ClassVar[str]
    errors: ClassVar[tuple[type[BaseException], ...]] = ()

    def work(self, args: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def describe(self, error: BaseException) -> str:
        return str(error)

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        del tmp, task_vars
        try:
            return self.work(dict(self._task.args))
        except self.errors as error:
            return {"failed": True, "changed": False, "msg": f"{self.name}: {self.describe(error)}"}
