# SPDX-License-Identifier: GPL-3.0-or-later
import itertools

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import MANAGED_LABEL, version_name
from ansible_collections.agentopia.toolbox.plugins.modules import swarm_secret
from docker.errors import APIError

VALUE = "s3cr3t-value-for-unit-tests"
_ids = itertools.count(1)


class FakeSecret:
    def __init__(self, store, name, labels):
        self.store, self.name, self.labels, self.id = store, name, labels, f"id{next(_ids)}"

    def remove(self):
        self.store.remove(self)


class FakeSecrets:
    def __init__(self):
        self.items = []
        self.created = []

    def list(self, filters):
        key, value = filters["label"].split("=", 1)
        return [s for s in self.items if s.labels.get(key) == value]

    def create(self, name, data, labels):
        secret = FakeSecret(self.items, name, labels)
        self.items.append(secret)
        self.created.append((name, data))
        return secret


class FakeService:
    def __init__(self, name, secret_ids):
        secrets = [{"SecretID": sid, "SecretName": "x"} for sid in secret_ids]
        self.attrs = {"Spec": {"Name": name, "TaskTemplate": {"ContainerSpec": {"Secrets": secrets}}}}


class FakeServices:
    def __init__(self):
        self.items = []

    def list(self):
        return self.items


class FakeClient:
    def __init__(self):
        self.secrets = FakeSecrets()
        self.services = FakeServices()


@pytest.fixture
def client(monkeypatch):
    fake = FakeClient()
    monkeypatch.setattr(swarm_secret, "docker_client", lambda host, timeout: fake)
    return fake


def test_creates_a_version_named_by_content(run_module, client):
    result = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE})
    assert result["changed"] is True
    assert result["secret_name"] == version_name("gw_token", VALUE)
    assert result["secret_name"].startswith("gw_token_") and len(result["secret_name"]) == len("gw_token_") + 12
    assert client.secrets.created == [(result["secret_name"], VALUE.encode())]
    assert client.secrets.items[0].labels == {MANAGED_LABEL: "gw_token"}


def test_same_value_twice_is_unchanged(run_module, client):
    run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE})
    again = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE})
    assert again["changed"] is False
    assert len(client.secrets.created) == 1


def test_value_never_in_the_result(run_module, client):
    result = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE}, diff=True)
    assert VALUE not in repr(result)


def test_new_value_rotates_and_prunes_the_unused_version(run_module, client):
    old = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE})
    new = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE + "-2"}, diff=True)
    assert new["secret_name"] != old["secret_name"]
    assert new["pruned"] == [old["secret_name"]]
    assert new["versions"] == [new["secret_name"]]
    assert [s.name for s in client.secrets.items] == [new["secret_name"]]
    assert new["diff"] == {
        "before": {"versions": [old["secret_name"]]},
        "after": {"versions": [new["secret_name"]]},
    }


def test_a_version_a_service_uses_is_kept(run_module, client):
    old = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE})
    client.services.items.append(FakeService("research_gateway", [old["secret_id"]]))
    new = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE + "-2"})
    assert new["pruned"] == []
    assert new["in_use"] == {old["secret_name"]: ["research_gateway"]}
    assert sorted(new["versions"]) == sorted([old["secret_name"], new["secret_name"]])


def test_check_mode_changes_nothing(run_module, client):
    old = run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE})
    result = run_module(swarm_secret.main, {"name": "gw_token", "data": "other"}, check_mode=True)
    assert result["changed"] is True
    assert result["pruned"] == [old["secret_name"]]
    assert [s.name for s in client.secrets.items] == [old["secret_name"]]


def test_absent_removes_unused_versions_only(run_module, client):
    kept = run_module(swarm_secret.main, {"name": "db_url", "data": "a"})
    client.services.items.append(FakeService("db_client", [kept["secret_id"]]))
    run_module(swarm_secret.main, {"name": "db_url", "data": "b", "prune": False})
    result = run_module(swarm_secret.main, {"name": "db_url", "state": "absent"})
    assert result["versions"] == [kept["secret_name"]]
    assert result["in_use"] == {kept["secret_name"]: ["db_client"]}


def test_other_secrets_are_left_alone(run_module, client):
    run_module(swarm_secret.main, {"name": "a", "data": "1"})
    run_module(swarm_secret.main, {"name": "b", "data": "2"})
    assert len(client.secrets.items) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "x" * 52, "data": "v"}, "1 to 51 characters"),
        ({"name": "token"}, "state is present but all of the following are missing: data"),
        # required_if counts a given key, so data set to null reaches the module's own check.
        ({"name": "token", "data": None}, "swarm_secret token: data is required with state=present"),
    ],
)
def test_bad_input_names_the_field(run_module, client, args, message):
    with pytest.raises(run_module.Fail) as failed:
        run_module(swarm_secret.main, args)
    assert message in failed.value.result["msg"]
    assert client.secrets.created == []


def test_an_engine_refusal_is_one_failure_naming_the_secret(run_module, client, monkeypatch):
    def refuse(name, data, labels):
        raise APIError("secret store is locked")

    monkeypatch.setattr(client.secrets, "create", refuse)
    with pytest.raises(run_module.Fail) as failed:
        run_module(swarm_secret.main, {"name": "gw_token", "data": VALUE})
    assert failed.value.result["msg"].startswith("swarm_secret gw_token: the Docker engine refused: ")
    assert "secret store is locked" in failed.value.result["msg"]
