#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: image_contexts
short_description: Hash every image of an image plan on the controller, and pack the build contexts to send
version_added: 0.1.0
description:
  - Computes, for each image of a plan in build order, one input hash over its rendered Dockerfile, every file of
    its build context (name, mode, content) and the identity of each image it starts FROM (C(from),
    C(build_from)); an earlier image of the plan contributes its own input hash, a base the identity in O(bases).
    A change to one file therefore changes that image's hash and those of the images built FROM it, nothing else.
  - A context is the role files an image names in C(files) (by basename, mode 0755), C(build-ca.pem) from O(ca_file)
    for images with C(ca), and for images with C(tree) the service C(<services_dir>/<tree>)'s C(src/), C(image/)
    (mode 0755) and C(requirements.txt), never its tests, caches or build metadata.
  - With O(archive), writes each named image's context as one tar in O(archive_dir) (sorted names, owner root,
    times O(mtime)), so the same inputs give the same bytes.
  - This is an action plugin; it runs on the controller only and never contacts a host.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.attributes.controller_action
attributes:
  check_mode:
    details: It changes nothing on a host, so check mode gives the same answer.
  diff_mode:
    support: none
options:
  images:
    description: The plan, in build order; each entry has C(key), C(ref), C(from) and optionally C(build_from),
      C(files), C(ca), C(tree).
    type: list
    elements: dict
    required: true
  dockerfiles:
    description: Image key -> its rendered Dockerfile.
    type: dict
    required: true
  files_dir:
    description: Folder on the controller the C(files) of an entry are relative to.
    type: path
    required: true
  services_dir:
    description: Folder on the controller holding the services an entry's C(tree) names.
    type: path
    required: true
  ca_file:
    description: PEM bundle on the controller for images with C(ca); empty for none.
    type: path
    default: ""
  bases:
    description: Base reference -> identity, for each parent that is no image of the plan.
    type: dict
    required: true
  archive:
    description: Keys of the images whose contexts to pack.
    type: list
    elements: str
    default: []
  archive_dir:
    description: Existing folder on the controller for the archives; required with O(archive).
    type: path
  mtime:
    description: Modification time (seconds since the epoch) of every archive member.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Hash every image's inputs
  agentopia.toolbox.image_contexts:
    images: "{{ mcp_images__plan }}"
    dockerfiles: "{{ mcp_images__dockerfiles }}"
    files_dir: "{{ role_path }}/files"
    services_dir: "{{ (role_path ~ '/../../services') | realpath }}"
    bases: {"agentopia/base:0.1.0": "inputs:5c0e"}
  register: contexts
"""

RETURN = r"""
inputs:
  description: Image key -> input hash (hex SHA-256), the value of the role's input label (C(org.agentopia.mcp.inputs),
    C(org.agentopia.exporters.inputs)).
  returned: success
  type: dict
archives:
  description: Image key -> path of its context's tar on the controller, for the keys of O(archive).
  returned: success
  type: dict
"""
