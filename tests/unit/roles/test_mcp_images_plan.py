# SPDX-License-Identifier: GPL-3.0-or-later
"""The mcp_images role's build plan, rendered from its defaults and vars as a play would.

What a kind is (its runtime, binary, what its image needs) comes from the collection's kinds table through the
agentopia.toolbox.mcp_kinds filter; these tests hold the plan to the table and to the order it builds in.
"""

import pytest
import yaml
from ansible_collections.agentopia.toolbox.plugins.module_utils import _kinds as kinds
from rolevars import ROLES, load, render_text

ROLE = ROLES / "mcp_images"
EVERY_KIND = ["filesystem", "git", "fetch", "time", "memory", "everything", "postgres"]


def plan(**settings):
    variables = {**load(ROLE / "defaults/main.yml"), **load(ROLE / "vars/main.yml")}
    variables.update({"base_image_version": "0.1.0", "mcp_images_build_ca_file": "", **settings})
    return yaml.safe_load(render_text((ROLE / "templates/plan.yml.j2").read_text(), **variables))


def keys(entries):
    return [entry["key"] for entry in entries]


def test_the_default_plan_builds_each_image_after_the_one_it_starts_from():
    entries = plan()
    assert keys(entries) == [
        "runtime-python",
        "build-python",
        "runtime-node",
        "build-node",
        "filesystem",
        "memory",
        "everything",
        "git",
        "fetch",
        "time",
        "runtime-python-trixie",
        "build-python-trixie",
        "postgres",
        "postgresql",
        "gateway",
    ]
    built = set()
    for entry in entries:
        for base in (entry["from"], entry.get("build_from")):
            if base and base.startswith("agentopia/mcp-"):
                assert base in built, f"{entry['key']} starts from {base}, not built before it"
        built.add(entry["ref"])


def test_the_build_order_is_the_tables_whatever_order_the_user_lists():
    assert keys(plan(mcp_images_kinds=list(reversed(EVERY_KIND)))) == keys(plan(mcp_images_kinds=EVERY_KIND))
    chosen = plan(mcp_images_kinds=["time", "git", "everything", "filesystem"], mcp_images_gateway=False)
    assert [entry["key"] for entry in chosen if "kind" in entry] == ["filesystem", "everything", "git", "time"]


@pytest.mark.parametrize("kind", EVERY_KIND)
def test_each_kind_is_built_on_its_runtime_with_the_tables_settings(kind):
    entry = next(entry for entry in plan() if entry.get("kind") == kind)
    fact = kinds.KINDS[kind]
    runtime_image = {
        kinds.NODE: "agentopia/mcp-runtime-node:0.1.0",
        kinds.PYTHON: "agentopia/mcp-runtime-python:0.1.0",
        kinds.PYTHON_TRIXIE: "agentopia/mcp-runtime-python-trixie:0.1.0",
    }[fact.runtime]
    assert entry["from"] == runtime_image
    assert entry["template"] == ("server-node" if fact.runtime == kinds.NODE else "server-python")
    for setting, value in fact.image_settings().items():
        assert entry[setting] == value
    assert entry["bin"] == fact.bin


def test_the_memory_and_git_images_get_what_their_kind_needs():
    entries = {entry["key"]: entry for entry in plan()}
    assert entries["memory"]["env"] == {"MEMORY_FILE_PATH": "/data/memory.jsonl"}
    assert entries["git"]["apt"] == ["git"]
    assert entries["git"]["setup"] == "git config --system safe.directory '*'"
    assert entries["postgres"]["wrapper"] == ["python3", "/opt/agentopia/file_env.py"]
    assert "env" not in entries["fetch"]


def test_without_postgres_no_debian_13_images_are_planned():
    assert not {"runtime-python-trixie", "build-python-trixie", "postgres"} & set(keys(plan(mcp_images_kinds=["time"])))


def test_only_node_kinds_still_need_the_python_runtime_they_start_from():
    assert keys(plan(mcp_images_kinds=["memory"], mcp_images_gateway=False, mcp_images_postgresql=False)) == [
        "runtime-python",
        "runtime-node",
        "build-node",
        "memory",
    ]
