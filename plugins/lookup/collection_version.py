# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's version, read from the one place it is written."""

from __future__ import annotations

DOCUMENTATION = r"""
name: collection_version
author: agentopia.toolbox contributors (@agentopia)
version_added: 0.1.0
short_description: The version of the agentopia.toolbox collection
description:
  - Returns the version of the agentopia.toolbox collection that is running it, from C(MANIFEST.json) in an installed
    collection and from C(galaxy.yml) in a checkout (C(ansible-galaxy collection build) writes the one from the other).
  - The roles tag the images they build with it (I(base_image_version), I(mcp_images_version),
    I(exporters_version)), so a release changes one line, C(version) in C(galaxy.yml).
  - Takes no terms.
notes:
  - The Python services under C(services/) version their packages on their own (their C(pyproject.toml)); this is
    the collection's version, which the images carry as their tag.
"""

EXAMPLES = r"""
- name: Tag an image with the collection's version
  ansible.builtin.debug:
    msg: "agentopia/base:{{ lookup('agentopia.toolbox.collection_version') }}"
"""

RETURN = r"""
_raw:
  description: One element, the version string (for example C(0.1.0)).
  type: list
  elements: str
"""

import json
from pathlib import Path

import yaml
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

# plugins/lookup/collection_version.py -> the collection's root.
COLLECTION_ROOT = Path(__file__).resolve().parents[2]


def read_version(root: Path) -> str:
    """The version in root's MANIFEST.json (an installed collection) or else its galaxy.yml (a checkout)."""
    manifest, galaxy = root / "MANIFEST.json", root / "galaxy.yml"
    try:
        if manifest.is_file():
            version = json.loads(manifest.read_text())["collection_info"]["version"]
        else:
            version = yaml.safe_load(galaxy.read_text())["version"]
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as error:
        raise AnsibleLookupError(f"collection_version: no version in {manifest} or {galaxy}: {error}") from error
    if not isinstance(version, str) or not version:
        raise AnsibleLookupError(f"collection_version: the version in {root} is not a string: {version!r}")
    return version


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("collection_version takes no terms")
        return [read_version(COLLECTION_ROOT)]
