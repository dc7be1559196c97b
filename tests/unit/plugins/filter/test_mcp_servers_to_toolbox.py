# SPDX-License-Identifier: GPL-3.0-or-later
import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.filter.mcp_servers_to_toolbox import (
    mcp_servers_to_toolbox,
    recognize,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._toolbox_spec import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "mcp-servers.json"


def one(entry, name="research"):
    result = mcp_servers_to_toolbox({"mcpServers": {"s": entry}}, name)
    return result["toolbox"]["servers"][0], result


@pytest.mark.parametrize(
    ("command", "args", "kind", "rest"),
    [
        ("npx", ["-y", "@modelcontextprotocol/server-filesystem", "/a", "/b"], "filesystem", ["/a", "/b"]),
        ("npx", ["--yes", "@modelcontextprotocol/server-memory@2025.8.4"], "memory", []),
        ("npx.cmd", ["-y", "@modelcontextprotocol/server-everything", "stdio"], "everything", ["stdio"]),
        (
            "npx",
            ["-y", "-p", "@modelcontextprotocol/server-filesystem", "mcp-server-filesystem", "/a"],
            "filesystem",
            ["/a"],
        ),
        ("/usr/local/bin/uvx", ["mcp-server-git", "--repository", "/r"], "git", ["--repository", "/r"]),
        ("uvx", ["mcp-server-fetch==2025.4.7"], "fetch", []),
        (
            "uvx",
            ["--from", "mcp-server-time", "mcp-server-time", "--local-timezone", "UTC"],
            "time",
            ["--local-timezone", "UTC"],
        ),
        ("uv", ["--directory", "/x", "run", "mcp-server-git"], "git", []),
        ("python", ["-m", "mcp_server_git", "-r", "/r"], "git", ["-r", "/r"]),
        ("python3.12", ["-m", "mcp_server_time"], "time", []),
        ("mcp-server-fetch", ["--ignore-robots-txt"], "fetch", ["--ignore-robots-txt"]),
        ("postgres-mcp", ["--access-mode=restricted"], "postgres", ["--access-mode=restricted"]),
        ("node", ["/opt/n/node_modules/@modelcontextprotocol/server-memory/dist/index.js"], "memory", []),
        ("C:\\Program Files\\nodejs\\npx.cmd", ["-y", "@modelcontextprotocol/server-memory"], "memory", []),
    ],
)
def test_recognize_launchers(command, args, kind, rest):
    assert recognize(command, args) == (kind, rest)


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("npx", ["-y", "@acme/server-jira"]),
        ("docker", ["run", "-i", "--rm", "mcp/fetch"]),
        ("python", ["server.py"]),
        ("uvx", []),
        ("node", ["build/index.js"]),
    ],
)
def test_unknown_commands_are_not_guessed(command, args):
    assert recognize(command, args) is None


def test_filesystem_dirs_become_read_only_volumes():
    server, result = one(
        {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/Docs", "C:\\Users\\me\\Docs"],
        }
    )
    assert server == {
        "name": "s",
        "kind": "filesystem",
        "args": ["/data/docs", "/data/docs-2"],
        "volumes": [
            {"source": "research_s_docs", "target": "/data/docs", "read_only": True},
            {"source": "research_s_docs-2", "target": "/data/docs-2", "read_only": True},
        ],
    }
    assert any("/home/me/Docs" in note and "research_s_docs" in note for note in result["notes"])


def test_git_repository_becomes_a_volume():
    server = one({"command": "uvx", "args": ["mcp-server-git", "--repository=/src/My Repo", "-v"]})[0]
    assert server["args"] == ["--repository", "/repos/my-repo", "-v"]
    assert server["volumes"] == [{"source": "research_s_repo", "target": "/repos", "read_only": True}]


def test_time_keeps_its_args_and_plain_env():
    server, result = one(
        {"command": "uvx", "args": ["mcp-server-time", "--local-timezone", "Asia/Tokyo"], "env": {"LOG_LEVEL": "debug"}}
    )
    assert server == {
        "name": "s",
        "kind": "time",
        "args": ["--local-timezone", "Asia/Tokyo"],
        "env": {"LOG_LEVEL": "debug"},
    }
    assert [s["name"] for s in result["secrets"]] == ["research_token"]


def test_everything_drops_the_transport_argument():
    server = one({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything", "stdio"]})[0]
    assert server == {"name": "s", "kind": "everything"}


def test_secret_env_becomes_a_secret_reference_without_its_value():
    server, result = one(
        {"command": "uvx", "args": ["mcp-server-fetch"], "env": {"API_TOKEN": "tok-123", "HTTP_PROXY_PASSWORD": "pw"}}
    )
    assert "env" not in server
    assert server["secrets"] == [
        {"name": "research_s_api_token", "env": "API_TOKEN_FILE"},
        {"name": "research_s_http_proxy_password", "env": "HTTP_PROXY_PASSWORD_FILE"},
    ]
    assert result["secrets"][1:] == [
        {"name": "research_s_api_token", "server": "s", "env": "API_TOKEN_FILE", "source": "env API_TOKEN"},
        {
            "name": "research_s_http_proxy_password",
            "server": "s",
            "env": "HTTP_PROXY_PASSWORD_FILE",
            "source": "env HTTP_PROXY_PASSWORD",
        },
    ]
    assert "tok-123" not in json.dumps(result) and '"pw"' not in json.dumps(result)


def test_postgres_url_becomes_a_postgres_block_and_its_password_a_secret():
    server, result = one(
        {
            "command": "uvx",
            "args": ["postgres-mcp", "--access-mode", "unrestricted"],
            "env": {"DATABASE_URI": "postgresql://ro%5Fuser:s3cret@db.lan:6543/sales"},
        }
    )
    assert server == {
        "name": "s",
        "kind": "postgres",
        "postgres": {
            "create_server": False,
            "host": "db.lan",
            "port": 6543,
            "database": "sales",
            "user": "ro_user",
            "password_secret": "research_s_password",
        },
    }
    assert "s3cret" not in json.dumps(result)
    assert "research_s_password" in [s["name"] for s in result["secrets"]]


def test_postgres_without_url_gets_its_own_server():
    server, result = one({"command": "postgres-mcp", "args": []})
    assert server["postgres"] == {"create_server": True, "password_secret": "research_s_password"}
    assert any("localhost" not in note and "its own PostgreSQL" in note for note in result["notes"])


def test_server_names_are_made_valid():
    result = mcp_servers_to_toolbox(
        {"mcpServers": {"My Files!": {"command": "mcp-server-time"}, "2nd": {"command": "mcp-server-time"}}}, "lab"
    )
    assert [s["name"] for s in result["toolbox"]["servers"]] == ["my-files", "s-2nd"]


def test_the_example_file_imports_to_a_valid_spec():
    result = mcp_servers_to_toolbox(EXAMPLE.read_text(), "research", "1.0.0")
    spec = result["toolbox"]
    assert [(s["name"], s["kind"]) for s in spec["servers"]] == [
        ("filesystem", "filesystem"),
        ("git", "git"),
        ("time", "time"),
        ("memory", "memory"),
        ("fetch", "fetch"),
        ("postgres", "postgres"),
    ]
    names = [s["name"] for s in result["secrets"]]
    assert names == ["research_token", "research_postgres_password"]
    assert validate(spec, names) == []


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (
            {"mcpServers": {"jira": {"command": "npx", "args": ["-y", "@acme/jira-mcp"]}}},
            "mcpServers.jira: runs 'npx -y @acme/jira-mcp'",
        ),
        ({"mcpServers": {"jira": {"command": "npx", "args": ["-y", "@acme/jira-mcp"]}}}, "use image: <ref>"),
        (
            {"mcpServers": {"remote": {"type": "http", "url": "https://mcp.example/mcp"}}},
            "mcpServers.remote: is a remote server",
        ),
        ({"mcpServers": {"x": {"args": []}}}, "mcpServers.x: has no command"),
        ({"mcpServers": {"x": "npx"}}, "mcpServers.x: is not a mapping"),
        ({"mcpServers": {"x": {"command": "mcp-server-time", "args": "--local-timezone UTC"}}}, "args must be a list"),
        ({"mcpServers": {"x": {"command": "mcp-server-time", "env": ["A=1"]}}}, "env must be a mapping"),
        ({"mcpServers": {"!!!": {"command": "mcp-server-time"}}}, "cannot make a server name from '!!!'"),
        ({"mcpServers": {"gateway": {"command": "mcp-server-time"}}}, "cannot make a server name from 'gateway'"),
        ({"mcpServers": {"a b": {"command": "mcp-server-time"}, "a-b": {"command": "mcp-server-time"}}}, "rename one"),
        ({"mcpServers": {"t": {"command": "mcp-server-time", "env": {"lower": "x"}}}}, "toolbox.servers[0].env.lower"),
        (
            {"mcpServers": {"pg": {"command": "postgres-mcp", "args": ["postgresql://[::1"]}}},
            "mcpServers.pg: its database URL",
        ),
        (
            {"mcpServers": {"pg": {"command": "postgres-mcp", "env": {"DATABASE_URI": "postgresql:///db"}}}},
            "read the host",
        ),
        (
            {"mcpServers": {"pg": {"command": "postgres-mcp", "env": {"DATABASE_URI": "postgresql://h:99999/db"}}}},
            "bad port",
        ),
        ({"mcpServers": {}}, "at least one server"),
        ({"other": {}}, 'expects {"mcpServers"'),
        ("{not json", "not JSON"),
        ([1, 2], 'expects {"mcpServers"'),
    ],
)
def test_problems_name_the_server_and_the_fix(config, words):
    with pytest.raises(AnsibleFilterError) as caught:
        mcp_servers_to_toolbox(config, "lab")
    assert words in str(caught.value)


def test_every_bad_server_is_reported_at_once():
    config = {"mcpServers": {"a": {"command": "x"}, "b": {"command": "mcp-server-time"}, "c": {"command": "y"}}}
    with pytest.raises(AnsibleFilterError) as caught:
        mcp_servers_to_toolbox(config, "lab")
    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines[1:]] == ["mcpServers.a", "mcpServers.c"]


@pytest.mark.parametrize("name", ["Lab", "", "a" * 24, None])
def test_bad_toolbox_name(name):
    with pytest.raises(AnsibleFilterError, match="toolbox name"):
        mcp_servers_to_toolbox({"mcpServers": {"t": {"command": "mcp-server-time"}}}, name)


def test_a_long_secret_name_is_refused_with_a_hint():
    config = {"mcpServers": {"a" * 23: {"command": "mcp-server-fetch", "env": {"SOME_VERY_LONG_API_TOKEN": "x"}}}}
    with pytest.raises(AnsibleFilterError, match="too long: shorten"):
        mcp_servers_to_toolbox(config, "b" * 23)


def test_vs_code_servers_key():
    result = mcp_servers_to_toolbox(
        {"servers": {"clock": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"]}}}, "lab"
    )
    assert result["toolbox"]["servers"] == [{"name": "clock", "kind": "time"}]


WORDS = st.sampled_from(
    [
        "npx",
        "uvx",
        "uv",
        "run",
        "python",
        "-m",
        "-y",
        "--from",
        "-p",
        "@modelcontextprotocol/server-filesystem",
        "@modelcontextprotocol/server-memory",
        "mcp-server-git",
        "mcp_server_git",
        "--repository",
        "mcp-server-time",
        "postgres-mcp",
        "--access-mode",
        "postgresql://u:p@h:5432/d",
        "postgresql://[::1",
        "/home/me/x",
        "C:\\Users\\me",
        "",
        "stdio",
    ]
) | st.text(max_size=10)
ENTRIES = st.fixed_dictionaries(
    {"command": WORDS | st.none() | st.integers()},
    optional={
        "args": st.lists(WORDS, max_size=6) | WORDS,
        "env": st.dictionaries(
            st.sampled_from(["API_TOKEN", "DATABASE_URI", "LOG_LEVEL", "lower", "MEMORY_FILE_PATH"])
            | st.text(max_size=6),
            WORDS | st.integers() | st.none(),
            max_size=3,
        ),
        "type": st.sampled_from(["stdio", "http"]),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=12), ENTRIES | st.integers() | st.none(), max_size=4))
def test_any_config_gives_a_valid_spec_or_a_filter_error(servers):
    try:
        result = mcp_servers_to_toolbox({"mcpServers": servers}, "lab")
    except AnsibleFilterError as error:
        assert str(error)
        return
    names = [secret["name"] for secret in result["secrets"]]
    assert validate(result["toolbox"], names) == []
