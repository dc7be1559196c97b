"""Rendering a toolbox spec into Swarm services: hardening, hashing, planning."""

import copy
import hashlib
import json

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _stack as stack
from ansible_collections.agentopia.toolbox.plugins.module_utils import _toolbox_spec

IMAGES = {
    "filesystem": "reg:5000/agentopia/mcp-filesystem@sha256:" + "a" * 64,
    "time": "reg:5000/agentopia/mcp-time@sha256:" + "b" * 64,
    "gateway": "reg:5000/agentopia/gateway@sha256:" + "c" * 64,
}


def normalized(servers: list[dict]) -> dict:
    """A spec as toolbox_validate hands it over: every default filled in."""
    raw = {"name": "research", "version": "1.0.0", "gateway": {"memory": "128M"}, "servers": servers}
    assert _toolbox_spec.validate(raw) == []
    return _toolbox_spec.normalize(raw)


def server(name, **extra):
    """One normalized server (kind time unless an image or another kind is given)."""
    raw = {"name": name, **({} if "image" in extra or "kind" in extra else {"kind": "time"}), **extra}
    return normalized([raw])["servers"][0]


@pytest.fixture(name="spec")
def fixture_spec():
    return normalized(
        [
            {
                "name": "files",
                "kind": "filesystem",
                "args": ["/data"],
                "volumes": [{"source": "research_data", "target": "/data"}],
            },
            {"name": "clock", "kind": "time", "env": {"TZ": "UTC", "DEBUG": False}},
        ]
    )


SECRETS = {"research_token": "research_research_token_0123456789ab"}


def render(spec, **options):
    options = {"endpoint_mode": "dnsrr", "publish_mode": "host", **options}
    return stack.render(spec, IMAGES, SECRETS, **options)


def test_every_service_is_hardened(spec):
    services = render(spec)["services"]
    assert sorted(services) == ["research_clock", "research_files", "research_gateway"]
    for service in services.values():
        template = service["TaskTemplate"]
        container = template["ContainerSpec"]
        assert container["User"] == "10001:10001"
        assert container["ReadOnly"] is True
        assert container["CapabilityDrop"] == ["ALL"]
        assert {"Type": "tmpfs", "Target": "/tmp"}.items() <= container["Mounts"][0].items()
        assert template["Resources"]["Limits"]["Pids"] == stack.PIDS_LIMIT
        assert template["Resources"]["Limits"]["MemoryBytes"] > 0
        assert template["Resources"]["Reservations"]["NanoCPUs"] > 0
        assert template["RestartPolicy"]["Condition"] == "any"
        assert template["LogDriver"]["Options"] == {"max-size": "10m", "max-file": "3"}


def test_servers_join_only_the_internal_network_and_publish_nothing(spec):
    services = render(spec)["services"]
    for name in ("research_files", "research_clock"):
        assert [net["Target"] for net in services[name]["TaskTemplate"]["Networks"]] == ["research_internal"]
        assert "Ports" not in services[name]["EndpointSpec"]
        assert services[name]["EndpointSpec"]["Mode"] == "dnsrr"
    gateway = services["research_gateway"]
    assert [net["Target"] for net in gateway["TaskTemplate"]["Networks"]] == ["research_internal", "research_edge"]
    assert gateway["EndpointSpec"]["Ports"] == [
        {"Protocol": "tcp", "TargetPort": 8811, "PublishedPort": 8811, "PublishMode": "host"}
    ]


def test_ingress_publishing_uses_a_virtual_ip_for_the_gateway_only(spec):
    services = render(spec, publish_mode="ingress")["services"]
    assert services["research_gateway"]["EndpointSpec"]["Mode"] == "vip"
    assert services["research_files"]["EndpointSpec"]["Mode"] == "dnsrr"


def test_gateway_knows_every_backend_and_reads_tokens_from_files(spec):
    env = dict(
        e.split("=", 1) for e in render(spec)["services"]["research_gateway"]["TaskTemplate"]["ContainerSpec"]["Env"]
    )
    assert json.loads(env["GATEWAY_BACKENDS"]) == {
        "clock": {"url": "http://research_clock:8000/mcp"},
        "files": {"url": "http://research_files:8000/mcp"},
    }
    assert env["GATEWAY_TOKEN_FILES"] == "/run/secrets/research_token"
    assert "GATEWAY_TLS_CERT_FILE" not in env
    secrets = render(spec)["services"]["research_gateway"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    assert secrets == [
        {
            "SecretName": SECRETS["research_token"],
            "File": {"Name": "research_token", "UID": "10001", "GID": "10001", "Mode": 0o400},
        }
    ]


def test_digest_tokens_come_from_a_read_only_host_directory_on_the_deploying_node(spec):
    spec["gateway"]["token_source"] = "digests"
    spec["servers"][1]["secrets"] = [{"name": "research_token", "env": "TOKEN_FILE"}]
    services = render(spec, token_dir="/etc/agentopia/toolbox/tokens/research", node_id="n0de1d")["services"]
    gateway = services["research_gateway"]["TaskTemplate"]
    env = dict(e.split("=", 1) for e in gateway["ContainerSpec"]["Env"])
    assert env["GATEWAY_TOKEN_FILES"] == "/run/agentopia/tokens/tokens"
    assert gateway["ContainerSpec"]["Secrets"] == []  # the token never reaches the node
    binds = [m for m in gateway["ContainerSpec"]["Mounts"] if m["Type"] == "bind"]
    assert binds == [
        {
            "Type": "bind",
            "Source": "/etc/agentopia/toolbox/tokens/research",
            "Target": "/run/agentopia/tokens",
            "ReadOnly": True,
        }
    ]
    assert gateway["Placement"]["Constraints"] == ["node.id==n0de1d"]
    # Only the gateway's tokens become digests: a server that mounts the same secret still gets it as a file.
    assert stack.referenced_secrets(spec, mounted=True) == ["research_token"]
    spec["servers"][1]["secrets"] = []
    assert stack.referenced_secrets(spec, mounted=True) == []
    assert stack.referenced_secrets(spec) == ["research_token"]
    with pytest.raises(ValueError, match="token directory"):
        render(spec)


def test_token_digests_hold_every_token_line_once_and_no_token():
    content = stack.token_digests(["old-token\nnew-token\n", "new-token", "  \n"])
    lines = [line for line in content.splitlines() if not line.startswith("#")]
    assert lines == sorted(f"sha256:{hashlib.sha256(t).hexdigest()}" for t in (b"old-token", b"new-token"))
    assert "old-token" not in content and "new-token" not in content


def test_server_secrets_are_files_and_env_holds_only_their_path(spec):
    spec["servers"][1]["secrets"] = [{"name": "research_token", "env": "TOKEN_FILE"}]
    container = render(spec)["services"]["research_clock"]["TaskTemplate"]["ContainerSpec"]
    assert "TOKEN_FILE=/run/secrets/research_token" in container["Env"]
    assert [ref["File"]["Name"] for ref in container["Secrets"]] == ["research_token"]


def test_custom_image_serves_where_it_says(spec):
    spec["servers"].append(server("tool", image="reg:5000/acme/tool:1", port=9000, path="/rpc"))
    services = render(spec)["services"]
    assert services["research_tool"]["TaskTemplate"]["ContainerSpec"]["Image"] == "reg:5000/acme/tool:1"
    env = dict(e.split("=", 1) for e in services["research_gateway"]["TaskTemplate"]["ContainerSpec"]["Env"])
    assert json.loads(env["GATEWAY_BACKENDS"])["tool"] == {"url": "http://research_tool:9000/rpc"}


def test_a_version_override_keeps_the_repository(spec):
    spec["servers"][1]["version"] = "0.2.0"
    image = render(spec)["services"]["research_clock"]["TaskTemplate"]["ContainerSpec"]["Image"]
    assert image == "reg:5000/agentopia/mcp-time:0.2.0"


def test_a_kind_without_an_image_is_named(spec):
    spec["servers"][1]["kind"] = "git"
    with pytest.raises(KeyError, match="git"):
        render(spec)


def test_hash_is_stable_and_changes_only_for_the_changed_server(spec):
    before = render(spec)["services"]
    assert before == render(copy.deepcopy(spec))["services"]
    spec["servers"][1]["env"]["TZ"] = "Europe/Berlin"
    after = render(spec)["services"]
    changed = {
        name for name in before if before[name]["Labels"][stack.HASH_LABEL] != after[name]["Labels"][stack.HASH_LABEL]
    }
    assert changed == {"research_clock"}
    assert stack.plan(after, before) == {
        "research_files": "unchanged",
        "research_clock": "update",
        "research_gateway": "unchanged",
    }


def test_a_new_toolbox_version_relabels_without_replacing_tasks(spec):
    before = render(spec)["services"]
    spec["version"] = "1.1.0"
    after = render(spec)["services"]
    assert set(stack.plan(after, before).values()) == {"relabel"}


def test_plan_creates_and_removes(spec):
    before = render(spec)["services"]
    spec["servers"] = [*spec["servers"][:1], server("other")]
    after = render(spec)["services"]
    assert stack.plan(after, before) == {
        "research_files": "unchanged",
        "research_other": "create",
        "research_gateway": "update",  # its backend list changed
        "research_clock": "remove",
    }


def test_a_new_secret_version_changes_only_the_services_that_mount_it(spec):
    before = render(spec)["services"]
    rotated = {"research_token": "research_research_token_fedcba987654"}
    after = stack.render(spec, IMAGES, rotated, endpoint_mode="dnsrr", publish_mode="host")["services"]
    assert stack.plan(after, before) == {
        "research_files": "unchanged",
        "research_clock": "unchanged",
        "research_gateway": "update",
    }


def test_referenced_secrets_in_order_without_repeats(spec):
    spec["gateway"]["tls"] = {"cert_secret": "gw_cert", "key_secret": "gw_key"}
    spec["servers"][0]["secrets"] = [{"name": "gw_key"}, {"name": "db_url", "env": "DB_URL_FILE"}]
    assert stack.referenced_secrets(spec) == ["research_token", "gw_cert", "gw_key", "db_url"]


@pytest.mark.parametrize(
    ("size", "expected"), [("256M", 256 * 1024**2), ("1G", 1024**3), ("512k", 512 * 1024), (1024, 1024)]
)
def test_sizes(size, expected):
    assert stack.size_bytes(size) == expected


def test_summary_shows_what_an_operator_reviews(spec):
    summary = stack.summary(render(spec)["services"]["research_files"])
    assert summary["mounts"] == ["tmpfs:/tmp", "research_data:/data:ro"]
    assert summary["image"] == IMAGES["filesystem"]
    assert summary["version"] == "1.0.0"


def test_postgres_gets_its_database_and_a_uri_secret(spec):
    postgres = {"database": "app", "create_server": True, "host": None, "port": 5432, "user": "postgres"}
    spec["servers"].append(
        server("db", kind="postgres", postgres={**postgres, "password_secret": "research_db_password"})
    )
    values = {"research_db_password": "p@ss word"}
    derived = stack.derived_secrets(spec, values)
    assert derived == {"db_database_uri": "postgresql://postgres:p%40ss%20word@research_db-db:5432/app"}
    assert stack.referenced_secrets(spec)[-1] == "research_db_password"
    versions = {**SECRETS, "research_db_password": "v1", "db_database_uri": "v2"}
    images = {**IMAGES, "postgres": "reg/mcp-postgres:1", "postgresql": "reg/postgresql:1"}
    services = stack.render(spec, images, versions, endpoint_mode="dnsrr", publish_mode="host")["services"]
    database = services["research_db-db"]["TaskTemplate"]["ContainerSpec"]
    assert "POSTGRES_PASSWORD_FILE=/run/secrets/research_db_password" in database["Env"]
    assert [m["Source"] for m in database["Mounts"] if m["Type"] == "volume"] == ["research_db_pgdata"]
    assert services["research_db-db"]["TaskTemplate"]["Networks"][0]["Target"] == "research_internal"
    mcp = services["research_db"]["TaskTemplate"]["ContainerSpec"]
    assert "DATABASE_URI_FILE=/run/secrets/db_database_uri" in mcp["Env"]
    assert "p@ss" not in json.dumps(services)


def test_stack_hash_follows_task_changes_not_the_version_label(spec):
    before = stack.stack_hash(render(spec)["services"])
    relabelled = stack.stack_hash(render({**spec, "version": "2.0.0"})["services"])
    changed = copy.deepcopy(spec)
    changed["servers"][1]["env"]["TZ"] = "Europe/Paris"
    assert relabelled == before
    assert stack.stack_hash(render(changed)["services"]) != before
