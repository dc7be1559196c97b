# SPDX-License-Identifier: GPL-3.0-or-later
"""The mcp_images stage's input hashes and decisions: what changes a hash, what it reaches, what work follows."""

import io
import tarfile

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _image_inputs as inputs

BASE = "agentopia/base:1"
PLAN = [
    {"key": "runtime", "ref": "ns/runtime:1", "from": BASE, "audit": True, "ship": False},
    {"key": "build", "ref": "ns/build:1", "from": "ns/runtime:1", "audit": False, "ship": False},
    {"key": "time", "ref": "ns/time:1", "from": "ns/runtime:1", "build_from": "ns/build:1", "audit": True,
     "ship": True},
    {"key": "gateway", "ref": "ns/gateway:1", "from": "ns/runtime:1", "audit": True, "ship": True},
    {"key": "postgresql", "ref": "ns/postgres:1", "from": BASE, "audit": True, "ship": True},
]  # fmt: skip
DIGESTS = {key: inputs.context_digest(f"FROM x\n# {key}\n", [("a.py", 0o644, "0" * 64)]) for key in
           ["runtime", "build", "time", "gateway", "postgresql"]}  # fmt: skip
BASES = {BASE: "inputs:base-1"}


def hashes(digests=None, bases=None):
    return inputs.plan_inputs(PLAN, digests or DIGESTS, bases or BASES)


def changed_keys(before, after):
    return sorted(key for key in before if before[key] != after[key])


def test_one_context_changes_only_that_image_and_the_images_built_from_it():
    before = hashes()
    assert changed_keys(before, hashes({**DIGESTS, "build": "other"})) == ["build", "time"]
    assert changed_keys(before, hashes({**DIGESTS, "gateway": "other"})) == ["gateway"]
    assert changed_keys(before, hashes({**DIGESTS, "runtime": "other"})) == ["build", "gateway", "runtime", "time"]


def test_a_new_base_changes_every_image_above_it():
    assert changed_keys(hashes(), hashes(bases={BASE: "inputs:base-2"})) == sorted(DIGESTS)


def test_the_formula_is_stable_for_the_same_inputs():
    assert hashes() == hashes()
    assert len(set(hashes().values())) == len(PLAN)


@pytest.mark.parametrize(
    "files",
    [
        [("a.py", 0o644, "1" * 64)],  # content
        [("b.py", 0o644, "0" * 64)],  # renamed
        [("a.py", 0o755, "0" * 64)],  # mode
        [],  # removed
        [("a.py", 0o644, "0" * 64), ("c.py", 0o644, "0" * 64)],  # added
    ],
)
def test_a_context_digest_sees_content_names_modes_and_removals(files):
    assert inputs.context_digest("FROM x\n", files) != inputs.context_digest("FROM x\n", [("a.py", 0o644, "0" * 64)])


def test_a_context_digest_ignores_the_order_files_are_listed_in_but_not_the_dockerfile():
    files = [("a.py", 0o644, "0" * 64), ("b/c.py", 0o755, "1" * 64)]
    assert inputs.context_digest("FROM x\n", files) == inputs.context_digest("FROM x\n", list(reversed(files)))
    assert inputs.context_digest("FROM x\n", files) != inputs.context_digest("FROM y\n", files)


def test_a_parent_neither_in_the_plan_before_nor_a_base_is_an_error():
    with pytest.raises(inputs.InputError, match=r"time: its build_from ns/build:1 is neither"):
        inputs.plan_inputs([PLAN[0], PLAN[2]], DIGESTS, BASES)
    with pytest.raises(inputs.InputError, match=r"runtime: its from agentopia/base:1"):
        inputs.plan_inputs(PLAN, DIGESTS, {})


def test_a_base_is_known_by_what_base_image_recorded_else_its_label_else_its_id():
    found = {"id": "sha256:1", "labels": {inputs.BASE_INPUTS_LABEL: "abc"}}
    assert inputs.base_identity(found, "new") == "inputs:new"
    assert inputs.base_identity(found) == "inputs:abc"
    assert inputs.base_identity({"id": "sha256:1", "labels": {}}) == "id:sha256:1"
    assert inputs.base_identity(None) == ""


def test_service_files_are_the_package_the_image_files_and_the_lock_only():
    listed = ["tests/test_x.py", "src/pkg/__init__.py", "src/pkg/__pycache__/x.pyc", "src/pkg.egg-info/PKG-INFO",
              "image/health.sh", "requirements.txt", "pyproject.toml", "README.md", "src/pkg/a.pyc"]  # fmt: skip
    assert inputs.service_files(listed) == ["image/health.sh", "requirements.txt", "src/pkg/__init__.py"]


def test_context_files_name_modes_and_the_ca_bundle():
    image = {"key": "k", "files": ["fetch.py", "patches/p.patch"], "ca": True, "tree": "svc"}
    entries = inputs.context_files(
        image, "/role/files", "/services", "/ca.pem", ["image/h.sh", "src/m.py", "tests/t.py"]
    )
    assert entries == [
        inputs.ContextFile("build-ca.pem", "/ca.pem", 0o644),
        inputs.ContextFile("fetch.py", "/role/files/fetch.py", 0o755),
        inputs.ContextFile("p.patch", "/role/files/patches/p.patch", 0o755),
        inputs.ContextFile("svc/image/h.sh", "/services/svc/image/h.sh", 0o755),
        inputs.ContextFile("svc/src/m.py", "/services/svc/src/m.py", 0o644),
    ]
    assert [e.name for e in inputs.context_files(image, "/f", "/s", "", [])] == ["fetch.py", "p.patch"]
    with pytest.raises(inputs.InputError, match=r"p\.patch twice"):
        inputs.context_files({"key": "k", "files": ["p.patch", "patches/p.patch"]}, "/f", "/s", "")


def test_read_context_hashes_the_files_on_disk(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files/x.sh").write_text("one")
    image = {"key": "k", "files": ["x.sh"]}
    _entries, first = inputs.read_context(image, "FROM x\n", str(tmp_path / "files"), str(tmp_path), "")
    (tmp_path / "files/x.sh").write_text("two")
    assert inputs.read_context(image, "FROM x\n", str(tmp_path / "files"), str(tmp_path), "")[1] != first
    (tmp_path / "files/x.sh").unlink()
    with pytest.raises(inputs.InputError, match=r"cannot read .*x\.sh"):
        inputs.read_context(image, "FROM x\n", str(tmp_path / "files"), str(tmp_path), "")


def test_the_archive_is_the_same_bytes_for_the_same_inputs_and_holds_the_context(tmp_path):
    (tmp_path / "a.sh").write_text("echo a\n")
    (tmp_path / "m.py").write_text("x = 1\n")
    entries = [inputs.ContextFile("svc/src/m.py", str(tmp_path / "m.py"), 0o644),
               inputs.ContextFile("a.sh", str(tmp_path / "a.sh"), 0o755)]  # fmt: skip
    first, second = io.BytesIO(), io.BytesIO()
    inputs.write_archive("FROM x\n", entries, first, 1767225600)
    (tmp_path / "a.sh").touch()  # a new mtime on the controller changes nothing
    inputs.write_archive("FROM x\n", list(reversed(entries)), second, 1767225600)
    assert first.getvalue() == second.getvalue()
    with tarfile.open(fileobj=io.BytesIO(first.getvalue())) as archive:
        members = {m.name: m for m in archive.getmembers()}
        assert list(members) == ["svc", "svc/src", "Dockerfile", "a.sh", "svc/src/m.py"]
        assert members["a.sh"].mode == 0o755 and members["svc/src/m.py"].mode == 0o644
        assert {m.uid for m in members.values()} == {0} and {m.mtime for m in members.values()} == {1767225600}
        assert archive.extractfile("Dockerfile").read() == b"FROM x\n"


# The decisions: state as image_state reads it.
INPUTS = hashes()
PATHS = inputs.report_paths(PLAN, "/audit", "/sbom")
POLICY = {"max_size_mb": {"gateway": 220}, "default_max_size_mb": 512, "ignore": [], "rules_version": 1,
          "informational": {"exposed_ports"}}  # fmt: skip


def converged():
    """A host where every image was built from these inputs, audited, and given its SBOM."""
    images, reports, files = {}, {}, {}
    for image in PLAN:
        built, labelled = f"sha256:{image['key']}-built", f"sha256:{image['key']}-labelled"
        labels = {inputs.INPUTS_LABEL: INPUTS[image["key"]]}
        if image["ship"]:
            labels[inputs.SBOM_LABEL] = f"sha256:{image['key']}-sbom"
            files[PATHS[image["key"]]["sbom_file"]] = f"{image['key']}-sbom"
        ids = [labelled, built] if image["ship"] else [built]
        images[image["ref"]] = {"id": ids[0], "ids": ids, "labels": labels}
        if image["audit"]:
            ceiling = 220 if image["key"] == "gateway" else 512
            reports[PATHS[image["key"]]["report_json"]] = {
                "image_id": built, "policy": {"max_size_mb": ceiling, "rules_version": 1}, "rules": ["exposed_ports"]
            }  # fmt: skip
    return {"images": images, "reports": reports, "files": files}


def work(state, policy=None, hashes_=None):
    policy, hashes_ = policy or POLICY, hashes_ or INPUTS
    return {
        w["key"]: (w["build"], w["audit"], w["sbom"]) for w in inputs.stage_work(PLAN, hashes_, state, PATHS, policy)
    }


def test_a_converged_host_needs_no_work():
    assert work(converged()) == {}


def test_a_missing_host_builds_audits_and_describes_everything():
    assert work({}) == {
        "runtime": (True, True, False),
        "build": (True, False, False),
        "time": (True, True, True),
        "gateway": (True, True, True),
        "postgresql": (True, True, True),
    }


def test_a_changed_input_rebuilds_only_the_images_it_reaches():
    changed = inputs.plan_inputs(PLAN, {**DIGESTS, "build": "other"}, BASES)
    assert work(converged(), hashes_=changed) == {"build": (True, False, False), "time": (True, True, True)}


def test_an_image_hashed_by_another_formula_is_rebuilt():
    state = converged()
    state["images"]["ns/gateway:1"]["labels"][inputs.INPUTS_LABEL] = "hash-of-the-old-formula"
    assert work(state) == {"gateway": (True, True, True)}


def test_a_lost_or_stale_report_reaudits_an_unchanged_image_without_building_it():
    state = converged()
    del state["reports"]["/audit/ns_runtime-1.json"]
    state["reports"]["/audit/ns_postgres-1.json"]["image_id"] = "sha256:someone-else"
    assert work(state) == {"runtime": (False, True, False), "postgresql": (False, True, False)}


def test_a_new_ceiling_or_ignore_list_reaudits():
    assert work(converged(), {**POLICY, "max_size_mb": {"gateway": 200}}) == {"gateway": (False, True, False)}
    state = converged()
    state["reports"]["/audit/ns_time-1.json"]["rules"].append("root_user")
    assert work(state) == {"time": (False, True, False)}
    assert work(state, {**POLICY, "ignore": ["root_user"]}) == {}


def test_a_lost_or_changed_sbom_is_written_again():
    state = converged()
    del state["files"]["/sbom/ns_time-1.cdx.json"]
    state["files"]["/sbom/ns_gateway-1.cdx.json"] = "edited"
    assert work(state) == {"time": (False, False, True), "gateway": (False, False, True)}


def test_work_entries_carry_the_hash_and_the_paths():
    entry = inputs.stage_work(PLAN, INPUTS, {}, PATHS, POLICY)[2]
    assert entry["inputs"] == INPUTS["time"]
    assert entry["report_json"] == "/audit/ns_time-1.json"
    assert entry["report_junit"] == "/audit/ns_time-1.xml"
    assert entry["sbom_file"] == "/sbom/ns_time-1.cdx.json"


def test_a_role_with_its_own_input_label_reads_only_that_label():
    # The exporters role labels its images org.agentopia.exporters.inputs: the mcp label does not make them current.
    label = "org.agentopia.exporters.inputs"
    state = converged()
    assert set(work_with_label(state, label)) == {image["key"] for image in PLAN}
    for image in PLAN:
        labels = state["images"][image["ref"]]["labels"]
        labels[label] = labels.pop(inputs.INPUTS_LABEL)
    assert work_with_label(state, label) == {}
    assert set(work(state)) == {image["key"] for image in PLAN}


def work_with_label(state, label):
    return {
        w["key"]: (w["build"], w["audit"], w["sbom"])
        for w in inputs.stage_work(PLAN, INPUTS, state, PATHS, POLICY, label)
    }


def test_an_entry_may_name_its_reports():
    plan = [{"key": "prometheus", "ref": "agentopia/prometheus:1", "report_name": "exporters-prometheus"}, PLAN[0]]
    paths = inputs.report_paths(plan, "/audit", "/sbom")
    assert paths["prometheus"] == {
        "report_json": "/audit/exporters-prometheus.json",
        "report_junit": "/audit/exporters-prometheus.xml",
        "sbom_file": "/sbom/exporters-prometheus.cdx.json",
    }
    assert paths["runtime"]["report_json"] == "/audit/ns_runtime-1.json"
