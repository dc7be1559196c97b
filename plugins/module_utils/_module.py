# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one runner every module's main() calls (private to the collection).

A module's main() builds its AnsibleModule and hands it to ``run_module`` with its work function. The runner
checks the libraries the module needs, runs the work, and turns the errors it knows by type into one
fail_json: a ToolboxError into its message (and the result it carries), a Docker SDK error into
"<module>: the Docker engine refused: ...". Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, NamedTuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_IMPORT_ERROR,
    DockerException,
    ToolboxError,
)


class NoEngineError(Exception):
    """Never raised: what the runner catches as an engine error when the Docker SDK is not installed."""


# Without the SDK, DockerException stands for Exception: no engine error can occur then, and catching
# Exception would mislabel every bug of a module that does not use the engine.
ENGINE_ERROR: type[Exception] = DockerException if DOCKER_IMPORT_ERROR is None else NoEngineError


class Library(NamedTuple):
    """A Python library a module needs on the host: its name as the user installs it, and why it did not import."""

    name: str
    import_error: str | None


DOCKER_SDK = Library("docker (Debian: python3-docker)", DOCKER_IMPORT_ERROR)


class EngineRefused(Exception):
    """A Docker SDK error raised inside ``keeping()``, with the result the module had built by then."""

    def __init__(self, error: BaseException, result: dict) -> None:
        super().__init__(str(error))
        self.error = error
        self.result = result


@contextmanager
def keeping(result: dict):
    """Errors leaving the block carry ``result`` (the work done so far) into the module's failure."""
    try:
        yield
    except ToolboxError as exc:
        exc.result = {**result, **exc.result}
        raise
    except ENGINE_ERROR as exc:
        raise EngineRefused(exc, result) from exc


def run_module(
    module: AnsibleModule,
    execute: Callable[[AnsibleModule], dict[str, Any]],
    *,
    name: str,
    needs: tuple[Library, ...] = (),
) -> None:
    """Run ``execute(module)`` and exit with its result, or fail once with a message the user can act on.

    ``name`` starts the engine-refused message (the module's name, or more, like ``swarm_secret <secret>``).
    """
    for library in needs:
        if library.import_error:
            module.fail_json(msg=missing_required_lib(library.name), exception=library.import_error)
    try:
        result = execute(module)
    except ToolboxError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except EngineRefused as exc:
        module.fail_json(msg=f"{name}: the Docker engine refused: {exc.error}", **exc.result)
    except ENGINE_ERROR as exc:
        module.fail_json(msg=f"{name}: the Docker engine refused: {exc}")
    module.exit_json(**result)
