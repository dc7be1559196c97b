# SPDX-License-Identifier: GPL-3.0-or-later
import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _kinds as kinds
from ansible_collections.agentopia.toolbox.plugins.module_utils._toolbox_spec import KINDS, SCHEMA


def test_the_spec_schema_takes_its_kinds_from_the_table():
    assert KINDS == kinds.NAMES
    kind_field = SCHEMA["properties"]["servers"]["items"]["properties"]["kind"]
    assert kind_field["enum"] == [*kinds.NAMES, None]


def test_every_kind_has_one_runtime_and_the_runtimes_split_the_table():
    split = [name for runtime in kinds.RUNTIMES for name in kinds.by_runtime(runtime)]
    assert sorted(split) == sorted(kinds.NAMES)
    assert list(kinds.by_runtime(kinds.NODE)) == ["filesystem", "memory", "everything"]
    assert list(kinds.by_runtime(kinds.PYTHON)) == ["git", "fetch", "time"]


def test_an_unknown_runtime_is_refused():
    with pytest.raises(ValueError, match="unknown runtime 'ruby'"):
        kinds.by_runtime("ruby")


def test_image_settings_hold_only_what_a_kind_needs():
    assert kinds.KINDS["fetch"].image_settings() == {"bin": "mcp-server-fetch"}
    assert kinds.KINDS["memory"].image_settings() == {
        "bin": "mcp-server-memory",
        "env": {"MEMORY_FILE_PATH": "/data/memory.jsonl"},
    }
    assert kinds.KINDS["postgres"].image_settings()["wrapper"] == ["python3", "/opt/agentopia/file_env.py"]


def test_launch_names_cover_packages_and_binaries():
    names = kinds.launch_names()
    assert names["@modelcontextprotocol/server-memory"] == "memory"
    assert names["mcp-server-memory"] == "memory"
    assert names["postgres-mcp"] == "postgres"
    assert kinds.python_modules() == {
        "mcp_server_git": "git",
        "mcp_server_fetch": "fetch",
        "mcp_server_time": "time",
        "postgres_mcp": "postgres",
    }
