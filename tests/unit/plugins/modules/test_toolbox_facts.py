# SPDX-License-Identifier: GPL-3.0-or-later
"""toolbox_facts against real state files and a fake engine: agree, drift, not a manager, no engine."""

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils import _toolbox_state as state
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import ToolboxError
from ansible_collections.agentopia.toolbox.plugins.modules import toolbox_facts

SPEC = {"name": "research", "version": "1.0.0", "servers": [{"name": "clock", "kind": "time"}]}
MANAGER = {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True}}
WORKER = {"Swarm": {"LocalNodeState": "active", "ControlAvailable": False}}
NO_SWARM = {"Swarm": {"LocalNodeState": "inactive", "ControlAvailable": False}}


def service(name, toolbox="research", version="1.0.0", spec_hash="a1"):
    labels = {
        stack.NAMESPACE_LABEL: toolbox,
        stack.TOOLBOX_LABEL: toolbox,
        stack.SERVER_LABEL: name.split("_", 1)[1],
        stack.VERSION_LABEL: version,
        stack.HASH_LABEL: spec_hash,
    }
    return {"ID": f"id-{name}", "Version": {"Index": 7}, "Spec": {"Name": name, "Labels": labels}}


class FakeApi:
    """The low-level client's services(): a list of service objects, filtered by label like the engine."""

    def __init__(self, services):
        self.items = services
        self.filters = []

    def services(self, filters=None):
        self.filters.append(filters)
        key, _sep, value = (filters or {}).get("label", "").partition("=")
        return [
            s for s in self.items if key in s["Spec"]["Labels"] and (not value or s["Spec"]["Labels"][key] == value)
        ]


class FakeClient:
    def __init__(self, info, services=()):
        self._info = info
        self.api = FakeApi(list(services))

    def info(self):
        return self._info


@pytest.fixture(name="engine")
def fixture_engine(monkeypatch):
    """Installs a fake engine; returns a function that sets what it answers."""
    holder = {}

    def connect(host, timeout):
        if "error" in holder:
            raise ToolboxError(holder["error"])
        return holder["client"]

    monkeypatch.setattr(toolbox_facts, "docker_client", connect)

    def use(info=None, services=(), error=None):
        if error:
            holder["error"] = error
        holder["client"] = FakeClient(info or MANAGER, services)
        return holder["client"]

    return use


LIVE = [service("research_clock", spec_hash="a1"), service("research_gateway", spec_hash="a2")]
LIVE_HASH = stack.stack_hash({s["Spec"]["Name"]: s["Spec"] for s in LIVE})


def recorded(tmp_path, version="1.0.0", spec_hash=LIVE_HASH, name="research"):
    doc, _entry = state.record(
        None, name, "deployed", version, spec_hash, {**SPEC, "name": name, "version": version}, {}, now="t1"
    )
    state.write(state.state_path(str(tmp_path), name), doc)
    return doc


def facts(run_module, tmp_path, **extra):
    return run_module(toolbox_facts.main, {"state_dir": str(tmp_path), **extra})


def test_record_and_swarm_agree(run_module, tmp_path, engine):
    doc = recorded(tmp_path)
    engine(services=LIVE)
    result = facts(run_module, tmp_path)
    assert result["changed"] is False and result["live_available"] is True and result["live_reason"] is None
    research = result["toolboxes"]["research"]
    assert result["ansible_facts"]["agentopia_toolboxes"] == result["toolboxes"]
    assert research["current"] == doc["current"]
    assert research["history"] == doc["history"]
    assert research["versions"] == ["1.0.0"] and research["recorded"] == doc["versions"]
    assert research["live"]["version"] == "1.0.0" and research["live"]["spec_hash"] == LIVE_HASH
    assert research["live"]["services"]["research_clock"] == {"server": "clock", "version": "1.0.0", "spec_hash": "a1"}
    assert research["drift"] is False and research["drift_reasons"] == [] and research["error"] is None


def test_a_changed_service_is_drift(run_module, tmp_path, engine):
    recorded(tmp_path)
    engine(services=[service("research_clock", spec_hash="zz"), LIVE[1]])
    research = facts(run_module, tmp_path)["toolboxes"]["research"]
    assert research["drift"] is True
    assert any("live spec_hash" in reason for reason in research["drift_reasons"])


def test_another_live_version_is_drift(run_module, tmp_path, engine):
    recorded(tmp_path)
    engine(
        services=[
            service("research_clock", version="2.0.0"),
            service("research_gateway", version="2.0.0", spec_hash="a2"),
        ]
    )
    research = facts(run_module, tmp_path)["toolboxes"]["research"]
    assert research["drift"] is True and research["live"]["version"] == "2.0.0"
    assert research["drift_reasons"] == ["recorded version 1.0.0, live version 2.0.0"]


def test_live_without_a_record_and_recorded_but_not_live(run_module, tmp_path, engine):
    recorded(tmp_path, name="archive")
    engine(services=LIVE)
    toolboxes = facts(run_module, tmp_path)["toolboxes"]
    assert sorted(toolboxes) == ["archive", "research"]
    assert toolboxes["research"]["drift"] is True and toolboxes["research"]["current"] is None
    assert toolboxes["archive"]["drift"] is True and toolboxes["archive"]["live"] is None
    assert "no service on this swarm is labelled" in toolboxes["archive"]["live_reason"]


def test_a_removed_toolbox_that_is_gone_is_not_drift(run_module, tmp_path, engine):
    doc = recorded(tmp_path)
    doc, _entry = state.record(doc, "research", "removed", now="t2")
    state.write(state.state_path(str(tmp_path), "research"), doc)
    engine(services=[])
    research = facts(run_module, tmp_path)["toolboxes"]["research"]
    assert research["current"] is None and research["live"] is None and research["drift"] is False


def test_name_selects_one_toolbox_and_filters_the_engine_query(run_module, tmp_path, engine):
    recorded(tmp_path)
    recorded(tmp_path, name="archive")
    client = engine(services=LIVE)
    result = facts(run_module, tmp_path, name="research")
    assert list(result["toolboxes"]) == ["research"]
    assert client.api.filters == [{"label": f"{stack.TOOLBOX_LABEL}=research"}]


def test_a_worker_returns_the_records_without_live_state(run_module, tmp_path, engine):
    doc = recorded(tmp_path)
    engine(info=WORKER, services=LIVE)
    result = facts(run_module, tmp_path)
    assert result["live_available"] is False and "swarm worker" in result["live_reason"]
    research = result["toolboxes"]["research"]
    assert research["current"] == doc["current"]
    assert research["live"] is None and research["drift"] is None
    assert research["live_reason"] == result["live_reason"]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"info": NO_SWARM}, "not in a swarm (node state inactive)"),
        ({"error": "cannot reach the Docker engine at unix:///var/run/docker.sock"}, "cannot reach the Docker engine"),
    ],
)
def test_no_swarm_or_no_engine_still_returns_the_records(run_module, tmp_path, engine, setup, reason):
    recorded(tmp_path)
    engine(**setup)
    result = facts(run_module, tmp_path)
    assert result["live_available"] is False and reason in result["live_reason"]
    assert result["toolboxes"]["research"]["current"]["version"] == "1.0.0"
    assert result["toolboxes"]["research"]["drift"] is None


def test_a_corrupt_record_is_reported_not_fatal(run_module, tmp_path, engine):
    recorded(tmp_path, name="archive")
    (tmp_path / "research.json").write_text("{oops")
    engine(services=LIVE)
    toolboxes = facts(run_module, tmp_path)["toolboxes"]
    assert "not valid JSON" in toolboxes["research"]["error"]
    assert toolboxes["research"]["drift"] is True
    assert toolboxes["research"]["drift_reasons"][0] == "the state file cannot be read"
    assert toolboxes["archive"]["error"] is None
    assert (tmp_path / "research.json").read_text() == "{oops"


def test_check_mode_reads_the_same(run_module, tmp_path, engine):
    recorded(tmp_path)
    engine(services=LIVE)
    normal = facts(run_module, tmp_path)
    checked = run_module(toolbox_facts.main, {"state_dir": str(tmp_path)}, check_mode=True)
    assert checked == normal


def test_nothing_recorded_and_nothing_live(run_module, tmp_path, engine):
    engine(services=[])
    result = facts(run_module, tmp_path / "missing")
    assert result["toolboxes"] == {} and result["live_available"] is True
