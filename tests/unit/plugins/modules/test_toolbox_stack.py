# SPDX-License-Identifier: GPL-3.0-or-later
"""toolbox_stack's main() against an in-memory engine: its engine calls wired to the decisions in module_utils.

The fake engine starts from objects recorded from Docker 20.10 (module_utils/fixtures/engine), keeps what the
module creates, records every mutating call, and refuses what the real engine refuses (a stale service version,
a secret reference it does not know, a network or secret still in use). A service's tasks are the recorded tasks
of the case its image plays. The fake decides nothing the module decides.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import json
import re
from pathlib import Path
from types import SimpleNamespace

import docker
import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _toolbox_spec
from ansible_collections.agentopia.toolbox.plugins.modules import toolbox_stack
from docker.errors import APIError, NotFound

FIXTURES = Path(__file__).parents[1] / "module_utils" / "fixtures" / "engine"
MUTATING = frozenset(
    {
        "create_network",
        "create_secret",
        "create_service",
        "update_service",
        "remove_service",
        "remove_secret",
        "remove_network",
        "remove_volume",
    }
)
# A removed service's containers stop this long after the removal (the engine signals them, then reaps them).
CONTAINER_STOP_SECONDS = 3.0

GOOD_TIME = "reg:5000/agentopia/mcp-time@sha256:" + "b" * 64
BAD_TIME = "reg:5000/agentopia/mcp-time@sha256:" + "e" * 64
GATEWAY = "reg:5000/agentopia/gateway@sha256:" + "c" * 64
# What the recorded crash loop's command wrote to stderr before exiting 2 (its Args in crash_looping.json).
CRASH_LOG = "time-server: error: unrecognized arguments: --no-such-option\n"
PLAYS = {
    GOOD_TIME: ("converged", "listening on :8000\n"),
    GATEWAY: ("converged", ""),
    BAD_TIME: ("crash_looping", CRASH_LOG),
}


def recorded(case: str) -> dict:
    return json.loads((FIXTURES / f"{case}.json").read_text())


def toolbox_spec() -> dict:
    raw = {
        "name": "rec",
        "version": "1.0.0",
        "gateway": {"memory": "128M"},
        "servers": [{"name": "clock", "kind": "time"}],
    }
    assert _toolbox_spec.validate(raw) == []
    return _toolbox_spec.normalize(raw)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def label_matches(labels: dict | None, filters: dict | None) -> bool:
    """The engine's `label` filter: `key` or `key=value`."""
    wanted = (filters or {}).get("label")
    if wanted is None:
        return True
    key, has_value, value = wanted.partition("=")
    return key in (labels or {}) and (not has_value or labels[key] == value)


class FakeEngine:
    """The parts of docker.APIClient toolbox_stack calls, over in-memory objects. Every call's arguments are
    bound to the real APIClient method's signature, so a wrong keyword fails as it would against the SDK."""

    def __init__(self, clock, *, services=(), networks=(), secrets=(), volumes=None, plays=None) -> None:
        self.clock = clock
        self.service_objects = {service["ID"]: copy.deepcopy(service) for service in services}
        self.network_objects = copy.deepcopy(list(networks))
        self.secret_objects = copy.deepcopy(list(secrets))
        self.volume_objects = copy.deepcopy((volumes or {}).get("Volumes") or [])
        self.plays = plays or {}
        self.stopping: list[tuple[list[dict], float]] = []
        self.calls: list[tuple[str, dict]] = []
        self.refusals: dict[str, list] = {}
        self.ids = (f"fake{number:021d}" for number in itertools.count(1))
        self.versions = itertools.count(1000)

    # --- bookkeeping ---------------------------------------------------------------------------------
    def bind(self, method: str, args: tuple, kwargs: dict) -> dict:
        bound = inspect.signature(getattr(docker.APIClient, method)).bind(None, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        if method in MUTATING:
            self.calls.append((method, copy.deepcopy(arguments)))
            refusal = self.refusals.get(method)
            if refusal is not None:
                if refusal[0] == 0:
                    raise refusal[1]
                refusal[0] -= 1
        return arguments

    def refuse(self, method: str, error: Exception, after: int = 0) -> None:
        """Let `after` calls of `method` through, then refuse every further one with `error`."""
        self.refusals[method] = [after, error]

    def service(self, ref: str) -> dict:
        for service in self.service_objects.values():
            if ref in (service["ID"], service["Spec"]["Name"]):
                return service
        raise NotFound(f"service {ref} not found")

    def service_names(self) -> list[str]:
        return sorted(service["Spec"]["Name"] for service in self.service_objects.values())

    def played_tasks(self, service: dict) -> list[dict]:
        """The recorded tasks of the case the service's image plays, as made from its current spec, one slot per
        replica. An image without a play has no tasks (the recorded toolbox's services)."""
        container = service["Spec"]["TaskTemplate"]["ContainerSpec"]
        if container["Image"] not in self.plays:
            return []
        case, _logs = self.plays[container["Image"]]
        replicas = service["Spec"]["Mode"]["Replicated"]["Replicas"]
        tasks = []
        for task in recorded(case)["tasks"]:
            if task["Slot"] <= replicas:
                task["ServiceID"] = service["ID"]
                task["Spec"]["ContainerSpec"] = copy.deepcopy(container)
                tasks.append(task)
        return tasks

    def running_containers(self, service: dict) -> list[dict]:
        template = service["Spec"]["TaskTemplate"]
        return [
            {
                "Id": f"{service['ID']}.{task['Status']['ContainerStatus']['ContainerID']}",
                "Labels": dict(template["ContainerSpec"].get("Labels") or {}),
                "Networks": [net["Target"] for net in template.get("Networks") or []],
            }
            for task in self.played_tasks(service)
            if task["Status"]["State"] == "running"
        ]

    def live_containers(self) -> list[dict]:
        live = [c for service in self.service_objects.values() for c in self.running_containers(service)]
        return live + [c for containers, gone in self.stopping if self.clock.now < gone for c in containers]

    def check_references(self, task_template: dict) -> None:
        """Swarm refuses a secret reference whose ID it does not know or whose name does not match."""
        by_id = {secret["ID"]: secret["Spec"]["Name"] for secret in self.secret_objects}
        for ref in task_template["ContainerSpec"].get("Secrets") or []:
            if by_id.get(ref.get("SecretID")) != ref["SecretName"]:
                raise APIError(f"rpc error: code = InvalidArgument desc = secret not found: {ref['SecretName']}")

    def make_spec(self, arguments: dict) -> dict:
        fields = {
            "Name": arguments["name"],
            "Labels": arguments["labels"] or {},
            "TaskTemplate": arguments["task_template"],
            "Mode": arguments["mode"],
            "UpdateConfig": arguments["update_config"],
            "RollbackConfig": arguments["rollback_config"],
            "EndpointSpec": arguments["endpoint_spec"],
        }
        return copy.deepcopy({key: value for key, value in fields.items() if value is not None})

    # --- reads ---------------------------------------------------------------------------------------
    def services(self, *args, **kwargs):
        filters = self.bind("services", args, kwargs)["filters"]
        return [
            copy.deepcopy(s) for s in self.service_objects.values() if label_matches(s["Spec"].get("Labels"), filters)
        ]

    def inspect_service(self, *args, **kwargs):
        return copy.deepcopy(self.service(self.bind("inspect_service", args, kwargs)["service"]))

    def tasks(self, *args, **kwargs):
        return self.played_tasks(self.service(self.bind("tasks", args, kwargs)["filters"]["service"]))

    def service_logs(self, *args, **kwargs):
        service = self.service(self.bind("service_logs", args, kwargs)["service"])
        _case, logs = self.plays[service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]]
        return iter([line.encode() for line in logs.splitlines(keepends=True)])

    def networks(self, *args, **kwargs):
        names = self.bind("networks", args, kwargs)["names"]
        # The engine's name filter is a regular expression searched in the name: it matches part of a name.
        return [
            copy.deepcopy(net)
            for net in self.network_objects
            if names is None or any(re.search(n, net["Name"]) for n in names)
        ]

    def secrets(self, *args, **kwargs):
        filters = self.bind("secrets", args, kwargs)["filters"]
        return [copy.deepcopy(s) for s in self.secret_objects if label_matches(s["Spec"].get("Labels"), filters)]

    def volumes(self, *args, **kwargs):
        filters = self.bind("volumes", args, kwargs)["filters"]
        found = [copy.deepcopy(v) for v in self.volume_objects if label_matches(v.get("Labels"), filters)]
        return {"Volumes": found or None, "Warnings": None}

    def containers(self, *args, **kwargs):
        filters = self.bind("containers", args, kwargs)["filters"]
        return [c for c in self.live_containers() if label_matches(c["Labels"], filters)]

    # --- writes --------------------------------------------------------------------------------------
    def create_network(self, *args, **kwargs):
        arguments = self.bind("create_network", args, kwargs)
        network = copy.deepcopy(recorded("toolbox_objects")["networks"][0])
        network.update(
            Name=arguments["name"],
            Id=next(self.ids),
            Driver=arguments["driver"],
            Internal=arguments["internal"],
            Attachable=bool(arguments["attachable"]),
            Scope=arguments["scope"],
            Options=arguments["options"] or {},
            Labels=arguments["labels"] or {},
        )
        self.network_objects.append(network)
        return {"Id": network["Id"], "Warning": ""}

    def create_secret(self, *args, **kwargs):
        arguments = self.bind("create_secret", args, kwargs)
        if any(s["Spec"]["Name"] == arguments["name"] for s in self.secret_objects):
            raise APIError(f"rpc error: code = AlreadyExists desc = secret {arguments['name']} already exists")
        secret = {
            "ID": next(self.ids),
            "Version": {"Index": next(self.versions)},
            "Spec": {"Name": arguments["name"], "Labels": arguments["labels"] or {}},
        }
        self.secret_objects.append(secret)
        return {"ID": secret["ID"]}

    def create_service(self, *args, **kwargs):
        arguments = self.bind("create_service", args, kwargs)
        if arguments["name"] in self.service_names():
            raise APIError(f"rpc error: code = AlreadyExists desc = name conflicts: {arguments['name']}")
        self.check_references(arguments["task_template"])
        service = {"ID": next(self.ids), "Version": {"Index": next(self.versions)}, "Spec": self.make_spec(arguments)}
        self.service_objects[service["ID"]] = service
        return {"ID": service["ID"]}

    def update_service(self, *args, **kwargs):
        arguments = self.bind("update_service", args, kwargs)
        service = self.service(arguments["service"])
        if int(arguments["version"]) != service["Version"]["Index"]:
            raise APIError("rpc error: code = Unknown desc = update out of sequence")
        self.check_references(arguments["task_template"])
        service["PreviousSpec"], service["Spec"] = service["Spec"], self.make_spec(arguments)
        service["Version"]["Index"] = next(self.versions)
        return {"Warnings": None}

    def remove_service(self, *args, **kwargs):
        service = self.service(self.bind("remove_service", args, kwargs)["service"])
        self.stopping.append((self.running_containers(service), self.clock.now + CONTAINER_STOP_SECONDS))
        del self.service_objects[service["ID"]]

    def remove_secret(self, *args, **kwargs):
        secret_id = self.bind("remove_secret", args, kwargs)["id"]
        users = [
            s["Spec"]["Name"]
            for s in self.service_objects.values()
            if any(
                ref["SecretID"] == secret_id for ref in s["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []
            )
        ]
        if users:
            raise APIError(f"rpc error: code = InvalidArgument desc = secret is in use by {', '.join(users)}")
        self.secret_objects = [s for s in self.secret_objects if s["ID"] != secret_id]

    def remove_network(self, *args, **kwargs):
        net_id = self.bind("remove_network", args, kwargs)["net_id"]
        network = next((net for net in self.network_objects if net["Id"] == net_id), None)
        if network is None:
            raise NotFound(f"network {net_id} not found")
        attached = [
            s["Spec"]["Name"]
            for s in self.service_objects.values()
            if net_id in {ref["Target"] for ref in s["Spec"]["TaskTemplate"].get("Networks") or []}
        ]
        if attached:
            raise APIError(
                f"rpc error: code = FailedPrecondition desc = network {network['Name']} is in use by {attached}"
            )
        if any(net_id in container["Networks"] for container in self.live_containers()):
            raise APIError(f"error while removing network: network {network['Name']} id {net_id} has active endpoints")
        self.network_objects.remove(network)

    def remove_volume(self, *args, **kwargs):
        name = self.bind("remove_volume", args, kwargs)["name"]
        if not any(volume["Name"] == name for volume in self.volume_objects):
            raise NotFound(f"get {name}: no such volume")
        self.volume_objects = [volume for volume in self.volume_objects if volume["Name"] != name]


class ServiceCollection:
    """docker.DockerClient.services: only list(), whose models carry the API object as attrs."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def list(self, **kwargs):
        return [SimpleNamespace(attrs=service) for service in self.engine.services(**kwargs)]


class FakeClient:
    def __init__(self, engine: FakeEngine) -> None:
        self.api = engine
        self.services = ServiceCollection(engine)


@pytest.fixture(name="clock")
def fixture_clock():
    return FakeClock()


@pytest.fixture(name="connect")
def fixture_connect(monkeypatch, clock):
    """Point the module at an engine, and its waits at the fake clock (no test really sleeps)."""
    monkeypatch.setattr(
        toolbox_stack, "Toolbox", functools.partial(toolbox_stack.Toolbox, clock=clock.monotonic, sleep=clock.sleep)
    )

    def connect(engine: FakeEngine) -> FakeEngine:
        monkeypatch.setattr(toolbox_stack, "docker_client", lambda host, timeout: FakeClient(engine))
        return engine

    return connect


@pytest.fixture(name="arguments")
def fixture_arguments(tmp_path):
    def arguments(**overrides) -> dict:
        return {
            "spec": toolbox_spec(),
            "images": {"time": GOOD_TIME, "gateway": GATEWAY},
            "secrets": {"rec_token": "a-token-for-unit-tests"},
            "token_dir": str(tmp_path),
            **overrides,
        }

    return arguments


def recorded_toolbox(clock, without=()) -> FakeEngine:
    """The engine as recorded with toolbox `rec` deployed (its gateway, networks, secret, volume) beside
    services outside it; Prometheus is attached to rec_edge."""
    objects = recorded("toolbox_objects")
    return FakeEngine(
        clock,
        services=[s for s in objects["all_services"] if s["Spec"]["Name"] not in without],
        networks=objects["networks"],
        secrets=objects["secrets"],
        volumes=objects["volumes"],
    )


def targets(engine: FakeEngine) -> list[tuple[str, object]]:
    """Each mutating call as (method, its first argument)."""
    return [(method, next(iter(arguments.values()))) for method, arguments in engine.calls]


def engine_objects(engine: FakeEngine) -> tuple:
    return engine.service_names(), engine.network_objects, engine.secret_objects, engine.volume_objects


RECORDED = recorded("toolbox_objects")
GATEWAY_ID = RECORDED["services"][0]["ID"]
NETWORK_IDS = {net["Name"]: net["Id"] for net in RECORDED["networks"]}
SECRET_ID = RECORDED["secrets"][0]["ID"]


# --- state: absent -----------------------------------------------------------------------------------
def test_absent_removes_the_services_and_keeps_networks_secrets_and_volumes(run_module, connect, clock, arguments):
    engine = connect(recorded_toolbox(clock))
    outside = [name for name in engine.service_names() if name != "rec_gateway"]
    result = run_module(toolbox_stack.main, arguments(state="absent"))
    assert result["changed"] is True
    assert result["actions"] == {"rec_gateway": "remove"}
    assert result["services"] == []
    assert targets(engine) == [("remove_service", GATEWAY_ID)]
    names, networks, secrets, volumes = engine_objects(engine)
    assert names == outside
    assert (networks, secrets, volumes) == (RECORDED["networks"], RECORDED["secrets"], RECORDED["volumes"]["Volumes"])

    # Run again: what absent keeps (networks, secret, volume) is no change, and nothing is called.
    engine.calls.clear()
    again = run_module(toolbox_stack.main, arguments(state="absent"))
    assert again["changed"] is False
    assert again["actions"] == {}
    assert engine.calls == []


def test_absent_on_an_empty_engine_changes_nothing(run_module, connect, clock, arguments):
    engine = connect(FakeEngine(clock))
    for purge in (False, True):
        result = run_module(toolbox_stack.main, arguments(state="absent", purge=purge))
        assert result["changed"] is False
    assert engine.calls == []


def test_purge_removes_networks_secrets_volumes_and_the_token_file(run_module, connect, clock, arguments, tmp_path):
    engine = connect(recorded_toolbox(clock, without=("monitoring_prometheus",)))
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "tokens").write_text("sha256:" + "0" * 64 + "\n")
    outside = [name for name in engine.service_names() if name != "rec_gateway"]
    result = run_module(toolbox_stack.main, arguments(state="absent", purge=True))
    assert result["changed"] is True
    # Services first: the engine refuses to remove a secret or a network a service still uses.
    assert targets(engine) == [
        ("remove_service", GATEWAY_ID),
        ("remove_secret", SECRET_ID),
        ("remove_network", NETWORK_IDS["rec_edge"]),
        ("remove_network", NETWORK_IDS["rec_internal"]),
        ("remove_volume", "rec_db_pgdata"),
    ]
    assert engine_objects(engine) == (outside, [], [], [])
    assert not (tmp_path / "rec").exists()


def test_purge_keeps_the_networks_of_a_toolbox_whose_name_contains_this_one(run_module, connect, clock, arguments):
    engine = recorded_toolbox(clock, without=("monitoring_prometheus",))
    # Toolbox `prec`, removed without purge: its networks remain. The engine's name filter for rec_edge matches
    # prec_edge too.
    for net in RECORDED["networks"]:
        other = copy.deepcopy(net)
        other.update(Name="p" + net["Name"], Id=net["Id"][::-1], Labels={k: "prec" for k in net["Labels"]})
        engine.network_objects.append(other)
    connect(engine)
    run_module(toolbox_stack.main, arguments(state="absent", purge=True))
    assert sorted(net["Name"] for net in engine.network_objects) == ["prec_edge", "prec_internal"]
    assert [net_id for method, net_id in targets(engine) if method == "remove_network"] == [
        NETWORK_IDS["rec_edge"],
        NETWORK_IDS["rec_internal"],
    ]


def test_purge_is_refused_whole_while_a_service_outside_uses_a_network(run_module, connect, clock, arguments):
    engine = connect(recorded_toolbox(clock))
    before = copy.deepcopy(engine_objects(engine))
    with pytest.raises(run_module.Fail) as failed:
        run_module(toolbox_stack.main, arguments(state="absent", purge=True))
    message = failed.value.result["msg"]
    assert "cannot purge" in message and "rec_edge by monitoring_prometheus" in message
    assert "Nothing was removed" in message
    assert engine.calls == []
    assert engine_objects(engine) == before


@pytest.mark.parametrize("purge", [False, True])
def test_absent_in_check_mode_reports_the_change_and_calls_nothing(run_module, connect, clock, arguments, purge):
    engine = connect(recorded_toolbox(clock, without=("monitoring_prometheus",)))
    before = copy.deepcopy(engine_objects(engine))
    # With --diff: the recorded gateway has no mounts and no limits, which the summary must read as empty.
    result = run_module(toolbox_stack.main, arguments(state="absent", purge=purge), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["actions"] == {"rec_gateway": "remove"}
    assert result["diff"]["before"]["rec_gateway"]["mounts"] == [] and result["diff"]["after"] == {}
    assert engine.calls == []
    assert engine_objects(engine) == before


# --- deploying, and rolling back -----------------------------------------------------------------------
@pytest.fixture(name="deployed")
def fixture_deployed(run_module, connect, clock, arguments):
    """Toolbox rec deployed by the module on an empty engine, every service healthy."""
    engine = connect(FakeEngine(clock, plays=PLAYS))
    result = run_module(toolbox_stack.main, arguments())
    assert result["changed"] is True
    assert result["actions"] == {"rec_clock": "create", "rec_gateway": "create"}
    assert engine.service_names() == ["rec_clock", "rec_gateway"]
    engine.calls.clear()
    return engine


def test_a_purge_waits_for_the_removed_services_containers_to_stop(run_module, deployed, clock, arguments):
    started = clock.now
    result = run_module(toolbox_stack.main, arguments(state="absent", purge=True))
    assert result["changed"] is True
    # The networks went only once the containers had stopped (the fake engine refuses them before).
    assert clock.now - started >= CONTAINER_STOP_SECONDS
    assert [call[0] for call in deployed.calls].count("remove_network") == 2
    assert engine_objects(deployed) == ([], [], [], [])


def test_a_purge_in_check_mode_shows_the_services_it_would_remove(run_module, deployed, arguments):
    result = run_module(toolbox_stack.main, arguments(state="absent", purge=True), check_mode=True, diff=True)
    assert result["changed"] is True
    assert sorted(result["diff"]["before"]) == ["rec_clock", "rec_gateway"] and result["diff"]["after"] == {}
    assert result["diff"]["before"]["rec_clock"]["image"] == GOOD_TIME
    assert deployed.calls == []
    assert deployed.service_names() == ["rec_clock", "rec_gateway"]


def test_a_crash_looping_update_is_rolled_back_and_fails_naming_the_service(run_module, deployed, clock, arguments):
    before = copy.deepcopy(deployed.service("rec_clock"))
    with pytest.raises(run_module.Fail) as failed:
        run_module(toolbox_stack.main, arguments(images={"time": BAD_TIME, "gateway": GATEWAY}))
    result = failed.value.result
    assert result["actions"] == {"rec_clock": "update", "rec_gateway": "unchanged"}
    update, undo = [arguments for method, arguments in deployed.calls if method == "update_service"]
    assert [call[0] for call in deployed.calls] == ["update_service", "update_service"]
    assert update["task_template"]["ContainerSpec"]["Image"] == BAD_TIME
    # The rollback put back the definition deployed before the run, field by field.
    assert undo["service"] == before["ID"]
    assert undo["task_template"] == before["Spec"]["TaskTemplate"]
    assert undo["labels"] == before["Spec"]["Labels"]
    assert undo["update_config"] == before["Spec"]["UpdateConfig"]
    assert undo["endpoint_spec"] == before["Spec"]["EndpointSpec"]
    assert deployed.service("rec_clock")["Spec"] == before["Spec"]
    assert result["rolled_back"] == ["rec_clock"]
    assert "rollback_failed" not in result
    assert result["report"] == {
        "rec_clock": {
            "state": "starting",
            "error": "task: non-zero exit (2)",
            "exit_code": 2,
            "failed_tasks": 4,
            "logs": [CRASH_LOG.strip()],
        }
    }
    message = result["msg"]
    assert message.startswith("toolbox rec: rec_clock (its tasks failed 3 times)")
    assert "task: non-zero exit (2)" in message and CRASH_LOG.strip() in message
    assert "Rolled back to the previous definition: rec_clock." in message
    assert clock.now < 1  # the crash loop is judged on the first look, without waiting out the timeout


def test_a_rollback_the_engine_refuses_is_reported_beside_the_crash(run_module, deployed, arguments):
    refusal = APIError("rpc error: code = Unavailable desc = the swarm has no leader")
    deployed.refuse("update_service", refusal, after=1)
    before = copy.deepcopy(deployed.service("rec_clock"))
    with pytest.raises(run_module.Fail) as failed:
        run_module(toolbox_stack.main, arguments(images={"time": BAD_TIME, "gateway": GATEWAY}))
    result = failed.value.result
    _update, undo = [arguments for method, arguments in deployed.calls if method == "update_service"]
    assert undo["task_template"] == before["Spec"]["TaskTemplate"]
    assert deployed.service("rec_clock")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == BAD_TIME
    assert result["rollback_failed"] == {"rec_clock": str(refusal)}
    assert result["rolled_back"] == []
    assert result["report"]["rec_clock"]["error"] == "task: non-zero exit (2)"
    message = result["msg"]
    assert "rec_clock (its tasks failed 3 times)" in message and "task: non-zero exit (2)" in message
    assert f"The rollback failed for rec_clock (rec_clock: {refusal})" in message
    assert "rec_clock still on the new definition" in message
