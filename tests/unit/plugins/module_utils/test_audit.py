# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit rules on plain data: what counts as a secret, a cache, a root user."""

import stat

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _audit as audit


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("DB_PASSWORD", "x", True),
        ("GITHUB_TOKEN", "abc", True),
        ("api-key", "k", True),
        ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", False),
        ("LANG", "C.UTF-8", False),
        ("SOME_VALUE", "Zq8vR2xLp4Wn7Ty1Ks9Dm3Hb6", True),  # high entropy, innocent name
        ("VERSION", "1.4.0", False),
        ("DESCRIPTION", "a sentence with several words in it", False),
        ("PASSWORD", "", False),  # declared empty: nothing to leak
        # A content digest is a public hash, not a secret...
        ("org.agentopia.sbom.digest", "sha256:" + "0123456789abcdef" * 4, False),
        # ...but only the exact digest form is let through.
        ("SOME_VALUE", "sha256:" + "Zq8vR2xLp4Wn7Ty1Ks9Dm3Hb6", True),
    ],
)
def test_looks_secret(name, value, secret):
    assert audit.looks_secret(name, value) is secret


@pytest.mark.parametrize(("user", "root"), [("", True), ("root", True), ("0", True), ("0:0", True), ("10001", False),
                                            ("app:app", False)])  # fmt: skip
def test_root_user(user, root):
    rules = [f.rule for f in audit.audit_config({"User": user, "Healthcheck": {"Test": ["CMD", "x"]}})]
    assert ("root_user" in rules) is root


def test_healthcheck_none_counts_as_missing():
    findings = audit.audit_config({"User": "10001", "Healthcheck": {"Test": ["NONE"]}})
    assert [f.rule for f in findings] == ["no_healthcheck"]


def test_secret_values_are_never_reported():
    findings = audit.audit_config({"User": "1", "Healthcheck": {"Test": ["CMD", "x"]}, "Env": ["TOKEN=hunter2"]})
    assert findings[0].details == ["TOKEN=<7 characters>"]
    assert "hunter2" not in repr(findings)


def test_history_skips_env_and_label_steps_their_rules_report():
    history = [
        {"CreatedBy": "/bin/sh -c #(nop)  ENV API_TOKEN=abc"},
        {"CreatedBy": "/bin/sh -c #(nop)  LABEL db.password=abc"},
        {"CreatedBy": "|1 DB_PASSWORD=abc /bin/sh -c make"},
    ]
    findings = audit.audit_history(history)
    assert findings[0].details == ["history step 2: DB_PASSWORD=<3 characters>"]


def test_files():
    members = [
        ("./usr/bin/passwd", stat.S_IFREG | 0o4755, 10),
        ("./usr/bin/wall", stat.S_IFREG | 0o2755, 10),
        ("./usr/bin/ls", stat.S_IFREG | 0o755, 10),
        ("./tmp", stat.S_IFDIR | 0o1777, 0),
        ("./var/lib/apt/lists/lock", stat.S_IFREG | 0o640, 0),
        ("./var/cache/apt/pkgcache.bin", stat.S_IFREG | 0o644, 100),
        ("./root/.cache/pip/http/1/abc", stat.S_IFREG | 0o644, 100),
    ]
    findings = {f.rule: f for f in audit.audit_files(members)}
    assert findings["setuid_files"].details == ["/usr/bin/passwd (setuid)", "/usr/bin/wall (setgid)"]
    assert findings["package_cache"].details == ["/root/.cache/pip/http/1/abc", "/var/cache/apt/pkgcache.bin"]


def test_size_ceiling():
    assert audit.audit_size(3 * 1048576, 2)[0].rule == "too_large"
    assert audit.audit_size(3 * 1048576, 0) == []
    assert audit.audit_size(1048576, 2) == []


def test_every_rule_names_its_cis_section_and_fix():
    for rule, (cis, fix) in audit.RULES.items():
        assert cis and fix, rule


def test_failing_honours_ignore_and_informational_rules():
    findings = [audit.Finding("root_user", "m"), audit.Finding("exposed_ports", "m"), audit.Finding("too_large", "m")]
    assert [f.rule for f in audit.failing(findings, ["too_large"])] == ["root_user"]
