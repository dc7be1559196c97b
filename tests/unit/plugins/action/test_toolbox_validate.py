# SPDX-License-Identifier: GPL-3.0-or-later
import copy

import pytest
from action_runner import run_action
from ansible_collections.agentopia.toolbox.plugins.action.toolbox_validate import ActionModule
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_samples import JSONISH, SECRETS, VALID, mutated


def run(args, check_mode=False):
    return run_action(ActionModule, args, check_mode)


def test_a_valid_spec_comes_back_normalized_and_unchanged():
    result = run({"spec": VALID, "secret_names": SECRETS})
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["spec"]["gateway"]["replicas"] == 1
    assert result["spec"]["servers"][3]["memory"] == "128M"


def test_a_bad_spec_fails_with_every_error_one_per_line():
    spec = copy.deepcopy(VALID)
    spec["servers"][1]["name"] = "files"
    spec["servers"][3]["memory"] = "256MB"
    spec["gateway"]["tls"] = {"cert_secret": "gw_cert"}
    result = run({"spec": spec, "secret_names": SECRETS})
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["errors"] == [
        {"path": "toolbox.gateway.tls.key_secret", "message": result["errors"][0]["message"]},
        {"path": "toolbox.servers[1].name", "message": result["errors"][1]["message"]},
        {"path": "toolbox.servers[3].memory", "message": result["errors"][2]["message"]},
    ]
    lines = result["msg"].splitlines()
    assert "3 error(s)" in lines[0]
    assert lines[1:] == [f"{e['path']}: {e['message']}" for e in result["errors"]]


def test_missing_secrets_are_named():
    result = run({"spec": VALID, "secret_names": ["research_token"]})
    assert [e["path"] for e in result["errors"]] == [
        "toolbox.gateway.tls.cert_secret",
        "toolbox.gateway.tls.key_secret",
        "toolbox.servers[4].postgres.password_secret",
        "toolbox.servers[6].secrets[0].name",
    ]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({}, "spec is required"),
        ({"spec": VALID, "secrets": {}}, "unknown option(s) secrets"),
        ({"spec": VALID, "secret_names": "research_token"}, "secret_names: must be a list"),
        ({"spec": VALID, "secret_names": [1, 2]}, "secret_names: must be a list"),
        ({"spec": None}, "toolbox: is empty (null)"),
        ({"spec": "name: research"}, "toolbox: is a string"),
    ],
)
def test_bad_options_fail_cleanly(args, words):
    result = run(args)
    assert result["failed"] is True
    assert words in result["msg"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(JSONISH, mutated()),
    st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3), JSONISH),
)
def test_run_never_raises(spec, secret_names):
    args = {"spec": spec} if secret_names is None else {"spec": spec, "secret_names": secret_names}
    result = run(args)
    assert result["changed"] is False
    if result.get("failed"):
        assert isinstance(result["msg"], str) and result["msg"]
        if "errors" in result:
            assert result["errors"]
            for error in result["errors"]:
                assert error["path"].startswith(("toolbox", "secret_names"))
                assert error["path"] in result["msg"]
    else:
        assert isinstance(result["spec"], dict)
