# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A toolbox's deployment record on its host: <state_dir>/<toolbox>.json (private to the collection).

The record outlives any process: what runs now (`current`), every outcome (`history`) and every
version deployed successfully, with the spec and images to deploy it again (`versions`). The format
is described in docs/state.md. Pure functions build and compare records; `load` and `write` are the
only file I/O, and `write` replaces the file atomically so a crash leaves the old or the new record,
never half of one.
"""

from __future__ import annotations

import copy
import errno
import fcntl
import json
import os
import re
import stat
from contextlib import contextmanager
from datetime import datetime, timezone

from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import ToolboxError
from ansible_collections.agentopia.toolbox.plugins.module_utils._files import write_atomically

SCHEMA = 1
DEFAULT_DIR = "/etc/agentopia/toolbox"
OUTCOMES = ("deployed", "failed", "rolled_back", "removed")
# Outcomes after which the recorded version is what runs.
SETS_CURRENT = ("deployed", "rolled_back")
# A failure message carries log lines; the record keeps their start, the play output has all of it.
DETAIL_MAX = 2000
TRUNCATED = " [truncated]"
# The toolbox name rule of docs/toolbox-spec.md; it also keeps a name from leaving state_dir.
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,22}$")
DIR_MODE = 0o700
FILE_MODE = 0o600


class StateError(ToolboxError):
    """The record cannot be read or written; the message names the file and the fix."""


def utc_now() -> str:
    """Now in UTC, ISO 8601 to the second (module tests replace this)."""
    # Not datetime.UTC: targets may run Python 3.10 (Ubuntu 22.04).
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: UP017


def state_path(state_dir: str, name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise StateError(
            f"toolbox name {name!r} is not a toolbox name (a lowercase letter, then up to 22 lowercase letters, "
            "digits or '-'); pass the name of the spec toolbox_validate returned"
        )
    return os.path.join(state_dir, f"{name}.json")


def empty(name: str) -> dict:
    return {"schema": SCHEMA, "name": name, "current": None, "history": [], "versions": {}}


def _problem(doc, name: str) -> str | None:
    """What makes doc not a record of toolbox name, or None."""
    if not isinstance(doc, dict):
        return "it is not a JSON object"
    if doc.get("schema") != SCHEMA:
        return f"its schema is {doc.get('schema')!r}, this collection reads schema {SCHEMA} (a newer collection?)"
    if doc.get("name") != name:
        return f"it records toolbox {doc.get('name')!r}, not {name!r}"
    current = doc.get("current")
    if current is not None and not (isinstance(current, dict) and {"version", "spec_hash"} <= set(current)):
        return "'current' is neither null nor an object with version and spec_hash"
    history = doc.get("history")
    if not isinstance(history, list) or not all(isinstance(e, dict) and "outcome" in e for e in history):
        return "'history' is not a list of entries with an outcome"
    versions = doc.get("versions")
    if not isinstance(versions, dict) or not all(isinstance(v, dict) and "spec" in v for v in versions.values()):
        return "'versions' is not an object of version -> {spec, images, spec_hash, recorded}"
    return None


def load(path: str, name: str) -> dict | None:
    """The record at path, or None when there is none yet. A file that is not a record is never guessed at."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        fix = "run the task as root (become: true)" if exc.errno == errno.EACCES else "make it a readable file"
        raise StateError(f"cannot read the toolbox state file {path}: {exc.strerror}; {fix}") from exc
    try:
        doc = json.loads(text)
        problem = _problem(doc, name)
    except ValueError as exc:
        problem = f"it is not valid JSON ({exc})"
    if problem:
        raise StateError(
            f"the toolbox state file {path} is unusable: {problem}. It was left as it is. Repair it by hand "
            f"(docs/state.md describes the format), or move it aside (mv {path} {path}.corrupt) to start a new "
            "history; the next deploy records the current version again"
        )
    return doc


def _entry(outcome: str, version: str, spec_hash: str, detail: str, now: str) -> dict:
    if len(detail) > DETAIL_MAX:
        detail = detail[: DETAIL_MAX - len(TRUNCATED)] + TRUNCATED
    return {"time": now, "version": version, "spec_hash": spec_hash, "outcome": outcome, "detail": detail}


def record(
    state: dict | None,
    name: str,
    outcome: str,
    version: str | None = None,
    spec_hash: str | None = None,
    spec: dict | None = None,
    images: dict | None = None,
    detail: str = "",
    rolled_back: list[str] | None = None,
    keep: int = 50,
    now: str | None = None,
) -> tuple[dict, dict | None]:
    """The record after one outcome, and the history entry it added (None: nothing to record).

    deployed / rolled_back make the version current and remember it in `versions`; recording the
    version and spec hash that are already current adds nothing, so a rerun changes nothing - except
    rolled_back right after a failed entry, which records the return to the current version once.
    failed leaves current alone; removed clears it (and is not repeated while nothing is current).
    """
    if outcome not in OUTCOMES:
        raise StateError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    if keep < 1:
        raise StateError(f"keep is {keep}; keep at least 1 history entry and version")
    new = copy.deepcopy(state) if state is not None else empty(name)
    current = new["current"]
    last = new["history"][-1]["outcome"] if new["history"] else None
    now = now or utc_now()

    if outcome in SETS_CURRENT:
        if not version or not spec_hash or spec is None:
            raise StateError(f"toolbox {name}: outcome {outcome} needs version, spec_hash and spec")
        # Going back to what is still recorded as current after a failed change is an event worth
        # keeping (the failed version ran for a while); anything else already current is a rerun.
        back_after_failure = outcome == "rolled_back" and last == "failed"
        if current and current["version"] == version and current["spec_hash"] == spec_hash and not back_after_failure:
            return new, None
        new["current"] = {
            "version": version,
            "spec_hash": spec_hash,
            "since": now,
            "images": dict(images or {}),
            "spec": spec,
        }
        versions = new["versions"]
        versions.pop(version, None)  # re-inserted last: the map stays in recording order
        versions[version] = {"spec": spec, "images": dict(images or {}), "spec_hash": spec_hash, "recorded": now}
        # Recording order, not time stamps: a clock that steps back must not drop what runs now.
        new["versions"] = dict(list(versions.items())[-keep:])
        entry = _entry(outcome, version, spec_hash, detail, now)
    elif outcome == "failed":
        if not version:
            raise StateError(f"toolbox {name}: outcome failed needs the version that failed")
        entry = _entry(outcome, version, spec_hash or "", detail, now)
        entry["rolled_back"] = sorted(rolled_back or [])
    else:  # removed
        if current is None and last in (None, "removed"):
            return new, None
        was = current or {}
        entry = _entry(outcome, version or was.get("version", ""), spec_hash or was.get("spec_hash", ""), detail, now)
        new["current"] = None

    new["history"] = (new["history"] + [entry])[-keep:]
    return new, entry


def diff_view(state: dict | None) -> dict:
    """What --diff shows: what runs, and the latest outcome."""
    if state is None:
        return {"current": None, "last": None}
    return {"current": state["current"], "last": state["history"][-1] if state["history"] else None}


@contextmanager
def locked(state_dir: str):
    """Holds an exclusive lock on state_dir, so two runs on one host cannot interleave a read and a write."""
    ensure_dir(state_dir)
    fd = os.open(state_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def ensure_dir(state_dir: str) -> None:
    try:
        os.makedirs(state_dir, mode=DIR_MODE, exist_ok=True)
        if stat.S_IMODE(os.stat(state_dir).st_mode) != DIR_MODE:
            os.chmod(state_dir, DIR_MODE)
    except OSError as exc:
        raise StateError(
            f"cannot create the toolbox state directory {state_dir}: {exc.strerror}; run the task as root "
            "(become: true) or choose another state_dir"
        ) from exc


def write(path: str, state: dict) -> None:
    """Replace path with state: a temporary file in the same directory, flushed to disk, then renamed over it."""
    directory = os.path.dirname(path)
    ensure_dir(directory)
    try:
        write_atomically(path, json.dumps(state, indent=2) + "\n", mode=FILE_MODE)
    except OSError as exc:
        raise StateError(f"cannot write the toolbox state file {path}: {exc.strerror}") from exc
    # The rename itself is durable only once the directory is.
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def recorded_names(state_dir: str) -> list[str]:
    """Toolboxes with a record in state_dir (temporary files and anything else are skipped)."""
    try:
        entries = os.listdir(state_dir)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StateError(
            f"cannot list the toolbox state directory {state_dir}: {exc.strerror}; run the task as root (become: true)"
        ) from exc
    names = (entry[: -len(".json")] for entry in entries if entry.endswith(".json"))
    return sorted(name for name in names if NAME_PATTERN.match(name))


# --- what runs on the swarm ----------------------------------------------------------------------


def live_toolboxes(services: list[dict]) -> dict[str, dict]:
    """Toolbox name -> its live state, from the engine's service objects (the Engine API shape)."""
    grouped: dict[str, dict[str, dict]] = {}
    for service in services:
        spec = service.get("Spec") or {}
        toolbox = (spec.get("Labels") or {}).get(stack.TOOLBOX_LABEL)
        if toolbox:
            grouped.setdefault(toolbox, {})[spec["Name"]] = spec
    live = {}
    for toolbox, specs in grouped.items():
        per_service = {
            name: {
                "server": (spec.get("Labels") or {}).get(stack.SERVER_LABEL, ""),
                "version": (spec.get("Labels") or {}).get(stack.VERSION_LABEL, ""),
                "spec_hash": (spec.get("Labels") or {}).get(stack.HASH_LABEL, ""),
            }
            for name, spec in sorted(specs.items())
        }
        versions = {item["version"] for item in per_service.values()}
        live[toolbox] = {
            "services": per_service,
            # One version only when every service carries the same one (a half-done change shows as null).
            "version": versions.pop() if len(versions) == 1 else None,
            "spec_hash": stack.stack_hash(specs),
        }
    return live


def drift(current: dict | None, live: dict | None) -> tuple[bool, list[str]]:
    """Whether what is recorded as running differs from what the swarm runs, and how."""
    if current is None and live is None:
        return False, []
    if current is None:
        return True, [f"live (version {live['version']}) but no deployment is recorded as current"]
    if live is None:
        return True, [f"recorded as running version {current['version']}, but no service of it is live"]
    reasons = []
    if live["version"] is None:
        found = sorted({item["version"] for item in live["services"].values()})
        reasons.append(f"its services carry different versions ({', '.join(found)})")
    elif live["version"] != current["version"]:
        reasons.append(f"recorded version {current['version']}, live version {live['version']}")
    if live["spec_hash"] != current["spec_hash"]:
        reasons.append(f"recorded spec_hash {current['spec_hash']}, live spec_hash {live['spec_hash']}")
    return bool(reasons), reasons
