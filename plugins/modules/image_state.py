#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: image_state
short_description: Read, in one call, what a build host holds for a set of images, their audit reports and SBOMs
version_added: 0.1.0
description:
  - Reads the ID and labels of each named image on the host's engine, the summary of each named
    agentopia.toolbox.image_audit JSON report and the SHA-256 of each named file, so a role can decide on the
    controller which images need a build, an audit or an SBOM, with one round trip for all of them.
  - Images, reports and files that are not there are left out of the result; nothing is ever changed.
  - An image that agentopia.toolbox.image_sbom labelled lists, in the C(ids) of its entry in RV(images), the ID of
    the image it labelled too (same filesystem), since the audit report written before the label still answers for it.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.docker
attributes:
  check_mode:
    details: It only reads, so check mode gives the same answer.
  diff_mode:
    support: none
options:
  images:
    description: Image names and tags (or IDs) to look for on the host's engine.
    type: list
    elements: str
    default: []
  reports:
    description:
      - Paths on the host of JSON reports of agentopia.toolbox.image_audit (what it writes as its
        O(agentopia.toolbox.image_audit#module:report_json)).
    type: list
    elements: path
    default: []
  files:
    description: Paths on the host of files to hash (SBOMs written by agentopia.toolbox.image_sbom).
    type: list
    elements: path
    default: []
seealso:
  - module: agentopia.toolbox.image_audit
  - module: agentopia.toolbox.image_sbom
"""

EXAMPLES = r"""
- name: Read the images of the plan, their reports and SBOMs at once
  agentopia.toolbox.image_state:
    images: [agentopia/base:0.1.0, agentopia/mcp-time:0.1.0]
    reports: [/var/lib/agentopia/audit/agentopia_mcp-time-0.1.0.json]
    files: [/var/lib/agentopia/sbom/agentopia_mcp-time-0.1.0.cdx.json]
  register: state
"""

RETURN = r"""
images:
  description: Name as given -> C(id), C(ids) (the ID and, for an image image_sbom labelled, the labelled image's)
    and C(labels), for the images on the engine.
  returned: success
  type: dict
  sample: {"agentopia/mcp-time:0.1.0": {"id": "sha256:9f...", "ids": ["sha256:9f...", "sha256:41..."],
           "labels": {"org.agentopia.mcp.inputs": "5c0e..."}}}
reports:
  description: Path -> C(image_id), C(policy) and C(rules) (the rules of its findings), for the reports that are
    there and readable.
  returned: success
  type: dict
files:
  description: Path -> SHA-256 (hex) of the file, for the files that are there.
  returned: success
  type: dict
"""

import hashlib
import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    DockerException,
    NotFound,
    ToolboxError,
    docker_client,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._files import read_if_present
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import DOCKER_SDK, run_module
from ansible_collections.agentopia.toolbox.plugins.module_utils._sbom import is_relabel


def report_summary(data):
    """What decides whether an audit report still holds, or None for a file that is not such a report."""
    try:
        report = json.loads(data)
        return {
            "image_id": report["image_id"],
            "policy": report["policy"],
            "rules": [finding["rule"] for finding in report["findings"]],
        }
    except (ValueError, KeyError, TypeError):
        return None


def read_bytes(path):
    try:
        return read_if_present(path)
    except OSError as exc:
        raise ToolboxError(f"cannot read {path}: {exc}") from exc


def image_ids(client, attrs):
    """The image's ID and, when image_sbom made it by labelling another image, that image's ID."""
    ids = [attrs["Id"]]
    if attrs.get("Parent"):
        try:
            parent = client.api.inspect_image(attrs["Parent"])
        except DockerException:
            return ids
        if is_relabel(attrs, parent):
            ids.append(parent["Id"])
    return ids


def execute_module(module):
    params = module.params
    client = docker_client(params["docker_host"], params["timeout"])
    images = {}
    for name in params["images"]:
        try:
            attrs = client.api.inspect_image(name)
        except NotFound:
            continue
        except DockerException as exc:
            raise ToolboxError(f"cannot inspect the image {name}: {exc}") from exc
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        images[name] = {"id": attrs["Id"], "ids": image_ids(client, attrs), "labels": labels}
    reports = {}
    for path in params["reports"]:
        data = read_bytes(path)
        summary = None if data is None else report_summary(data)
        if summary is not None:
            reports[path] = summary
    files = {}
    for path in params["files"]:
        data = read_bytes(path)
        if data is not None:
            files[path] = hashlib.sha256(data).hexdigest()
    return {"changed": False, "images": images, "reports": reports, "files": files}


def main():
    module = AnsibleModule(
        argument_spec={
            "images": {"type": "list", "elements": "str", "default": []},
            "reports": {"type": "list", "elements": "path", "default": []},
            "files": {"type": "list", "elements": "path", "default": []},
            **DOCKER_CLIENT_ARGS,
        },
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="image_state", needs=(DOCKER_SDK,))


if __name__ == "__main__":
    main()
