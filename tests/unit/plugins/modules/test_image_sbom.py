# SPDX-License-Identifier: GPL-3.0-or-later
"""image_sbom against small images built FROM scratch on the controller's engine: a fake dpkg
status, a Python dist-info and npm packages, as a user of the SBOM would check them. Marked
`integration` (it needs the engine): `make integration` runs it, `make unit` does not."""

import contextlib
import hashlib
import io
import json
import stat
import tarfile

import docker
import pytest
from ansible_collections.agentopia.toolbox.plugins.modules import image_sbom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonValidator
from docker.errors import NotFound

pytestmark = pytest.mark.integration

LABEL = "org.agentopia.sbom.digest"
REPOSITORY = "agentopia-test/sbom"
STATUS = b"""\
Package: tini
Status: install ok installed
Architecture: amd64
Version: 0.19.0-1

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.17-1~deb12u2

Package: vim-tiny
Status: deinstall ok config-files
Architecture: amd64
Version: 2:9.0.1378-2
"""
SDK = b'{"name": "@modelcontextprotocol/sdk", "version": "1.20.0"}'
FILES = {
    "usr/lib/os-release": b'ID=debian\nVERSION_ID="12"\n',
    "var/lib/dpkg/status": STATUS,
    "usr/local/lib/python3.11/site-packages/PyYAML-6.0.1.dist-info/METADATA": b"Name: PyYAML\nVersion: 6.0.1\n",
    "app/node_modules/@modelcontextprotocol/sdk/package.json": SDK,
    "app/node_modules/left-pad/package.json": b'{"name": "left-pad", "version": "1.3.0"}',
    "app/node_modules/x/node_modules/left-pad/package.json": b'{"name": "left-pad", "version": "1.3.0"}',
}
CREATED = "2026-01-01T00:00:00Z"


def context(files, instructions=()):
    """A build context: a root filesystem tarball ADDed FROM scratch, then instructions."""
    rootfs = io.BytesIO()
    with tarfile.open(fileobj=rootfs, mode="w") as archive:
        # etc/os-release as Debian has it: a link to usr/lib/os-release.
        link = tarfile.TarInfo("etc/os-release")
        link.type, link.linkname = tarfile.SYMTYPE, "../usr/lib/os-release"
        archive.addfile(link)
        for path, data in {"etc/hostname": b"sbom\n", **files}.items():
            info = tarfile.TarInfo(path)
            info.mode, info.size = 0o644, len(data)
            archive.addfile(info, io.BytesIO(data))
    dockerfile = "\n".join(["FROM scratch", "ADD rootfs.tar /", *instructions]).encode()
    ctx = io.BytesIO()
    with tarfile.open(fileobj=ctx, mode="w") as archive:
        for name, data in (("Dockerfile", dockerfile), ("rootfs.tar", rootfs.getvalue())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    ctx.seek(0)
    return ctx


@pytest.fixture(scope="module")
def client():
    return docker.from_env()


@pytest.fixture
def built(client):
    """Builds images (two tags each); removes them and every labelled image the tests made."""
    made = []

    def build(name, files=None, instructions=(f"LABEL org.opencontainers.image.created={CREATED}",)):
        files = FILES if files is None else files
        image, _log = client.images.build(fileobj=context(files, instructions), custom_context=True, rm=True)
        for tag in ("1", "extra"):
            image.tag(f"{REPOSITORY}-{name}", tag)
        made.append(image.id)
        return f"{REPOSITORY}-{name}:1"

    yield build
    for name in {t for i in client.images.list(name=f"{REPOSITORY}*") for t in i.tags}:
        made.append(client.images.get(name).id)
    for image_id in reversed(made):  # labelled images first: their parents go with them or after them
        with contextlib.suppress(NotFound):
            client.images.remove(image_id, force=True)


def sbom(run_module, image, dest, check_mode=False, **args):
    return run_module(image_sbom.main, {"image": image, "dest": str(dest), **args}, check_mode=check_mode)


def test_the_sbom_lists_the_packages_and_the_image_carries_its_digest(run_module, built, client, tmp_path):
    tag = built("packages")
    before = client.images.get(tag)
    dest = tmp_path / "sbom/new/image.cdx.json"
    result = sbom(run_module, tag, dest)

    assert result["changed"] is True
    data = dest.read_bytes()
    assert result["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
    doc = json.loads(data)
    assert JsonValidator(SchemaVersion.V1_5).validate_str(data.decode()) is None
    purls = [c["purl"] for c in doc["components"] if "purl" in c]
    assert purls == [
        "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
        "pkg:deb/debian/tini@0.19.0-1?arch=amd64&distro=debian-12",
        "pkg:npm/%40modelcontextprotocol/sdk@1.20.0",
        "pkg:npm/left-pad@1.3.0",
        "pkg:pypi/pyyaml@6.0.1",
    ]
    assert (result["format"], result["spec_version"], result["components"]) == ("CycloneDX", "1.5", 5)
    assert result["counts"] == {"deb": 2, "npm": 2, "pypi": 1}
    assert doc["metadata"]["timestamp"] == CREATED
    assert doc["metadata"]["component"]["name"] == f"{REPOSITORY}-packages"
    assert doc["metadata"]["component"]["version"] == "1"
    assert doc["metadata"]["component"]["hashes"][0]["content"] == before.id.split(":")[1]

    after = client.images.get(tag)
    assert after.id == result["image_id"] != before.id
    assert after.labels[LABEL] == result["digest"]
    assert after.labels["org.opencontainers.image.created"] == CREATED
    assert sorted(after.tags) == sorted(before.tags)  # every tag moved
    assert after.attrs["RootFS"]["Layers"] == before.attrs["RootFS"]["Layers"]  # no new layer
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert stat.S_IMODE(dest.parent.stat().st_mode) == stat.S_IMODE(dest.parent.parent.stat().st_mode) == 0o755


def test_a_second_run_changes_nothing(run_module, built, client, tmp_path, monkeypatch):
    tag = built("rerun")
    dest = tmp_path / "image.cdx.json"
    first = sbom(run_module, tag, dest)
    written = dest.stat().st_mtime_ns

    def no_export(*_args):
        raise AssertionError("a current SBOM was built again from the image's filesystem")

    monkeypatch.setattr(image_sbom, "image_files", no_export)
    second = sbom(run_module, tag, dest)
    assert second["changed"] is False
    assert (second["digest"], second["image_id"]) == (first["digest"], first["image_id"])
    assert (second["components"], second["counts"]) == (first["components"], first["counts"])
    assert dest.stat().st_mtime_ns == written
    assert client.images.get(tag).id == first["image_id"]


def test_an_edited_file_is_rewritten_without_relabelling(run_module, built, tmp_path):
    tag = built("edited")
    dest = tmp_path / "image.cdx.json"
    first = sbom(run_module, tag, dest)
    original = dest.read_bytes()
    dest.write_text("{}")
    again = sbom(run_module, tag, dest)
    assert again["changed"] is True
    assert dest.read_bytes() == original
    assert again["image_id"] == first["image_id"]


def test_check_mode_writes_and_labels_nothing(run_module, built, client, tmp_path):
    tag = built("check")
    before = client.images.get(tag).id
    dest = tmp_path / "sbom/image.cdx.json"
    result = sbom(run_module, tag, dest, check_mode=True)
    assert result["changed"] is True
    assert result["components"] == 5
    assert not dest.parent.exists()
    assert client.images.get(tag).id == result["image_id"] == before
    assert LABEL not in client.images.get(tag).labels
    # and the real run then writes the very SBOM check mode reported
    assert sbom(run_module, tag, dest)["digest"] == result["digest"]


def test_label_false_leaves_the_image_alone(run_module, built, client, tmp_path):
    tag = built("nolabel")
    before = client.images.get(tag).id
    result = sbom(run_module, tag, tmp_path / "image.cdx.json", label=False)
    assert result["changed"] is True
    assert client.images.get(tag).id == result["image_id"] == before
    assert sbom(run_module, tag, tmp_path / "image.cdx.json", label=False)["changed"] is False


def test_an_image_without_packages(run_module, built, tmp_path):
    tag = built("empty", files={}, instructions=())
    result = sbom(run_module, tag, tmp_path / "image.cdx.json")
    assert (result["components"], result["counts"]) == (0, {"deb": 0, "npm": 0, "pypi": 0})
    doc = json.loads((tmp_path / "image.cdx.json").read_text())
    assert [c["type"] for c in doc["components"]] == []
    assert sbom(run_module, tag, tmp_path / "image.cdx.json")["changed"] is False


@pytest.mark.parametrize(
    ("image", "dest", "message"),
    [
        ("agentopia-test/does-not-exist:0", "sbom.json", "is not on this host's engine"),
        (None, "file/sbom.json", "is not a directory"),
        (None, ".", "is a directory"),
    ],
)
def test_bad_input_is_named(run_module, built, tmp_path, image, dest, message):
    (tmp_path / "file").write_text("")
    image = image or built("errors")
    with pytest.raises(run_module.Fail) as failed:
        sbom(run_module, image, tmp_path / dest)
    assert message in failed.value.result["msg"]
