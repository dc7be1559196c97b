# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image audit rules: pure functions over an image's config, history and file list.

Each rule returns findings; the module decides which ones fail. Kept free of Docker so the
rules are unit-tested on plain data, and the module only gathers that data.
"""

from __future__ import annotations

import math
import re
import stat
from collections import Counter
from dataclasses import asdict, dataclass, field

# Bump when a rule's logic changes: image_audit reuses a report only if it was made by rules of this version.
RULES_VERSION = 1

# rule id -> (CIS Docker Benchmark section, what to do about it)
RULES = {
    "root_user": ("4.1", "add a non-root USER (the base image uses 10001) after the last step that needs root"),
    "setuid_files": ("4.8", "remove the setuid/setgid bits: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +"),
    "no_healthcheck": ("4.6", "add a HEALTHCHECK that calls the service's own health endpoint"),
    "secret_in_env": ("4.10", "pass secrets at run time as files under /run/secrets, never in ENV"),
    "secret_in_label": ("4.10", "never put secrets in LABELs; labels are readable by anyone who can inspect"),
    "secret_in_history": ("4.10", "do not pass secrets as build args or in RUN lines; use build secrets"),
    "package_cache": ("4.3", "clean package caches in the same RUN: apt-get clean && rm -rf /var/lib/apt/lists/*"),
    "too_large": ("4.3", "trim the image (fewer packages, multi-stage build) or raise max_size_mb"),
    "exposed_ports": ("5.8", "expose only the ports the service needs"),
}
# Reported but not failing unless the policy asks.
INFORMATIONAL = {"exposed_ports"}

SECRET_NAME = re.compile(r"(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)", re.I)
# Paths whose non-empty presence means a package manager cache was left behind.
CACHE_PATHS = (
    re.compile(r"^var/lib/apt/lists/[^/]+_(Packages|Sources|InRelease|Release)"),
    re.compile(r"^var/cache/apt/[^/]+\.bin$"),
    re.compile(r"^var/cache/apt/archives/[^/]+\.deb$"),
    re.compile(r"^(root|home/[^/]+)/\.cache/pip/"),
    re.compile(r"^(root|home/[^/]+)/\.npm/_cacache/"),
)
# Content digests (OCI "algorithm:hex") are public hashes of public data, however random they look.
DIGEST = re.compile(r"^sha(256|384|512):[0-9a-f]{64,128}$")
HIGH_ENTROPY_MIN_LENGTH = 20
HIGH_ENTROPY_BITS = 4.0


@dataclass
class Finding:
    rule: str
    message: str
    details: list = field(default_factory=list)
    cis: str = ""
    fix: str = ""

    def __post_init__(self):
        self.cis, self.fix = RULES[self.rule]

    def as_dict(self):
        return asdict(self)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_secret(name: str, value: str) -> bool:
    if not value:
        return False
    if SECRET_NAME.search(name):
        return True
    if DIGEST.match(value):
        return False
    return len(value) >= HIGH_ENTROPY_MIN_LENGTH and " " not in value and entropy(value) >= HIGH_ENTROPY_BITS


def redact(value: str) -> str:
    """Enough to find the line again, never the value."""
    return f"<{len(value)} characters>"


def audit_config(config: dict) -> list[Finding]:
    findings = []
    user = (config.get("User") or "").split(":")[0]
    if user in ("", "root", "0"):
        findings.append(Finding("root_user", f"the image runs as {user or 'root (no USER)'}"))
    test = (config.get("Healthcheck") or {}).get("Test") or []
    if not test or test[0] == "NONE":
        findings.append(Finding("no_healthcheck", "the image has no HEALTHCHECK"))
    env_hits = []
    for item in config.get("Env") or []:
        name, _sep, value = item.partition("=")
        if looks_secret(name, value):
            env_hits.append(f"{name}={redact(value)}")
    if env_hits:
        findings.append(Finding("secret_in_env", "environment variables look like secrets", env_hits))
    label_hits = [f"{k}={redact(v)}" for k, v in (config.get("Labels") or {}).items() if looks_secret(k, v)]
    if label_hits:
        findings.append(Finding("secret_in_label", "labels look like secrets", label_hits))
    ports = sorted(config.get("ExposedPorts") or {})
    if ports:
        findings.append(Finding("exposed_ports", f"exposes {', '.join(ports)}", ports))
    return findings


ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)")


# ENV and LABEL steps show in the history too; their own rules report them.
CONFIG_STEP = re.compile(r"#\(nop\)\s+(ENV|LABEL)\s")


def audit_history(history: list[dict]) -> list[Finding]:
    hits = []
    for number, entry in enumerate(history):
        created_by = entry.get("CreatedBy") or ""
        if CONFIG_STEP.search(created_by):
            continue
        for name, value in ASSIGNMENT.findall(created_by):
            if looks_secret(name, value.strip("'\"")):
                hits.append(f"history step {number}: {name}={redact(value)}")
    return [Finding("secret_in_history", "history lines look like they hold secrets", hits)] if hits else []


def audit_files(members) -> list[Finding]:
    """members: (path, mode, size) for each entry of the image's filesystem."""
    special, caches = [], []
    for path, mode, size in members:
        path = path.lstrip("./")
        if stat.S_ISREG(mode) and mode & (stat.S_ISUID | stat.S_ISGID):
            special.append(f"/{path} ({'setuid' if mode & stat.S_ISUID else 'setgid'})")
        if size and any(p.match(path) for p in CACHE_PATHS):
            caches.append(f"/{path}")
    findings = []
    if special:
        findings.append(Finding("setuid_files", f"{len(special)} setuid/setgid files", sorted(special)))
    if caches:
        findings.append(Finding("package_cache", f"{len(caches)} package manager cache files", sorted(caches)[:20]))
    return findings


def audit_size(size: int, max_size_mb: int) -> list[Finding]:
    if max_size_mb and size > max_size_mb * 1024 * 1024:
        return [Finding("too_large", f"{size / 1048576:.0f} MiB is over the {max_size_mb} MiB ceiling")]
    return []


def failing(findings: list[Finding], ignore: list[str]) -> list[Finding]:
    return [f for f in findings if f.rule not in INFORMATIONAL and f.rule not in ignore]


def junit_xml(image: str, findings: list[Finding], failed: list[Finding]) -> str:
    """One test case per rule, failed or passed, so any CI shows the audit."""
    from xml.sax.saxutils import escape, quoteattr

    failed_rules = {f.rule for f in failed}
    by_rule = {f.rule: f for f in findings}
    cases = []
    for rule, (cis, _fix) in RULES.items():
        name = quoteattr(f"{rule} (CIS {cis})")
        finding = by_rule.get(rule)
        if finding and rule in failed_rules:
            text = escape("\n".join([finding.message, *map(str, finding.details), f"fix: {finding.fix}"]))
            cases.append(
                f"  <testcase classname={quoteattr(image)} name={name}>"
                f"<failure message={quoteattr(finding.message)}>{text}</failure></testcase>"
            )
        else:
            cases.append(f"  <testcase classname={quoteattr(image)} name={name}/>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name={quoteattr("image_audit " + image)} tests="{len(RULES)}" failures="{len(failed_rules)}">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n"
    )
