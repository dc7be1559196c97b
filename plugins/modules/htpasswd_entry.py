#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: htpasswd_entry
short_description: One user's bcrypt entry in an htpasswd file, at a chosen cost
version_added: 0.1.0
description:
  - Keeps the entry of O(name) in the htpasswd file O(path) a bcrypt hash of O(password) at cost O(cost). The entry
    is left as it is when it verifies with O(password) and already has that cost; otherwise (no entry, another
    password, another cost, or a hash that is not bcrypt) it is written anew with a fresh salt.
  - Other users' lines, comments and blank lines are kept. A missing file is created. The file is replaced
    atomically and written with mode C(0600) until the attributes given (O(owner), O(group), O(mode)) are applied.
  - community.general.htpasswd has no option for the bcrypt cost and uses passlib's default (12). A server that
    checks the hash on every request (Docker's registry with basic auth) pays that cost per request; for a long random
    machine secret a low cost protects as much. Raise O(cost) for a password a human chose.
  - Neither the password nor the hash appears in the result or the diff.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - ansible.builtin.files
attributes:
  diff_mode:
    support: full
    details: The diff names the user and the cost of its entry before and after (never the hash), and the file's
      attributes.
options:
  path:
    description: The htpasswd file.
    type: path
    required: true
  name:
    description: The user whose entry to keep (no C(:), no newline).
    type: str
    required: true
  password:
    description: The password; never logged.
    type: str
    required: true
  cost:
    description:
      - The bcrypt cost (log2 of the rounds), from C(4) to C(31). Each step doubles the time of every verification.
      - Measured with Python's crypt on the lab's machines, one verification takes 0.001 s at 4, 0.0034 s at 6,
        0.014 s at 8, 0.054 s at 10 and 0.21 s at 12 (passlib's default).
      - The default suits a long random machine secret; use at least C(12) for a password a human chose.
    type: int
    default: 5
requirements:
  - passlib and a bcrypt backend (Debian's C(python3-passlib) and C(python3-bcrypt))
notes:
  - In check mode nothing is written; the result says whether a real run would write the entry or the attributes.
seealso:
  - module: community.general.htpasswd
"""

EXAMPLES = r"""
- name: The registry's user, at a cost its per-request checks can afford
  agentopia.toolbox.htpasswd_entry:
    path: /etc/agentopia/registry/htpasswd
    name: agentopia
    password: "{{ vault_registry_password }}"
    cost: 5
    owner: "10001"
    group: "10001"
    mode: "0400"
  register: htpasswd  # restart the server when htpasswd is changed
"""

RETURN = r"""
entry:
  description:
    - What happened to O(name)'s entry (or would, in check mode) - C(created) (there was none), C(updated) (another
      password, another cost or not bcrypt) or C(unchanged).
  returned: success
  type: str
  sample: created
"""

import logging
import traceback
import warnings

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import ToolboxError
from ansible_collections.agentopia.toolbox.plugins.module_utils._files import write_atomically
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import Library, run_module

# passlib 1.7.4 logs a traceback when bcrypt (4.1 and later) has no __about__ (the backend works all the same), and
# passlib.apache loads the backend on import.
logging.getLogger("passlib.handlers.bcrypt").setLevel(logging.ERROR)
try:
    with warnings.catch_warnings():
        # passlib 1.7.4 imports crypt, deprecated since Python 3.11.
        warnings.simplefilter("ignore", DeprecationWarning)
        from passlib.apache import HtpasswdFile
        from passlib.context import CryptContext
        from passlib.exc import MissingBackendError
except ImportError:
    PASSLIB_IMPORT_ERROR = traceback.format_exc()
else:
    PASSLIB_IMPORT_ERROR = None

PASSLIB = Library("passlib and bcrypt (Debian: python3-passlib, python3-bcrypt)", PASSLIB_IMPORT_ERROR)
MIN_COST = 4
MAX_COST = 31


def describe(context, hashed):
    """What the diff says of an entry: its scheme and cost, never the hash."""
    if hashed is None:
        return "absent"
    if context.identify(hashed, required=False) is None:
        return "not bcrypt"
    return f"bcrypt, cost {context.handler().from_string(hashed).rounds}"


def is_current(context, hashed, password):
    """True when hashed is a bcrypt hash of password at the context's cost."""
    if hashed is None or context.identify(hashed, required=False) is None:
        return False
    return context.verify(password, hashed) and not context.needs_update(hashed)


def load(path, context):
    """The htpasswd file at path (an empty one when there is none), and whether it existed."""
    try:
        return HtpasswdFile(path, context=context), True
    except FileNotFoundError:
        return HtpasswdFile(context=context, new=True), False
    except (OSError, ValueError) as exc:
        raise ToolboxError(f"htpasswd_entry: cannot read {path}: {exc}") from exc


def execute_module(module):
    params = module.params
    path, name, password, cost = params["path"], params["name"], params["password"], params["cost"]
    if not MIN_COST <= cost <= MAX_COST:
        raise ToolboxError(f"htpasswd_entry: cost must be from {MIN_COST} to {MAX_COST}, got {cost}")
    if not password:
        raise ToolboxError(f"htpasswd_entry: password of {name} is empty")
    context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=cost)

    htpasswd, existed = load(path, context)
    try:
        old = htpasswd.get_hash(name)
        current = is_current(context, old, password)
        if not current:
            htpasswd.set_password(name, password)
    except ValueError as exc:
        raise ToolboxError(f"htpasswd_entry: {exc} (name {name!r})") from exc
    except MissingBackendError as exc:
        raise ToolboxError(
            f"htpasswd_entry: passlib has no bcrypt backend: install bcrypt (python3-bcrypt): {exc}"
        ) from exc

    entry = "unchanged" if current else "updated" if old is not None else "created"
    result = {"changed": not current, "entry": entry}
    diff = {
        "before": {"path": path, "state": "file" if existed else "absent"},
        "after": {"path": path, "state": "file"},
        "before_header": path,
        "after_header": path,
    }
    diff["before"][f"entry of {name}"] = describe(context, old)
    diff["after"][f"entry of {name}"] = describe(context, old) if current else f"bcrypt, cost {cost} (new hash)"

    if not current and not module.check_mode:
        try:
            # A new file is 0600; a replaced one keeps its owner and mode.
            write_atomically(path, htpasswd.to_string(), mode=0o600, keep_owner_and_mode=True)
        except OSError as exc:
            raise ToolboxError(f"htpasswd_entry: cannot write {path}: {exc}") from exc
    # A new file's attributes are part of its creation, not a diff of their own; in check mode it has none yet.
    if existed or not module.check_mode:
        file_args = module.load_file_common_arguments(params)
        result["changed"] = module.set_fs_attributes_if_different(
            file_args, result["changed"], diff=diff if existed else None
        )
    if module._diff:
        result["diff"] = diff
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "name": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
            "cost": {"type": "int", "default": 5},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="htpasswd_entry", needs=(PASSLIB,))


if __name__ == "__main__":
    main()
