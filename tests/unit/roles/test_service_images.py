# SPDX-License-Identifier: GPL-3.0-or-later
"""The images built from services/: the roles' Dockerfiles, rendered as a play would, copy only what the build
context holds, and the context holds a service's package, its image files and its lock - never its tests, caches
or build metadata. The bridge images run the package through its launcher, with the same HEALTHCHECK as before."""

import os
import re

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.agentopia.toolbox.plugins.module_utils import _image_inputs as image_inputs
from rolevars import ROLES, load, render_text

SERVICES = ROLES.parent / "services"
MCP_IMAGES = ROLES / "mcp_images"
EXPORTERS = ROLES / "exporters"
# What a find on the controller may also see in a service: caches and an editable install's metadata.
LEFTOVERS = ["src/{pkg}/__pycache__/cli.cpython-311.pyc", "src/{pkg}.egg-info/PKG-INFO", "tests/conftest.py",
             "tests/__pycache__/x.pyc", "pyproject.toml", "README.md", ".pytest_cache/README.md"]  # fmt: skip


def service_files(service, pkg):
    """A find result over the service folder: its real files plus the leftovers a developer's checkout has."""
    root = SERVICES / service
    real = [str(path) for path in root.rglob("*") if path.is_file()]
    return {"files": [{"path": p} for p in real + [str(root / extra.format(pkg=pkg)) for extra in LEFTOVERS]]}


def role_variables(role, **extra):
    merged = {**load(role / "defaults/main.yml"), **load(role / "vars/main.yml")}
    merged.update({"ansible_managed": "managed", "role_path": str(role), "base_image_version": "0.1.0"}, **extra)
    return merged


def render_file(role, name, variables):
    loader = DataLoader()
    loader.set_basedir(str(role / "templates"))  # where `{% import '_macros.j2' %}` is found
    templar = Templar(loader=loader, variables=variables)
    return templar.template(trust_as_template((role / "templates" / name).read_text()))


def context_sources(dockerfile):
    """Every build-context path a COPY of the Dockerfile reads (COPY --from reads another stage)."""
    sources = []
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    return sources


def held(context, source):
    return source in context or any(path.startswith(source.rstrip("/") + "/") for path in context)


PLAN_VARIABLES = role_variables(MCP_IMAGES, mcp_images_build_ca_file="")
PLAN = yaml.safe_load(render_text((MCP_IMAGES / "templates/plan.yml.j2").read_text(), **PLAN_VARIABLES))
TREES = {"bridge": "agentopia_bridge", "gateway": "agentopia_gateway"}


def mcp_context(entry):
    """The build context image_contexts packs for a plan entry (the role's own rule), as paths."""
    tree = None
    if "tree" in entry:
        listed = service_files(entry["tree"], TREES[entry["tree"]])["files"]
        tree = [os.path.relpath(item["path"], SERVICES / entry["tree"]) for item in listed]
    files = image_inputs.context_files(entry, str(MCP_IMAGES / "files"), str(SERVICES), "", tree)
    return [item.name for item in files]


@pytest.mark.parametrize("entry", [e for e in PLAN if "tree" in e], ids=lambda e: e["key"])
def test_every_copy_of_a_service_image_finds_its_source_in_the_context(entry):
    context = mcp_context(entry)
    dockerfile = render_file(
        MCP_IMAGES, f"{entry['template']}.Dockerfile.j2", {**PLAN_VARIABLES, "mcp_images__image": entry}
    )
    assert context_sources(dockerfile)
    assert [s for s in context_sources(dockerfile) if not held(context, s)] == []
    for role_file in entry.get("files", []):
        assert (MCP_IMAGES / "files" / role_file).is_file()
    for path in context:
        if "/" in path:
            assert (SERVICES / path).is_file(), path
    assert not [p for p in context if re.search(r"/tests/|__pycache__|\.egg-info|\.pyc$|pyproject|README", p)]


def test_the_bridge_context_is_its_package_its_launcher_and_its_health_check():
    time_entry = next(e for e in PLAN if e["key"] == "time")
    modules = sorted(p.name for p in (SERVICES / "bridge/src/agentopia_bridge").glob("*.py"))
    assert sorted(mcp_context(time_entry)) == sorted(
        ["file_env.py", "bridge/image/__main__.py", "bridge/image/mcp_health.sh"]
        + [f"bridge/src/agentopia_bridge/{name}" for name in modules]
    )


@pytest.mark.parametrize("key", ["time", "postgres", "memory"])
def test_bridge_images_run_the_launcher_with_the_same_healthcheck(key):
    entry = next(e for e in PLAN if e["key"] == key)
    dockerfile = render_file(
        MCP_IMAGES, f"{entry['template']}.Dockerfile.j2", {**PLAN_VARIABLES, "mcp_images__image": entry}
    )
    entrypoint = next(line for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT "))
    assert entrypoint.startswith(
        'ENTRYPOINT ["/usr/bin/tini", "--", "python3", "/opt/agentopia/bridge", "--listen", "0.0.0.0:8000", "--", '
    )
    assert 'CMD ["bash", "/opt/agentopia/mcp_health.sh", "8000", "/mcp"]' in dockerfile
    # Byte-compiled in the build stage by the same python3 the runtime has, then copied: no PYTHONPATH anywhere.
    build, runtime = dockerfile.rsplit("\nFROM ", 1)
    assert "RUN python3 -m compileall -q /opt/agentopia/bridge" in build
    assert "COPY --from=build /opt/agentopia/bridge /opt/agentopia/bridge" in runtime
    assert "PYTHONPATH" not in dockerfile


def test_the_gateway_image_keeps_its_paths():
    entry = next(e for e in PLAN if e["key"] == "gateway")
    dockerfile = render_file(MCP_IMAGES, "gateway.Dockerfile.j2", {**PLAN_VARIABLES, "mcp_images__image": entry})
    assert "COPY gateway/src/agentopia_gateway /opt/agentopia/gateway/agentopia_gateway" in dockerfile
    assert "COPY gateway/image/http_health.py gateway/image/gateway_health.sh /opt/agentopia/" in dockerfile
    assert "gateway/requirements.txt" in mcp_context(entry)
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "/opt/venv/gateway/bin/python", "-m", "agentopia_gateway"]' in dockerfile


EXPORTERS_VARIABLES = role_variables(EXPORTERS, exporters_build_ca_file="", exporters_version="0.1.0")
EXPORTERS_PLAN = Templar(loader=DataLoader(), variables=EXPORTERS_VARIABLES).template(
    EXPORTERS_VARIABLES["exporters__plan"]
)


def exporters_context(entry, ca_file=""):
    """The build context image_contexts packs for an exporters plan entry, as paths."""
    tree = None
    if "tree" in entry:
        listed = service_files(entry["tree"], entry["tree"])["files"]
        tree = [os.path.relpath(item["path"], SERVICES / entry["tree"]) for item in listed]
    files = image_inputs.context_files(entry, str(EXPORTERS / "files"), str(SERVICES), ca_file, tree)
    return [item.name for item in files]


def test_the_exporters_plan_is_the_three_images_from_the_base():
    assert [e["key"] for e in EXPORTERS_PLAN] == EXPORTERS_VARIABLES["exporters__images"]
    assert {e["ref"] for e in EXPORTERS_PLAN} == {
        "agentopia/node-exporter:0.1.0", "agentopia/container-exporter:0.1.0", "agentopia/prometheus:0.1.0"
    }  # fmt: skip
    assert {e["from"] for e in EXPORTERS_PLAN} == {"agentopia/base:0.1.0"}
    # Audited, with their reports where they always were; no SBOM.
    assert [(e["audit"], e["ship"], e["report_name"]) for e in EXPORTERS_PLAN] == [
        (True, False, f"exporters-{e['key']}") for e in EXPORTERS_PLAN
    ]


def test_the_container_exporter_context_is_its_package_and_its_lock():
    entry = next(e for e in EXPORTERS_PLAN if e["key"] == "container-exporter")
    modules = sorted(p.name for p in (SERVICES / "container_exporter/src/container_exporter").glob("*.py"))
    context = exporters_context(entry)
    assert context == sorted(
        ["http_probe.sh", "container_exporter/requirements.txt"]
        + [f"container_exporter/src/container_exporter/{name}" for name in modules]
    )
    # With a CA bundle for the build stage, build-ca.pem too, which the Dockerfile then copies.
    assert "build-ca.pem" in exporters_context(entry, "/etc/ssl/certs/ca.pem")
    with_ca = {**EXPORTERS_VARIABLES, "exporters_build_ca_file": "/etc/ssl/certs/ca.pem"}
    assert "COPY build-ca.pem /opt/build/ca.pem" in render_file(EXPORTERS, "container-exporter.Dockerfile.j2", with_ca)


@pytest.mark.parametrize("key", ["node-exporter", "container-exporter", "prometheus"])
def test_every_copy_of_an_exporters_image_finds_its_source_in_the_context(key):
    entry = next(e for e in EXPORTERS_PLAN if e["key"] == key)
    context = exporters_context(entry)
    dockerfile = render_file(EXPORTERS, f"{key}.Dockerfile.j2", EXPORTERS_VARIABLES)
    assert context_sources(dockerfile)
    assert [s for s in context_sources(dockerfile) if not held(context, s)] == []
    for role_file in entry.get("files", []):
        assert (EXPORTERS / "files" / role_file).is_file()
    assert not [p for p in context if re.search(r"/tests/|__pycache__|\.egg-info|\.pyc$|pyproject|README", p)]
