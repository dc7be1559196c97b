#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: image_audit
short_description: Audit a Docker image against hardening rules (CIS Docker Benchmark section 4)
version_added: 0.1.0
description:
  - Inspects an image's configuration, history and filesystem and reports, per rule, what it found and how to fix it.
  - "Rules: C(root_user) (CIS 4.1), C(setuid_files) (4.8), C(no_healthcheck) (4.6), C(secret_in_env),
    C(secret_in_label), C(secret_in_history) (4.10; by name and by high-entropy value; values are never reported),
    C(package_cache) and C(too_large) (4.3), and C(exposed_ports) (5.8, informational)."
  - Fails when any rule not in O(ignore) finds something, with one message listing every violation and its fix.
  - Can write the report as JSON and as JUnit XML on the host, for any CI to show.
  - The filesystem is read from a created, never started, container that is removed afterwards.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.docker
attributes:
  check_mode:
    details: The module reads only; the reports it would write are not written in check mode.
  diff_mode:
    support: none
options:
  image:
    description: Image name, tag or ID on the host's engine.
    type: str
    required: true
  max_size_mb:
    description: Size ceiling in MiB for C(too_large); C(0) disables the rule.
    type: int
    default: 512
  ignore:
    description: Rules reported but not failing the task.
    type: list
    elements: str
    default: []
  report_json:
    description: Path on the host to write the report to as JSON.
    type: path
  report_junit:
    description: Path on the host to write the report to as JUnit XML.
    type: path
"""

EXAMPLES = r"""
- name: Audit the base image; fail on any violation
  agentopia.toolbox.image_audit:
    image: agentopia/base:0.1.0
    max_size_mb: 150
    report_json: /var/lib/agentopia/audit/base.json
    report_junit: /var/lib/agentopia/audit/base.xml

- name: Audit a third-party image, tolerating its missing healthcheck
  agentopia.toolbox.image_audit:
    image: registry.lab:5000/acme/tool:1.2
    ignore: [no_healthcheck]
  register: audit
"""

RETURN = r"""
image_id:
  description: ID of the audited image.
  returned: success
  type: str
size:
  description: Image size in bytes.
  returned: success
  type: int
findings:
  description: Every finding, with its rule, CIS section, message, details and fix. Secret values are never included.
  returned: always
  type: list
  elements: dict
  sample:
    - {rule: root_user, cis: "4.1", message: the image runs as root (no USER), details: [], fix: add a non-root USER}
failed_rules:
  description: Rules whose findings fail the task.
  returned: always
  type: list
  elements: str
cached:
  description:
    - The findings came from O(report_json), which an earlier run wrote for this very image ID with the same size
      ceiling and the same version of the rules, so the image's filesystem was not read again.
  returned: success
  type: bool
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils._audit import (
    RULES,
    RULES_VERSION,
    Finding,
    audit_config,
    audit_files,
    audit_history,
    audit_size,
    failing,
    junit_xml,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    DockerException,
    ToolboxError,
    docker_client,
    exported,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import DOCKER_SDK, keeping, run_module

# A failure before the audit still has these keys, so a play can read them either way.
NO_FINDINGS = {"findings": [], "failed_rules": []}


def filesystem(client, image_id):
    """(path, mode, size) of every file in the image."""
    with exported(client, image_id) as archive:
        return [(m.name, m.mode, m.size) for m in archive]


def cached_findings(path, image_id, policy):
    """The findings of an earlier report for this image and policy, or None."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            report = json.load(handle)
        if report.get("image_id") != image_id or report.get("policy") != policy:
            return None
        return [Finding(**finding) for finding in report["findings"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write(path, text):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def execute_module(module):
    with keeping(NO_FINDINGS):
        result, failed = audit_image(module)
    if failed:
        lines = [f"{f.rule} (CIS {f.cis}): {f.message}; fix: {f.fix}" for f in failed]
        raise ToolboxError(f"image {module.params['image']} fails the audit: " + " | ".join(lines), result)
    return result


def audit_image(module) -> tuple[dict, list[Finding]]:
    params = module.params
    unknown = sorted(set(params["ignore"]) - set(RULES))
    if unknown:
        raise ToolboxError(f"ignore: unknown rules {', '.join(unknown)}; known rules: {', '.join(RULES)}")
    client = docker_client(params["docker_host"], params["timeout"])
    try:
        image = client.images.get(params["image"])
    except DockerException as exc:  # NotFound and the engine's other refusals alike
        raise ToolboxError(f"image {params['image']!r} is not on this host's engine: {exc}") from exc
    # An image ID names its content, so a report of the same ID, ceiling and rules still holds.
    policy = {"max_size_mb": params["max_size_mb"], "rules_version": RULES_VERSION}
    findings = cached_findings(params["report_json"], image.id, policy)
    cached = findings is not None
    if not cached:
        findings = (
            audit_config(image.attrs.get("Config") or {})
            + audit_history(image.history())
            + audit_files(filesystem(client, image.id))
            + audit_size(image.attrs.get("Size", 0), params["max_size_mb"])
        )
    failed = failing(findings, params["ignore"])
    result = {
        "changed": False,
        "image_id": image.id,
        "size": image.attrs.get("Size", 0),
        "policy": policy,
        "findings": [f.as_dict() for f in findings],
        "failed_rules": [f.rule for f in failed],
        "cached": cached,
    }
    if not module.check_mode:
        if params["report_json"]:
            write(params["report_json"], json.dumps(result, indent=2, sort_keys=True) + "\n")
        if params["report_junit"]:
            write(params["report_junit"], junit_xml(params["image"], findings, failed))
    return result, failed


def main():
    module = AnsibleModule(
        argument_spec={
            "image": {"type": "str", "required": True},
            "max_size_mb": {"type": "int", "default": 512},
            "ignore": {"type": "list", "elements": "str", "default": []},
            "report_json": {"type": "path"},
            "report_junit": {"type": "path"},
            **DOCKER_CLIENT_ARGS,
        },
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="image_audit", needs=(DOCKER_SDK,))


if __name__ == "__main__":
    main()
