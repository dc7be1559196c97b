# SPDX-License-Identifier: GPL-3.0-or-later
"""The standard pattern for whole-module tests: set args, catch exit_json / fail_json."""

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(ModuleExit):
    pass


@pytest.fixture
def run_module(monkeypatch):
    """Run a module's main() with args; return its result or raise ModuleFail."""

    def exit_json(self, **result):
        raise ModuleExit(result)

    def fail_json(self, **result):
        raise ModuleFail(result)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(main, args, check_mode=False, diff=False):
        args = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        with patch_module_args(args), pytest.raises(ModuleExit) as caught:
            main()
        result = caught.value.result
        if isinstance(caught.value, ModuleFail):
            raise ModuleFail(result)
        # What Ansible would print must survive JSON.
        json.dumps(result)
        return result

    run.Fail = ModuleFail
    return run
