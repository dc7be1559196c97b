# SPDX-License-Identifier: GPL-3.0-or-later
"""The runner every module's main() calls: errors are told apart by type, and each becomes one failure."""

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _module
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import ToolboxError
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import (
    Library,
    keeping,
    run_module,
)
from docker.errors import APIError, DockerException, NotFound


class Exited(Exception):
    def __init__(self, failed, result):
        super().__init__(result)
        self.failed, self.result = failed, result


class FakeModule:
    """Only what the runner uses of AnsibleModule: exit_json and fail_json, which never return."""

    def exit_json(self, **result):
        raise Exited(False, result)

    def fail_json(self, **result):
        raise Exited(True, result)


def run(execute, **options):
    with pytest.raises(Exited) as caught:
        run_module(FakeModule(), execute, name=options.pop("name", "demo"), **options)
    return caught.value.failed, caught.value.result


def test_the_work_functions_result_is_the_modules():
    assert run(lambda module: {"changed": True, "answer": 42}) == (False, {"changed": True, "answer": 42})


def test_a_missing_library_fails_before_the_work_runs():
    ran = []
    failed, result = run(lambda module: ran.append(1) or {}, needs=(Library("mcp (the MCP SDK)", "Traceback ..."),))
    assert failed and ran == []
    assert "mcp (the MCP SDK)" in result["msg"] and result["exception"] == "Traceback ..."


def test_a_toolbox_error_is_its_message_and_the_result_it_carries():
    def execute(module):
        raise ToolboxError("image x fails the audit", {"findings": ["f"], "changed": False})

    assert run(execute) == (True, {"msg": "image x fails the audit", "findings": ["f"], "changed": False})


@pytest.mark.parametrize(
    "error", [APIError("500 Server Error: conflict"), NotFound("no such secret"), DockerException("x")]
)
def test_a_docker_sdk_error_is_the_engine_refusing(error):
    def execute(module):
        raise error

    failed, result = run(execute, name="swarm_secret token")
    assert failed
    assert result == {"msg": f"swarm_secret token: the Docker engine refused: {error}"}


def test_errors_inside_keeping_carry_the_result_so_far():
    done = {"changed": True, "services": ["a"]}

    def engine_fails(module):
        with keeping(done):
            raise APIError("no space left")

    def toolbox_fails(module):
        with keeping(done):
            raise ToolboxError("service b did not converge", {"report": "b: pending"})

    assert run(engine_fails, name="toolbox_stack") == (
        True,
        {"msg": "toolbox_stack: the Docker engine refused: no space left", **done},
    )
    assert run(toolbox_fails) == (True, {"msg": "service b did not converge", **done, "report": "b: pending"})


def test_any_other_exception_is_a_bug_and_keeps_its_traceback():
    def execute(module):
        raise KeyError("not an engine error")

    with pytest.raises(KeyError):
        run_module(FakeModule(), execute, name="demo")


def test_without_the_sdk_no_exception_passes_for_an_engine_error(monkeypatch):
    # DockerException stands for Exception when docker is missing; the runner must not catch every bug then.
    monkeypatch.setattr(_module, "ENGINE_ERROR", _module.NoEngineError)

    def execute(module):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        run_module(FakeModule(), execute, name="toolbox_facts")
