# SPDX-License-Identifier: GPL-3.0-or-later
"""What a user installs: galaxy.yml names every collection the content uses, and the version is written once."""

import ast
import itertools
import json
import re
from pathlib import Path

import ansible_collections
import pytest
import yaml
from ansible.errors import AnsibleLookupError
from ansible.galaxy.dependency_resolution.versioning import meets_requirements
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template
from ansible_collections.agentopia.toolbox.plugins.lookup.collection_version import read_version

ROOT = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
# What the collection ships and runs: molecule/, bench/ and lab/ are build_ignored.
CONTENT = [ROOT / "roles", ROOT / "playbooks", ROOT / "plugins", ROOT / "meta"]
# The collections the pinned `ansible` package installs into the venv.
BUNDLED = {
    Path(location).parent
    for location in ansible_collections.__path__
    if (Path(location).parent / "ansible_collections").is_dir()
}
DOTTED = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+){2,}")


def bundled_collections():
    """namespace.name -> version of every collection the `ansible` package brings."""
    found = {}
    for root in BUNDLED:
        for manifest in (root / "ansible_collections").glob("*/*/MANIFEST.json"):
            info = json.loads(manifest.read_text())["collection_info"]
            found[f"{info['namespace']}.{info['name']}"] = info["version"]
    return found


def content_files():
    for top in CONTENT:
        for path in sorted(top.rglob("*")):
            if path.is_file() and path.suffix in {".yml", ".yaml", ".py", ".j2", ".md"}:
                yield path


def collections_used(text, known):
    """Every known collection named in text: `ns.name.plugin` in YAML and Jinja, `ansible_collections.ns.name`."""
    used = set()
    for dotted in DOTTED.findall(text):
        parts = dotted.split(".")
        for first, second in itertools.pairwise(parts[:-1]):
            if f"{first}.{second}" in known:
                used.add(f"{first}.{second}")
    return used


BUNDLED_VERSIONS = bundled_collections()


def test_the_venv_has_the_bundled_collections():
    assert {"community.docker", "community.crypto", "community.general"} <= set(BUNDLED_VERSIONS)


def test_the_scan_finds_plugin_names_and_imports():
    text = """
    community.general.htpasswd:
    x: "{{ lookup('community.crypto.x509_certificate_info') }}"
    from ansible_collections.community.docker.plugins.module_utils import common
    url: http://deb.debian.org/debian  # no collection
    """
    assert collections_used(text, BUNDLED_VERSIONS) == {"community.general", "community.crypto", "community.docker"}


def test_galaxy_declares_exactly_the_collections_the_content_uses():
    used = {}
    for path in content_files():
        for name in collections_used(path.read_text(), BUNDLED_VERSIONS):
            used.setdefault(name, path.relative_to(ROOT).as_posix())
    declared = set(GALAXY.get("dependencies") or {})
    undeclared = {name: where for name, where in used.items() if name not in declared}
    assert not undeclared, f"used but not in galaxy.yml's dependencies (first use): {undeclared}"
    assert declared == set(used), f"declared but never used: {declared - set(used)}"


@pytest.mark.parametrize("name", sorted(GALAXY.get("dependencies") or {}))
def test_the_pinned_ansible_satisfies_each_declared_range(name):
    assert name in BUNDLED_VERSIONS, f"{name} is not in the pinned ansible package"
    assert meets_requirements(BUNDLED_VERSIONS[name], GALAXY["dependencies"][name]), (
        f"{name} {BUNDLED_VERSIONS[name]} does not meet {GALAXY['dependencies'][name]}"
    )


# Where the same digits mean something other than the collection's version.
NOT_THE_COLLECTION_VERSION = {
    # A new toolbox's own spec version when the mcpServers import is given none.
    "plugins/filter/mcp_servers_to_toolbox.py",
    "plugins/filter/mcp_servers_to_toolbox.yml",
    # The probe's MCP clientInfo; the module runs on the target, where no galaxy.yml or MANIFEST.json is.
    "plugins/modules/mcp_probe.py",
}


def plugin_doc_lines(source):
    """Line numbers of a plugin's DOCUMENTATION, EXAMPLES and RETURN: documentation, whose examples may name a tag."""
    lines = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and {getattr(target, "id", "") for target in node.targets} & {
            "DOCUMENTATION",
            "EXAMPLES",
            "RETURN",
        }:
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def test_the_version_is_written_only_in_galaxy_yml():
    version = re.compile(rf"(?<![\w.]){re.escape(GALAXY['version'])}(?![\w.])")
    restated = []
    for path in content_files():
        # READMEs show example tags; what runs is the YAML, the templates and the plugins' code.
        if path.suffix == ".md" or path.relative_to(ROOT).as_posix() in NOT_THE_COLLECTION_VERSION:
            continue
        source = path.read_text()
        documentation = plugin_doc_lines(source) if path.suffix == ".py" else set()
        restated += [
            f"{path.relative_to(ROOT)}:{number}"
            for number, line in enumerate(source.splitlines(), 1)
            # version_added records history, not the current version.
            if version.search(line) and number not in documentation and "version_added" not in line
        ]
    assert not restated, f"the collection's version restated (read it with the collection_version lookup): {restated}"


def test_the_lookup_reads_galaxy_yml_in_a_checkout():
    lookup = lookup_loader.get("agentopia.toolbox.collection_version")
    assert lookup.run([]) == [GALAXY["version"]]


def test_an_installed_collection_reads_manifest_json(tmp_path):
    (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "2.3.4"}}))
    (tmp_path / "galaxy.yml").write_text("version: 9.9.9\n")
    assert read_version(tmp_path) == "2.3.4"


@pytest.mark.parametrize(
    "files",
    [{}, {"galaxy.yml": "name: toolbox\n"}, {"galaxy.yml": "version: [1]\n"}, {"MANIFEST.json": "{"}],
    ids=["nothing", "no_version", "not_a_string", "broken_manifest"],
)
def test_no_readable_version_is_a_lookup_error(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(AnsibleLookupError):
        read_version(tmp_path)


@pytest.mark.parametrize(
    ("role", "variable"),
    [("base_image", "base_image_version"), ("mcp_images", "mcp_images_version"), ("exporters", "exporters_version")],
)
def test_the_roles_tag_images_with_the_collection_version(role, variable):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults/main.yml").read_text())
    rendered = Templar(variables={}).template(trust_as_template(defaults[variable]))
    assert rendered == GALAXY["version"]
