# SPDX-License-Identifier: GPL-3.0-or-later
"""image_audit against real images, each built here to break exactly one rule.

Images are built FROM scratch on the controller's engine (no registry needed), so these tests are
marked `integration`: `make integration` starts the engine first, `make unit` leaves them out.
"""

import io
import json
import os
import tarfile
import xml.etree.ElementTree as ET

import docker
import pytest
from ansible_collections.agentopia.toolbox.plugins.modules import image_audit

pytestmark = pytest.mark.integration

CLEAN = ["USER 10001", 'HEALTHCHECK CMD ["/healthcheck"]']
SECRET = "Zq8vR2xLp4Wn7Ty1Ks9Dm3Hb6"  # 25 characters of high entropy
APT_LIST = "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"


def context(instructions, files):
    """A build context: a root filesystem tarball and a Dockerfile adding it."""
    rootfs = io.BytesIO()
    with tarfile.open(fileobj=rootfs, mode="w") as archive:
        for path, (mode, data) in {"etc/hostname": (0o644, b"audit\n"), **files}.items():
            info = tarfile.TarInfo(path)
            info.mode, info.size = mode, len(data)
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


IMAGES = {
    "clean": (CLEAN, {}),
    "root_user": (['HEALTHCHECK CMD ["/healthcheck"]'], {}),
    "no_healthcheck": (["USER 10001"], {}),
    "setuid_files": (CLEAN, {"usr/bin/su": (0o4755, b"x")}),
    "secret_in_env": ([*CLEAN, "ENV API_TOKEN=" + SECRET], {}),
    "secret_in_label": ([*CLEAN, "LABEL org.example.password=" + SECRET], {}),
    # RUN cannot run in scratch; the ARG step alone records the value in the history.
    "secret_in_history": ([*CLEAN, "ARG DB_PASSWORD=" + SECRET, "LABEL audit=history"], {}),
    "package_cache": (CLEAN, {APT_LIST: (0o644, b"P")}),
    "too_large": (CLEAN, {"blob": (0o644, os.urandom(2 * 1024 * 1024))}),
    "exposed_ports": ([*CLEAN, "EXPOSE 8811"], {}),
}  # fmt: skip


@pytest.fixture(scope="module")
def images():
    client = docker.from_env()
    built = {}
    try:
        for name, (instructions, files) in IMAGES.items():
            image, _log = client.images.build(
                fileobj=context(instructions, files),
                custom_context=True,
                tag=f"agentopia-test/audit-{name.replace('_', '-')}:1",
                rm=True,
            )
            built[name] = image.tags[0]
        yield built
    finally:
        for tag in built.values():
            client.images.remove(tag, force=True)


def audit(run_module, image, **args):
    try:
        return run_module(image_audit.main, {"image": image, "max_size_mb": 1, **args}), False
    except run_module.Fail as failed:
        return failed.result, True


def test_the_clean_image_passes(run_module, images):
    result, failed = audit(run_module, images["clean"])
    assert not failed, result.get("msg")
    assert result["failed_rules"] == []
    assert result["findings"] == []


@pytest.mark.parametrize("rule", [r for r in IMAGES if r not in ("clean", "exposed_ports")])
def test_each_image_breaks_exactly_its_rule(run_module, images, rule):
    result, failed = audit(run_module, images[rule])
    assert failed
    assert result["failed_rules"] == [rule]
    finding = next(f for f in result["findings"] if f["rule"] == rule)
    assert finding["cis"] and finding["fix"]
    assert f"{rule} (CIS {finding['cis']})" in result["msg"]
    assert SECRET not in json.dumps(result)


def test_exposed_ports_are_reported_not_failed(run_module, images):
    result, failed = audit(run_module, images["exposed_ports"])
    assert not failed
    assert [f["rule"] for f in result["findings"]] == ["exposed_ports"]
    assert result["findings"][0]["details"] == ["8811/tcp"]


def test_ignored_rules_do_not_fail(run_module, images):
    result, failed = audit(run_module, images["root_user"], ignore=["root_user"])
    assert not failed
    assert [f["rule"] for f in result["findings"]] == ["root_user"]


def test_reports_are_written_as_json_and_junit(run_module, images, tmp_path):
    _result, failed = audit(
        run_module,
        images["setuid_files"],
        report_json=str(tmp_path / "a/audit.json"),
        report_junit=str(tmp_path / "a/audit.xml"),
    )
    assert failed
    report = json.loads((tmp_path / "a/audit.json").read_text())
    assert report["failed_rules"] == ["setuid_files"]
    assert report["findings"][0]["details"] == ["/usr/bin/su (setuid)"]
    suite = ET.fromstring((tmp_path / "a/audit.xml").read_text())
    assert suite.get("failures") == "1"
    assert int(suite.get("tests")) == len(suite.findall("testcase"))
    failures = [case.get("name") for case in suite.findall("testcase") if case.find("failure") is not None]
    assert failures == ["setuid_files (CIS 4.8)"]


def test_a_report_of_the_same_image_and_policy_is_reused(run_module, images, tmp_path, monkeypatch):
    report = str(tmp_path / "audit.json")
    first, failed = audit(run_module, images["setuid_files"], report_json=report)
    assert failed and first["cached"] is False

    def no_export(*_args):
        raise AssertionError("the filesystem of an image audited before was read again")

    with monkeypatch.context() as patched:
        patched.setattr(image_audit, "filesystem", no_export)
        again, failed = audit(run_module, images["setuid_files"], report_json=report)
    assert failed and again["cached"] is True
    assert (again["findings"], again["failed_rules"], again["msg"]) == (
        first["findings"],
        first["failed_rules"],
        first["msg"],
    )
    # Another ceiling, another image or another version of the rules: audited again.
    other, _failed = audit(run_module, images["setuid_files"], report_json=report, max_size_mb=0)
    assert other["cached"] is False
    monkeypatch.setattr(image_audit, "RULES_VERSION", image_audit.RULES_VERSION + 1)
    newer, _failed = audit(run_module, images["setuid_files"], report_json=report, max_size_mb=0)
    assert newer["cached"] is False
    clean, failed = audit(run_module, images["clean"], report_json=report)
    assert not failed and clean["cached"] is False and clean["findings"] == []


def test_check_mode_writes_no_report(run_module, images, tmp_path):
    args = {"image": images["clean"], "report_json": str(tmp_path / "audit.json")}
    result = run_module(image_audit.main, args, check_mode=True)
    assert not (tmp_path / "audit.json").exists()
    assert result["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"image": "agentopia-test/does-not-exist:0"}, "is not on this host's engine"),
        ({"ignore": ["no_such_rule"]}, "ignore: unknown rules no_such_rule; known rules: root_user"),
    ],
)
def test_bad_input_names_the_field(run_module, images, args, message):
    result, failed = audit(run_module, **{"image": images["clean"], **args})
    assert failed
    assert message in result["msg"]
