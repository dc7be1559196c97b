#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_files
short_description: A role's directories, small files and file attributes on a host, in one call
version_added: 0.1.0
description:
  - Keeps every entry of O(files) as it is given - a directory, a file with exactly this content, or the owner,
    group and mode of a path the packages installed - in one module run, so an unchanged role costs one round trip
    to the host instead of one per file (and one per loop item).
  - Entries are read and every new content is checked with its O(files[].validate) command before anything is
    written; a failing check writes nothing at all. Files are then replaced atomically, in the order given (a
    directory before the files in it).
  - C(changed_paths) names the paths that changed, so a task can notify handlers (or restart a service) only for
    the ones that matter.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
attributes:
  diff_mode:
    support: full
    details: One diff per changed entry - content (unless O(files[].diff=false)) and attributes.
options:
  files:
    description: The entries, in the order they are applied.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      state:
        description:
          - C(file) - the file holds O(files[].content) exactly.
          - C(directory) - a directory; missing parents are made too, C(0755) (as ansible.builtin.file does).
          - C(attributes) - only the owner, group and mode of a path that exists; a missing path is left alone.
        type: str
        choices: [file, directory, attributes]
        default: file
      content:
        description: The file's whole content, for O(files[].state=file).
        type: str
      owner:
        description: User name or ID; omitted, left as it is (a new file is root's).
        type: str
      group:
        description: Group name or ID; omitted, left as it is.
        type: str
      mode:
        description: Octal mode as a string (C("0644")); omitted, a new file is C(0600) and a new directory C(0700).
        type: str
      validate:
        description: Command that checks new content before it is written; C(%s) is the path of a temporary copy.
        type: str
      diff:
        description: Show the content in the diff (set false for keys and passwords; the task also needs no_log).
        type: bool
        default: true
notes:
  - In check mode nothing is written; the result says what a real run would change.
  - Meant for configuration files of a few kilobytes that the controller renders; use ansible.builtin.copy for
    large or binary files.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: The engine's configuration and the modes CIS asks for, in one round trip
  agentopia.toolbox.host_files:
    files:
      - {path: /etc/docker, state: directory, owner: root, group: root, mode: "0755"}
      - path: /etc/docker/daemon.json
        content: "{{ daemon_config | to_nice_json }}\n"
        mode: "0644"
        validate: dockerd --validate --config-file %s
      - {path: /lib/systemd/system/docker.service, state: attributes, owner: root, group: root, mode: "0644"}
  register: engine_files
  notify: Restart dockerd
"""

RETURN = r"""
changed_paths:
  description: The paths that changed (or would, in check mode), in the order of O(files).
  returned: success
  type: list
  elements: str
  sample: [/etc/docker/daemon.json]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils._files import read_if_present, write_atomically

NEW_FILE_MODE = 0o600
NEW_DIRECTORY_MODE = 0o700
PARENT_MODE = 0o755


class FilesError(Exception):
    """An entry that cannot be kept, with the path and the fix; the module fails with it."""


def attributes_of(entry):
    """The file arguments AnsibleModule.set_fs_attributes_if_different takes, for one entry."""
    return {
        "path": entry["path"],
        "owner": entry["owner"],
        "group": entry["group"],
        "mode": entry["mode"],
        "secontext": [None, None, None, None],
        "attributes": None,
    }


def check_entry(entry):
    path, state = entry["path"], entry["state"]
    if not os.path.isabs(path):
        raise FilesError(f"host_files: path {path!r} must be absolute")
    if (state == "file") != (entry["content"] is not None):
        raise FilesError(f"host_files: {path}: content is required for state=file and only for it")
    if entry["mode"] is not None:
        try:
            int(entry["mode"], 8)
        except ValueError:
            raise FilesError(f'host_files: {path}: mode must be octal, as a string like "0644"') from None


def read(path):
    """The file's bytes, or None when there is none."""
    try:
        return read_if_present(path)
    except OSError as exc:
        raise FilesError(f"host_files: cannot read {path}: {exc}") from exc


def validate(module, entry, data):
    """Run the entry's validate command on a temporary copy of data; fail naming the path and the output."""
    directory = os.path.dirname(entry["path"]) if os.path.isdir(os.path.dirname(entry["path"])) else None
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".host_files.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        rc, out, err = module.run_command(entry["validate"] % temporary)
    finally:
        os.unlink(temporary)
    if rc != 0:
        raise FilesError(
            f"host_files: the new content of {entry['path']} failed its check ({entry['validate']}), "
            f"so nothing was written: {(err or out).strip()}"
        )


def plan(module, entry):
    """What the entry needs: (new bytes to write or None, whether the directory must be made)."""
    path, state = entry["path"], entry["state"]
    if state == "directory":
        if os.path.exists(path) and not os.path.isdir(path):
            raise FilesError(f"host_files: {path} exists and is not a directory")
        return None, not os.path.isdir(path)
    if state == "attributes":
        return None, False
    if os.path.isdir(path):
        raise FilesError(f"host_files: {path} is a directory, not a file")
    data = entry["content"].encode("utf-8")
    old = read(path)
    if old == data:
        return None, False
    if entry["validate"]:
        validate(module, entry, data)
    return data, False


def content_diff(entry, old, new):
    if not entry["diff"]:
        return {"before": "(content hidden)\n" if old is not None else "", "after": "(new content hidden)\n"}
    return {"before": old.decode("utf-8", "replace") if old is not None else "", "after": new.decode("utf-8")}


def apply(module, entry, data, make_directory):
    """Write or make the entry, then its attributes; return (changed, diff)."""
    path = entry["path"]
    diff = {"before_header": path, "after_header": path, "before": {}, "after": {}}
    changed = False
    if make_directory:
        changed = True
        diff["before"]["state"], diff["after"]["state"] = "absent", "directory"
        if not module.check_mode:
            try:
                os.makedirs(os.path.dirname(path), mode=PARENT_MODE, exist_ok=True)
                os.mkdir(path, NEW_DIRECTORY_MODE)
            except OSError as exc:
                raise FilesError(f"host_files: cannot make the directory {path}: {exc}") from exc
    if data is not None:
        changed = True
        old = read(path)
        diff = {**diff, **content_diff(entry, old, data)}
        if not module.check_mode:
            try:
                write_atomically(path, data, mode=NEW_FILE_MODE, keep_owner_and_mode=True)
            except OSError as exc:
                raise FilesError(f"host_files: cannot write {path}: {exc}") from exc
    exists = os.path.exists(path)
    if exists:
        attribute_diff = {"before": {}, "after": {}}
        if module.set_fs_attributes_if_different(attributes_of(entry), False, diff=attribute_diff):
            changed = True
            if isinstance(diff["before"], dict):
                diff["before"].update(attribute_diff["before"])
                diff["after"].update(attribute_diff["after"])
    return changed, diff


def execute_module(module):
    entries = module.params["files"]
    for entry in entries:
        check_entry(entry)
    # Every entry is read and every new content checked before the first write.
    plans = [plan(module, entry) for entry in entries]
    changed_paths, diffs = [], []
    for entry, (data, make_directory) in zip(entries, plans, strict=True):
        if entry["state"] == "attributes" and not os.path.exists(entry["path"]):
            continue
        changed, diff = apply(module, entry, data, make_directory)
        if changed:
            changed_paths.append(entry["path"])
            diffs.append(diff)
    result = {"changed": bool(changed_paths), "changed_paths": changed_paths}
    if module._diff:
        result["diff"] = diffs
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "state": {"type": "str", "choices": ["file", "directory", "attributes"], "default": "file"},
                    "content": {"type": "str"},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                    "mode": {"type": "str"},
                    "validate": {"type": "str"},
                    "diff": {"type": "bool", "default": True},
                },
            },
        },
        supports_check_mode=True,
    )
    # Not _module.run_module: that one loads the Docker SDK, which this module does not need (one more import on
    # every host, every run).
    try:
        result = execute_module(module)
    except FilesError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
