# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""toolbox_validate: check a toolbox spec on the controller, before any host is contacted."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleError
from ansible_collections.agentopia.toolbox.plugins.module_utils._toolbox_spec import SpecError, normalize, validate
from ansible_collections.agentopia.toolbox.plugins.plugin_utils._controller_action import ControllerAction

OPTIONS = frozenset(("spec", "secret_names"))


def check(spec: Any, secret_names: Any = None) -> dict[str, Any]:
    """The task result for one spec: the normalized spec, or every error with its field path."""
    errors: list[SpecError] = []
    names: list[str] | None = None
    if secret_names is not None:
        if isinstance(secret_names, list) and all(isinstance(name, str) for name in secret_names):
            names = secret_names
        else:
            errors.append(
                SpecError(
                    "secret_names", "must be a list of secret names (strings), e.g. {{ my_secrets.keys() | list }}"
                )
            )
    errors.extend(validate(spec, names))
    if errors:
        lines = "\n".join(str(error) for error in errors)
        return {
            "failed": True,
            "changed": False,
            "msg": f"The toolbox spec has {len(errors)} error(s); fix each field named below "
            f"(see docs/toolbox-spec.md):\n{lines}",
            "errors": [error._asdict() for error in errors],
        }
    return {"changed": False, "spec": normalize(spec)}


class ActionModule(ControllerAction):
    # Pure data in, data out: no connection, no files, same answer in check mode.
    name = "toolbox_validate"
    errors = (ImportError, AnsibleError)

    def work(self, args: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(str(key) for key in args if key not in OPTIONS)
        if unknown:
            return {
                "failed": True,
                "changed": False,
                "msg": f"unknown option(s) {', '.join(unknown)}: toolbox_validate takes spec and secret_names",
            }
        if "spec" not in args:
            return {"failed": True, "changed": False, "msg": "spec is required: the toolbox spec to check"}
        return check(args["spec"], args.get("secret_names"))

    def describe(self, error: BaseException) -> str:
        if isinstance(error, ImportError):
            return (
                f"needs the jsonschema library on the controller ({error}): "
                "pip install -r requirements.txt of the collection"
            )
        return str(error)
