# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an image of an image plan (the mcp_images and exporters roles') is made of, hashed on the controller, and
what an image stage must do.

An image's input hash covers its rendered Dockerfile, every file of its build context (name, mode and content) and
the identity of each image it starts FROM: another image of the plan contributes its own input hash (so a change
reaches every image built FROM it), a base image its recorded identity (the base_image role's input label, or its
ID). The build context travels as one deterministic tar: the same inputs give the same bytes.

Everything here is pure (plain data in, plain data out) except `read_context` and `write_archive`, the edges that
read the controller's files and write the tar.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from typing import Any, NamedTuple

INPUTS_LABEL = "org.agentopia.mcp.inputs"
BASE_INPUTS_LABEL = "org.agentopia.base.inputs"
SBOM_LABEL = "org.agentopia.sbom.digest"
# Bumped whenever the formula changes, so an image hashed by another formula never counts as current.
FORMULA = "agentopia.mcp.inputs/2"
# A service's files an image may hold: its package (src/), the files only its image needs (image/) and its lock;
# never its tests, the caches of local test runs or the build metadata of an editable install.
SERVICE_FILE = re.compile(r"^(src|image)/|^requirements[.]txt$")
NOT_SHIPPED = re.compile(r"(^|/)(__pycache__|[^/]*[.]egg-info)/|[.]pyc$")
DOCKERFILE = "Dockerfile"
CA_NAME = "build-ca.pem"


class InputError(ValueError):
    """A plan or a context that cannot be hashed; the message names the image and what to fix."""


class ContextFile(NamedTuple):
    """One file of a build context: its name in the context, where it is on the controller, its mode."""

    name: str
    source: str
    mode: int


def service_files(relpaths: list[str]) -> list[str]:
    """The paths (relative to services/<name>) of a service's files that go into its image's context, sorted."""
    return sorted(p for p in relpaths if SERVICE_FILE.search(p) and not NOT_SHIPPED.search(p))


def context_files(
    image: dict[str, Any], files_dir: str, services_dir: str, ca_file: str, tree: list[str] | None = None
) -> list[ContextFile]:
    """The files of an image's build context besides its Dockerfile, sorted by name: the role files it names
    (by basename, executable), the CA bundle for build stages that want one, and the service tree's files
    (image/ executable, the rest 0644). `tree` is the service's file list (relative paths), when it has one."""
    entries = [
        ContextFile(os.path.basename(name), os.path.join(files_dir, name), 0o755) for name in image.get("files") or []
    ]
    if image.get("ca") and ca_file:
        entries.append(ContextFile(CA_NAME, ca_file, 0o644))
    if image.get("tree"):
        root = os.path.join(services_dir, image["tree"])
        for rel in service_files(tree or []):
            mode = 0o755 if rel.startswith("image/") else 0o644
            entries.append(ContextFile(f"{image['tree']}/{rel}", os.path.join(root, rel), mode))
    names = [entry.name for entry in entries]
    clashes = sorted({name for name in names if names.count(name) > 1 or name == DOCKERFILE})
    if clashes:
        raise InputError(f"image {image.get('key')}: its build context would hold {', '.join(clashes)} twice")
    return sorted(entries)


def context_digest(dockerfile: str, files: list[tuple[str, int, str]]) -> str:
    """SHA-256 over the Dockerfile text and each (name, mode, SHA-256 of content), in name order (so the order
    files are listed in does not matter, but a rename, a removal or a mode change does)."""
    record = {"dockerfile": dockerfile, "files": sorted([name, mode, digest] for name, mode, digest in files)}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def plan_inputs(plan: list[dict[str, Any]], digests: dict[str, str], bases: dict[str, str]) -> dict[str, str]:
    """Image key -> input hash, in plan order. A parent (`from`, `build_from`) is an earlier image of the plan, whose
    input hash counts, or a base, whose identity in `bases` counts; any other parent is an error."""
    by_ref: dict[str, str] = {}
    inputs: dict[str, str] = {}
    for image in plan:
        key = image["key"]
        if key not in digests:
            raise InputError(f"image {key}: no build context digest")
        parents = []
        for field in ("from", "build_from"):
            ref = image.get(field)
            if not ref:
                continue
            if ref in by_ref:
                parents.append([field, ref, by_ref[ref]])
            elif ref in bases:  # '' for a base not built yet (check mode before a first run)
                parents.append([field, ref, bases[ref]])
            else:
                raise InputError(
                    f"image {key}: its {field} {ref} is neither an earlier image of the plan nor a known base; "
                    "build the base first (role agentopia.toolbox.base_image) or fix the plan's order"
                )
        record = {"formula": FORMULA, "context": digests[key], "parents": parents}
        inputs[key] = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
        by_ref[image["ref"]] = inputs[key]
    return inputs


def base_identity(found: dict[str, Any] | None, recorded: str | None = None) -> str:
    """What a base image contributes to the hashes of the images FROM it: the input hash the base_image role
    recorded in this run, else its input label, else its ID; '' when it is nowhere (check mode before a first
    build)."""
    if recorded:
        return f"inputs:{recorded}"
    if not found:
        return ""
    label = (found.get("labels") or {}).get(BASE_INPUTS_LABEL)
    return f"inputs:{label}" if label else f"id:{found.get('id', '')}"


def audit_holds(
    report: dict[str, Any] | None, ids: list[str], max_size_mb: int, rules_version: int, ignore: list[str],
    informational: frozenset[str] | set[str],
) -> bool:  # fmt: skip
    """Whether an earlier audit report still answers for this image: written for one of its IDs (the image, or
    the image before its SBOM label), under the same ceiling and rules, and passing with today's ignore list."""
    if not report or report.get("image_id") not in ids:
        return False
    if report.get("policy") != {"max_size_mb": max_size_mb, "rules_version": rules_version}:
        return False
    return not [rule for rule in report.get("rules") or [] if rule not in informational and rule not in ignore]


def sbom_holds(labels: dict[str, str], sbom_sha256: str | None) -> bool:
    """Whether the SBOM file on the host is the one the image's digest label names."""
    return bool(sbom_sha256) and labels.get(SBOM_LABEL) == f"sha256:{sbom_sha256}"


def report_paths(plan: list[dict[str, Any]], report_dir: str, sbom_dir: str) -> dict[str, dict[str, str]]:
    """Image key -> where its audit report (JSON) and its SBOM are on the build host, named after the entry's
    `report_name` when it has one, else after its reference."""
    paths = {}
    for image in plan:
        name = image.get("report_name") or image["ref"].replace("/", "_").replace(":", "-")
        paths[image["key"]] = {
            "report_json": f"{report_dir}/{name}.json",
            "report_junit": f"{report_dir}/{name}.xml",
            "sbom_file": f"{sbom_dir}/{name}.cdx.json",
        }
    return paths


def stage_work(
    plan: list[dict[str, Any]], inputs: dict[str, str], state: dict[str, Any], paths: dict[str, dict[str, str]],
    audit_policy: dict[str, Any], label: str = INPUTS_LABEL,
) -> list[dict[str, Any]]:  # fmt: skip
    """The plan entries that need any work, each with `build`, `audit` and `sbom` flags and its `inputs`; an
    unchanged image whose audit report and SBOM still hold is left out. An image is current when its `label`
    (the role's input label) holds its input hash.

    state: {"images": {ref: {"id", "ids", "labels"}}, "reports": {path: {...}}, "files": {path: sha256}} as the
    image_state module reads it; paths: report_paths(...); audit_policy: max_size_mb (key ->
    MiB), default_max_size_mb, rules_version, ignore, informational."""
    work = []
    images, reports, files = state.get("images") or {}, state.get("reports") or {}, state.get("files") or {}
    for image in plan:
        key = image["key"]
        found = images.get(image["ref"])
        labels = (found or {}).get("labels") or {}
        build = found is None or labels.get(label) != inputs[key]
        ceiling = int(audit_policy["max_size_mb"].get(key, audit_policy["default_max_size_mb"]))
        audit = bool(image.get("audit")) and (
            build
            or not audit_holds(
                reports.get(paths[key]["report_json"]), (found or {}).get("ids") or [], ceiling,
                audit_policy["rules_version"], audit_policy["ignore"], audit_policy["informational"],
            )
        )  # fmt: skip
        sbom = bool(image.get("ship")) and (build or not sbom_holds(labels, files.get(paths[key]["sbom_file"])))
        if build or audit or sbom:
            work.append({**image, "inputs": inputs[key], "build": build, "audit": audit, "sbom": sbom, **paths[key]})
    return work


def read_context(
    image: dict[str, Any], dockerfile: str, files_dir: str, services_dir: str, ca_file: str
) -> tuple[list[ContextFile], str]:
    """The context's files and their digest, reading the controller's files once (each file hashed, not kept)."""
    tree = None
    if image.get("tree"):
        root = os.path.join(services_dir, image["tree"])
        if not os.path.isdir(root):
            raise InputError(f"image {image['key']}: the service {root} is not on the controller")
        tree = [
            os.path.relpath(os.path.join(folder, name), root)
            for folder, _dirs, names in os.walk(root)
            for name in names
        ]
    entries = context_files(image, files_dir, services_dir, ca_file, tree)
    hashed = []
    for entry in entries:
        try:
            with open(entry.source, "rb") as handle:
                hashed.append((entry.name, entry.mode, hashlib.sha256(handle.read()).hexdigest()))
        except OSError as error:
            raise InputError(
                f"image {image['key']}: cannot read {entry.source} for its build context: {error}"
            ) from None
    return entries, context_digest(dockerfile, hashed)


def write_archive(dockerfile: str, entries: list[ContextFile], fileobj: Any, mtime: int = 0) -> None:
    """The build context as one tar: sorted names, parent folders first, owner root, fixed times; the same
    inputs give the same bytes."""

    def member(name: str, mode: int, kind: bytes, size: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.mode, info.type, info.size, info.mtime = mode, kind, size, mtime
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    files = [(DOCKERFILE, 0o644, dockerfile.encode())]
    for entry in entries:
        with open(entry.source, "rb") as handle:
            files.append((entry.name, entry.mode, handle.read()))
    parents = {os.path.dirname(name) for name, _mode, _data in files} - {""}
    folders = sorted({"/".join(f.split("/")[: i + 1]) for f in parents for i in range(f.count("/") + 1)})
    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for folder in folders:
            archive.addfile(member(folder, 0o755, tarfile.DIRTYPE))
        for name, mode, data in sorted(files):
            archive.addfile(member(name, mode, tarfile.REGTYPE, len(data)), io.BytesIO(data))
