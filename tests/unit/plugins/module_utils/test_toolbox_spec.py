# SPDX-License-Identifier: GPL-3.0-or-later
import copy
import math
from pathlib import Path

import pytest
import yaml
from ansible_collections.agentopia.toolbox.plugins.module_utils._toolbox_spec import (
    KINDS,
    SpecError,
    looks_secret,
    normalize,
    validate,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_samples import JSONISH, SECRETS, VALID, changed, mutated


def paths(errors):
    return [error.path for error in errors]


def test_the_reference_spec_is_valid():
    assert validate(VALID, SECRETS) == []


def test_normalize_fills_the_contract_defaults():
    spec = normalize({"name": "lab", "version": "1", "servers": [{"name": "clock", "kind": "time"}]})
    assert spec == {
        "name": "lab",
        "version": "1",
        "gateway": {
            "port": 8811,
            "replicas": 1,
            "token_secrets": ["lab_token"],
            "token_source": "secrets",
            "tls": None,
            "memory": "128M",
            "memory_reservation": "32M",
            "cpus": 0.5,
            "cpus_reservation": 0.05,
            "placement": [],
        },
        "servers": [
            {
                "name": "clock",
                "kind": "time",
                "image": None,
                "version": None,
                "port": 8000,
                "path": "/mcp",
                "transport": "streamable-http",
                "args": [],
                "env": {},
                "secrets": [],
                "volumes": [],
                "memory": "256M",
                "memory_reservation": "64M",
                "cpus": 0.5,
                "cpus_reservation": 0.05,
                "replicas": 1,
                "placement": [],
                "postgres": None,
            }
        ],
    }


def test_normalize_details():
    spec = normalize(VALID)
    notes, db, custom = spec["servers"][3], spec["servers"][4], spec["servers"][6]
    assert notes["memory"] == "128M"
    assert spec["servers"][2]["env"] == {"LOG_LEVEL": "info", "RETRIES": "3", "DEBUG": "false"}
    assert spec["servers"][0]["volumes"] == [{"source": "research_data", "target": "/data", "read_only": True}]
    assert custom["secrets"] == [{"name": "research_api", "env": "API_FILE"}]
    assert (custom["port"], custom["path"]) == (9000, "/rpc")
    assert db["postgres"] == {
        "database": "research",
        "create_server": True,
        "host": None,
        "port": 5432,
        "user": "postgres",
        "password_secret": "research_db_pw",
    }
    default_db = normalize({"name": "lab", "version": "1", "servers": [{"name": "pg", "kind": "postgres"}]})
    assert default_db["servers"][0]["postgres"]["password_secret"] == "lab_pg_password"
    assert spec["gateway"]["tls"] == {"cert_secret": "gw_cert", "key_secret": "gw_key"}


def test_a_normalized_spec_is_valid_and_stable():
    once = normalize(VALID)
    assert validate(once, SECRETS) == []
    assert normalize(once) == once
    assert VALID["servers"][3]["memory"] == "128m", "normalize must not modify its input"


# (what to change, the one path that must be reported, words the message must contain)
SINGLE_ERRORS = [
    (changed(("name",), "Research"), "toolbox.name", "lowercase letter"),
    (changed(("name",), "a" * 24), "toolbox.name", "up to 22"),
    (changed(("name",), "research\n"), "toolbox.name", "lowercase letter"),
    (changed(("name",), delete=True), "toolbox.name", "is required"),
    (changed(("version",), 1.4), "toolbox.version", "quote it"),
    (changed(("servers",), []), "toolbox.servers", "1 to 64"),
    (changed(("servers",), {"files": {}}), "toolbox.servers", "is a mapping"),
    (changed(("colour",), "blue"), "toolbox.colour", "allowed: gateway, name, servers, version"),
    (changed(("gateway", "port"), 0), "toolbox.gateway.port", "1 to 65535"),
    (changed(("gateway", "port"), "8811"), "toolbox.gateway.port", "is a string"),
    (changed(("gateway", "replicas"), 17), "toolbox.gateway.replicas", "1 to 16"),
    (changed(("gateway", "token_secrets"), []), "toolbox.gateway.token_secrets", "1 to 16"),
    (changed(("gateway", "token_secrets"), ["research_token"] * 2), "toolbox.gateway.token_secrets", "twice"),
    (changed(("gateway", "token_source"), "files"), "toolbox.gateway.token_source", "digests"),
    (changed(("gateway", "tls"), {"cert_secret": "gw_cert"}), "toolbox.gateway.tls.key_secret", "both"),
    (changed(("gateway", "tls"), {"key_secret": "gw_key"}), "toolbox.gateway.tls.cert_secret", "both"),
    (changed(("gateway", "tls", "ca"), "x"), "toolbox.gateway.tls.ca", "allowed: cert_secret, key_secret"),
    (changed(("gateway", "memory"), "128MB"), "toolbox.gateway.memory", "like 256M"),
    (changed(("gateway", "cpus"), float("nan")), "toolbox.gateway.cpus", "finite"),
    (changed(("gateway", "cpus"), True), "toolbox.gateway.cpus", "is a boolean"),
    (changed(("servers", 1, "name"), "files"), "toolbox.servers[1].name", "already the name of servers[0]"),
    (changed(("servers", 1, "name"), "gateway"), "toolbox.servers[1].name", "gateway's own"),
    (changed(("servers", 1, "name"), "Git_1"), "toolbox.servers[1].name", "lowercase"),
    (changed(("servers", 1, "name"), delete=True), "toolbox.servers[1].name", "is required"),
    (changed(("servers", 5, "kind"), delete=True), "toolbox.servers[5]", "needs kind"),
    (changed(("servers", 5, "kind"), "redis"), "toolbox.servers[5].kind", "one of filesystem"),
    (changed(("servers", 5, "image"), "acme/fetch:1"), "toolbox.servers[5].image", "not both"),
    (changed(("servers", 6, "image"), "Acme Tool"), "toolbox.servers[6].image", "image reference"),
    (changed(("servers", 6, "transport"), "sse"), "toolbox.servers[6].transport", "streamable-http"),
    (changed(("servers", 6, "port"), 70000), "toolbox.servers[6].port", "1 to 65535"),
    (changed(("servers", 6, "path"), "mcp"), "toolbox.servers[6].path", "absolute URL path"),
    (changed(("servers", 6, "version"), "2"), "toolbox.servers[6].version", "put the tag in image"),
    (changed(("servers", 5, "port"), 9000), "toolbox.servers[5].port", "only for custom image"),
    (changed(("servers", 5, "path"), "/rpc"), "toolbox.servers[5].path", "only for custom image"),
    (changed(("servers", 1, "version"), "latest tag"), "toolbox.servers[1].version", "image tag"),
    (changed(("servers", 2, "args"), ["--port", 8000]), "toolbox.servers[2].args[1]", "quote numbers"),
    (changed(("servers", 2, "env", "lower"), "x"), "toolbox.servers[2].env.lower", "upper-case name"),
    (changed(("servers", 2, "env", "GITHUB_TOKEN"), "x"), "toolbox.servers[2].env.GITHUB_TOKEN", "secrets"),
    (changed(("servers", 2, "env", "DB_PASSWORD"), "x"), "toolbox.servers[2].env.DB_PASSWORD", "secrets"),
    (changed(("servers", 2, "env", "API_KEY"), "x"), "toolbox.servers[2].env.API_KEY", "secrets"),
    (changed(("servers", 2, "env", "CLIENT_SECRET"), "x"), "toolbox.servers[2].env.CLIENT_SECRET", "secrets"),
    (changed(("servers", 2, "env", "LOG_LEVEL"), None), "toolbox.servers[2].env.LOG_LEVEL", "string, number"),
    (changed(("servers", 2, "env", "LOG_LEVEL"), ["a"]), "toolbox.servers[2].env.LOG_LEVEL", "string, number"),
    (changed(("servers", 6, "env"), {"API_FILE": "x"}), "toolbox.servers[6].secrets[0].env", "also set in env"),
    (
        changed(("servers", 6, "secrets"), [{"name": "research_api"}, {"name": "research_api"}]),
        "toolbox.servers[6].secrets[1].name",
        "twice",
    ),
    (changed(("servers", 6, "secrets", 0, "mode"), "0400"), "toolbox.servers[6].secrets[0].mode", "allowed: env"),
    (changed(("servers", 6, "secrets", 0, "name"), "-bad"), "toolbox.servers[6].secrets[0].name", "secret name"),
    (changed(("servers", 0, "volumes", 0, "target"), "data"), "toolbox.servers[0].volumes[0].target", "absolute"),
    (
        changed(("servers", 0, "volumes", 0, "target"), "/run/secrets/x"),
        "toolbox.servers[0].volumes[0].target",
        "/run/secrets",
    ),
    (
        changed(("servers", 0, "volumes", 0, "target"), "/run/secrets"),
        "toolbox.servers[0].volumes[0].target",
        "/run/secrets",
    ),
    (changed(("servers", 0, "volumes", 0, "target"), "/data/../etc"), "toolbox.servers[0].volumes[0].target", ".."),
    (changed(("servers", 0, "volumes", 0, "target"), "/"), "toolbox.servers[0].volumes[0].target", "/data"),
    (changed(("servers", 0, "volumes", 0, "target"), "/tmp"), "toolbox.servers[0].volumes[0].target", "own"),
    (changed(("servers", 0, "volumes", 0, "target"), "/proc/x"), "toolbox.servers[0].volumes[0].target", "/proc"),
    (
        changed(("servers", 0, "volumes"), [{"source": "a", "target": "/data"}, {"source": "b", "target": "/data/"}]),
        "toolbox.servers[0].volumes[1].target",
        "mounted twice",
    ),
    (changed(("servers", 0, "volumes", 0, "source"), "a b"), "toolbox.servers[0].volumes[0].source", "volume name"),
    (changed(("servers", 0, "volumes", 0, "read_only"), "yes"), "toolbox.servers[0].volumes[0].read_only", "true"),
    (changed(("servers", 0, "volumes", 0, "target"), delete=True), "toolbox.servers[0].volumes[0].target", "required"),
    (changed(("servers", 3, "memory"), "256MB"), "toolbox.servers[3].memory", "like 256M"),
    (changed(("servers", 3, "memory"), 268435456), "toolbox.servers[3].memory", "is an integer"),
    (changed(("servers", 3, "memory"), "65G"), "toolbox.servers[3].memory", "ceiling of 64G"),
    (changed(("servers", 5, "memory"), "8M"), "toolbox.servers[5].memory", "below 16M"),
    (changed(("servers", 3, "memory_reservation"), "1G"), "toolbox.servers[3].memory_reservation", "above the"),
    (changed(("servers", 5, "cpus"), 0), "toolbox.servers[5].cpus", "above 0"),
    (changed(("servers", 3, "cpus"), 65), "toolbox.servers[3].cpus", "at most 64"),
    (changed(("servers", 3, "cpus"), float("inf")), "toolbox.servers[3].cpus", "at most 64"),
    (changed(("servers", 3, "cpus_reservation"), 1), "toolbox.servers[3].cpus_reservation", "above the CPU limit"),
    (changed(("servers", 3, "replicas"), 0), "toolbox.servers[3].replicas", "1 to 16"),
    (changed(("servers", 3, "replicas"), 10**30), "toolbox.servers[3].replicas", "1 to 16"),
    (changed(("servers", 3, "replicas"), 1.5), "toolbox.servers[3].replicas", "is a number"),
    (changed(("servers", 3, "placement"), ["role=manager"]), "toolbox.servers[3].placement[0]", "node.role"),
    (changed(("servers", 5, "postgres"), {"database": "x"}), "toolbox.servers[5].postgres", "only for kind: postgres"),
    (changed(("servers", 4, "postgres", "database"), "My-DB"), "toolbox.servers[4].postgres.database", "lowercase"),
    (
        changed(("servers", 4, "postgres", "create_server"), False),
        "toolbox.servers[4].postgres.host",
        "required with create_server: false",
    ),
    (
        changed(("servers", 4, "postgres", "host"), "db.internal"),
        "toolbox.servers[4].postgres.host",
        "only for create_server: false",
    ),
    (changed(("servers", 1, 7), "x"), "toolbox.servers[1][7]", "keys must be strings"),
    (changed(("servers", 1), "git"), "toolbox.servers[1]", "is a string"),
]


@pytest.mark.parametrize(
    ("spec", "path", "words"), SINGLE_ERRORS, ids=[f"{case[1]}-{i}" for i, case in enumerate(SINGLE_ERRORS)]
)
def test_each_rule_reports_exactly_its_field(spec, path, words):
    errors = validate(spec, SECRETS)
    assert paths(errors) == [path], errors
    assert words in errors[0].message


@pytest.mark.parametrize(
    ("secret_names", "missing"),
    [
        (
            [],
            [
                "toolbox.gateway.tls.cert_secret",
                "toolbox.gateway.tls.key_secret",
                "toolbox.gateway.token_secrets[0]",
                "toolbox.servers[4].postgres.password_secret",
                "toolbox.servers[6].secrets[0].name",
            ],
        ),
        (["research_token", "gw_cert", "gw_key", "research_api"], ["toolbox.servers[4].postgres.password_secret"]),
        (None, []),
    ],
)
def test_every_referenced_secret_needs_a_value(secret_names, missing):
    errors = validate(VALID, secret_names)
    assert paths(errors) == missing
    assert all("Ansible Vault" in error.message for error in errors)


def test_default_secret_names_are_checked_too():
    spec = {"name": "lab", "version": "1", "servers": [{"name": "pg", "kind": "postgres"}]}
    assert paths(validate(spec, [])) == ["toolbox.gateway.token_secrets", "toolbox.servers[0].postgres.password_secret"]
    assert validate(spec, ["lab_token", "lab_pg_password"]) == []


def test_every_error_is_listed_not_only_the_first():
    spec = changed(("servers", 3, "memory"), "1T")
    spec["servers"][0]["name"] = "Files"
    spec["gateway"]["port"] = -1
    assert paths(validate(spec, SECRETS)) == [
        "toolbox.gateway.port",
        "toolbox.servers[0].name",
        "toolbox.servers[3].memory",
    ]


def test_paths_follow_document_order():
    spec = copy.deepcopy(VALID)
    for index in (10, 2):
        spec["servers"].extend({"name": f"s{i}", "kind": "time"} for i in range(len(spec["servers"]), index + 1))
        spec["servers"][index]["replicas"] = 99
    assert paths(validate(spec, SECRETS)) == ["toolbox.servers[2].replicas", "toolbox.servers[10].replicas"]


@pytest.mark.parametrize("spec", [None, 5, "research", [VALID], True])
def test_a_spec_that_is_not_a_mapping(spec):
    assert validate(spec) == [
        SpecError("toolbox", validate(spec)[0].message),
    ]
    assert "must be a mapping" in validate(spec)[0].message


def test_the_wrapper_key_gets_a_hint():
    errors = validate({"toolbox": VALID})
    assert "toolbox.toolbox" in paths(errors)
    assert any("not the toolbox: key itself" in error.message for error in errors)


def test_a_cyclic_spec_is_an_error_not_a_crash():
    spec = copy.deepcopy(VALID)
    spec["servers"][0]["args"] = spec["servers"]
    errors = validate(spec)
    assert paths(errors) == ["toolbox.servers[0].args"]
    assert "refers to itself" in errors[0].message


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("GITHUB_TOKEN", True),
        ("PGPASSWORD", True),
        ("OPENAI_API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GOOGLE_CREDENTIALS", True),
        ("DB_PASSWORD_FILE", False),
        ("LOG_LEVEL", False),
        ("MEMORY_FILE_PATH", False),
    ],
)
def test_secret_looking_names(name, secret):
    assert looks_secret(name) is secret


def test_validate_does_not_modify_its_input():
    spec = copy.deepcopy(VALID)
    validate(spec, SECRETS)
    assert spec == VALID


# Property-based: anything at all is answered with path-named errors, never an exception.


def assert_path_errors(errors):
    assert isinstance(errors, list)
    for error in errors:
        assert isinstance(error, SpecError)
        assert error.path == "toolbox" or error.path.startswith(("toolbox.", "toolbox["))
        assert isinstance(error.message, str) and error.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH, st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3)))
def test_random_values_get_path_errors(spec, secret_names):
    errors = validate(spec, secret_names)
    assert_path_errors(errors)
    if not isinstance(spec, dict):
        assert paths(errors) == ["toolbox"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from([None, SECRETS, []]))
def test_mutated_specs_get_path_errors_or_normalize(spec, secret_names):
    errors = validate(spec, secret_names)
    assert_path_errors(errors)
    if not errors:
        once = normalize(spec)
        assert normalize(once) == once
        assert validate(once, secret_names) == []


# Valid specs, generated: every one validates and normalizes idempotently.

NAMES = st.from_regex(r"\A[a-z][a-z0-9-]{0,22}\Z")
SIZES = st.builds(lambda n, unit: f"{n}{unit}", st.integers(min_value=16, max_value=4096), st.sampled_from("Mm"))
CPUS = st.floats(min_value=0.01, max_value=8, allow_nan=False)


@st.composite
def valid_servers(draw):
    names = draw(st.lists(NAMES.filter(lambda n: n != "gateway"), min_size=1, max_size=5, unique=True))
    servers = []
    for name in names:
        server = {"name": name}
        if draw(st.booleans()):
            server["kind"] = draw(st.sampled_from(KINDS))
            if draw(st.booleans()):
                server["version"] = draw(st.from_regex(r"\A[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{1,2}\Z"))
        else:
            server["image"] = draw(
                st.sampled_from(["acme/tool", "registry.lab:5000/acme/tool:1.2", "mcp/x@sha256:" + "a" * 64])
            )
            server["port"] = draw(st.integers(min_value=1, max_value=65535))
        memory = draw(SIZES)
        server["memory"] = memory
        if draw(st.booleans()):
            server["memory_reservation"] = f"{draw(st.integers(min_value=1, max_value=16))}M"
        cpus = draw(CPUS)
        server["cpus"] = cpus
        server["cpus_reservation"] = draw(st.floats(min_value=0, max_value=cpus))
        server["replicas"] = draw(st.integers(min_value=1, max_value=16))
        server["env"] = draw(
            st.dictionaries(
                st.from_regex(r"\A[A-Z_][A-Z0-9_]{0,10}\Z").filter(lambda n: not looks_secret(n)),
                st.text(max_size=10) | st.integers() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False),
                max_size=3,
            )
        )
        server["args"] = draw(st.lists(st.text(max_size=10), max_size=3))
        targets = draw(st.lists(st.from_regex(r"\A/(data|srv|repos)/[a-z]{1,8}\Z"), max_size=3, unique=True))
        server["volumes"] = [
            {"source": f"v{i}", "target": t, "read_only": draw(st.booleans())} for i, t in enumerate(targets)
        ]
        servers.append(server)
    return servers


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NAMES, valid_servers(), st.booleans())
def test_valid_specs_normalize_idempotently(name, servers, with_gateway):
    spec = {"name": name, "version": "1.0.0", "servers": servers}
    if with_gateway:
        spec["gateway"] = {"port": 443, "tls": {"cert_secret": "c", "key_secret": "k"}}
    assert validate(spec) == []
    once = normalize(spec)
    assert normalize(once) == once
    assert validate(once) == []
    for server in once["servers"]:
        assert server["memory"][-1] in "KMG"
        assert all(isinstance(value, str) for value in server["env"].values())
        assert math.isfinite(server["cpus"])


def test_the_research_example_is_valid():
    example = Path(__file__).resolve().parents[4] / "examples" / "toolbox-research.yml"
    spec = yaml.safe_load(example.read_text())["toolbox"]
    assert {server["kind"] for server in spec["servers"]} == set(KINDS) - {"everything"}
    assert validate(spec, ["research_token", "research_db_password", "research_fetch_proxy"]) == []
    assert [e.path for e in validate(spec, ["research_token"])] == [
        "toolbox.servers[4].postgres.password_secret",
        "toolbox.servers[5].secrets[0].name",
    ]


def test_huge_values_are_refused_quickly():
    spec = changed(("servers",), [{"name": "clock", "kind": "time"}] * 100_000)
    spec["servers"][0] = {"name": "clock", "kind": "time", "args": ["x" * 10_000_000]}
    errors = validate(spec, SECRETS)
    assert errors[0] == SpecError("toolbox.servers", errors[0].message)
    assert "100000 entries" in errors[0].message
    assert "at most 4096" in errors[1].message
    assert len(errors) <= 101
