#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: image_sbom
short_description: Write a CycloneDX SBOM of a Docker image and label the image with its digest
version_added: 0.1.0
description:
  - Lists the packages installed in an image as a CycloneDX 1.5 JSON document (a software bill of materials)
    and writes it to a file on the host where the image is.
  - "Packages: Debian packages dpkg lists as installed in C(/var/lib/dpkg/status), Python distributions
    (C(*.dist-info/METADATA) under any C(site-packages) or C(dist-packages)), and npm packages
    (C(node_modules/**/package.json)). Each has a package URL (purl) that vulnerability scanners match."
  - The document is the same for the same image, byte for byte; its time is the image's
    C(org.opencontainers.image.created) label, or else the image's creation time.
  - With O(label), the image gets the label C(org.agentopia.sbom.digest=sha256:<SHA-256 of the file>). Labels are
    part of an image's configuration, so this makes a new image (no new layer, same filesystem) and moves every tag
    of the image to it; the image ID changes, and RV(image_id) gives the new one. The SBOM keeps the ID of the image
    as it was built (the labelled image's parent).
  - The filesystem is read from a created, never started, container that is removed afterwards.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.docker
attributes:
  diff_mode:
    support: none
    details: What it wrote or relabelled is in its result, not a diff.
options:
  image:
    description:
      - Image name and tag (or ID) on the host's engine.
      - Give a name and tag; after labelling, an image ID names the unlabelled image.
    type: str
    required: true
  dest:
    description:
      - Path on the host of the SBOM file to write.
      - Missing parent directories are created with mode C(0755); the file gets mode C(0644).
    type: path
    required: true
  label:
    description: Label the image with the SHA-256 of the SBOM file, moving its tags to the labelled image.
    type: bool
    default: true
notes:
  - Nothing changes when the file already holds this SBOM and the label already matches it.
seealso:
  - module: agentopia.toolbox.image_audit
"""

EXAMPLES = r"""
- name: Write the base image's SBOM and label the image with its digest
  agentopia.toolbox.image_sbom:
    image: agentopia/base:0.1.0
    dest: /var/lib/agentopia/sbom/agentopia_base-0.1.0.cdx.json
  register: sbom

- name: Show what it holds
  ansible.builtin.debug:
    msg: "{{ sbom.components }} packages ({{ sbom.counts }}), {{ sbom.digest }}"

- name: Only write the SBOM of a third-party image, leaving the image as it is
  agentopia.toolbox.image_sbom:
    image: registry.lab:5000/acme/tool:1.2
    dest: /var/lib/agentopia/sbom/acme_tool-1.2.cdx.json
    label: false
"""

RETURN = r"""
path:
  description: Path of the SBOM file.
  returned: success
  type: str
  sample: /var/lib/agentopia/sbom/agentopia_base-0.1.0.cdx.json
digest:
  description: SHA-256 of the SBOM file, as the label holds it.
  returned: success
  type: str
  sample: sha256:0a4f7c1e5b0d6e0b3a1c9e8f7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a
format:
  description: Format of the document.
  returned: success
  type: str
  sample: CycloneDX
spec_version:
  description: CycloneDX specification version of the document.
  returned: success
  type: str
  sample: "1.5"
components:
  description: Number of packages listed (the operating system component is not counted).
  returned: success
  type: int
  sample: 87
counts:
  description: Number of packages by package URL type.
  returned: success
  type: dict
  sample: {deb: 85, npm: 0, pypi: 2}
image_id:
  description: ID of the image after labelling (in check mode, or with O(label=false), the image's current ID).
  returned: success
  type: str
"""

import hashlib
import io
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    DockerException,
    ToolboxError,
    docker_client,
    exported,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._files import read_if_present, write_atomically
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import DOCKER_SDK, run_module
from ansible_collections.agentopia.toolbox.plugins.module_utils._sbom import (
    MAX_FILE_BYTES,
    SBOM_LABEL,
    SPEC_VERSION,
    counts,
    document,
    dumps,
    image_component,
    is_relabel,
    normalize,
    wanted,
)


def labels_of(image):
    return (image.attrs.get("Config") or {}).get("Labels") or {}


def image_files(client, image_id):
    """{path: bytes} of the few files that list packages; the rest of the filesystem only streams past."""
    files = {}
    with exported(client, image_id) as archive:
        for member in archive:
            path = normalize(member.name)
            if not (member.isfile() and wanted(path)):
                continue
            if member.size > MAX_FILE_BYTES:
                raise ToolboxError(f"/{path} in the image is {member.size} bytes, over {MAX_FILE_BYTES}")
            files[path] = archive.extractfile(member).read()
    return files


def described(client, image):
    """The image the SBOM describes: the image itself or, when this module labelled it, the image it labelled
    (same filesystem), so that a rerun on the labelled image writes the same document."""
    while image.attrs.get("Parent"):
        try:
            parent = client.images.get(image.attrs["Parent"])
        except DockerException:
            break
        if not is_relabel(image.attrs, parent.attrs):
            break
        image = parent
    return image


def current_document(data, label, subject_id, tag):
    """The SBOM file as a document when it is the one the image's label names and describes this image by ID and
    tag; None when it must be written again."""
    if data is None or label != "sha256:" + hashlib.sha256(data).hexdigest():
        return None
    try:
        doc = json.loads(data)
        component = doc["metadata"]["component"]
    except (ValueError, KeyError, TypeError):
        return None
    named = image_component(subject_id, tag, {})
    same_tag = not tag or (component.get("name"), component.get("version")) == (named["name"], named.get("version"))
    return doc if component.get("bom-ref") == subject_id and same_tag else None


def check_dest(path):
    """Fail before any work when the SBOM cannot be written to path."""
    if os.path.isdir(path):
        raise ToolboxError(f"dest {path} is a directory; give the path of the SBOM file")
    directory = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(directory):
        directory = os.path.dirname(directory)
    if not os.path.isdir(directory):
        raise ToolboxError(f"dest {path} cannot be written: {directory} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ToolboxError(f"dest {path} cannot be written: no write permission on {directory}")


def relabel(client, image, digest):
    """A config-only image FROM image with the SBOM label, holding every tag image had; returns its ID."""
    if (image.attrs.get("Config") or {}).get("OnBuild"):
        raise ToolboxError(f"{image.id} has ONBUILD triggers, which labelling it would run; use label=false")
    dockerfile = f'FROM {image.id}\nLABEL {SBOM_LABEL}="{digest}"\n'
    try:
        labelled, _log = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), rm=True, pull=False)
        for tag in image.tags:
            repository, _sep, name = tag.rpartition(":")
            labelled.tag(repository, name)
    except DockerException as exc:
        raise ToolboxError(f"cannot label {image.id} with {SBOM_LABEL}: {exc}") from exc
    return labelled.id


def execute_module(module):
    params = module.params
    dest = params["dest"]
    check_dest(dest)
    client = docker_client(params["docker_host"], params["timeout"])
    try:
        image = client.images.get(params["image"])
    except DockerException as exc:
        raise ToolboxError(f"image {params['image']!r} is not on this host's engine: {exc}") from exc
    subject = described(client, image)
    tags = image.tags
    tag = params["image"] if params["image"] in tags else (sorted(tags)[0] if tags else "")
    current = read_if_present(dest)
    # The image carries this very file's digest: it was written for this filesystem, so a rerun exports nothing.
    doc = current_document(current, labels_of(image).get(SBOM_LABEL), subject.id, tag) if params["label"] else None
    if doc is not None:
        data = current
    else:
        doc = document(image_files(client, image.id), subject.id, tag, labels_of(subject), subject.attrs.get("Created"))
        data = dumps(doc)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    write_file = current != data
    add_label = params["label"] and labels_of(image).get(SBOM_LABEL) != digest
    image_id = image.id
    if not module.check_mode:
        if write_file:
            try:
                # 0644, missing parent directories 0755.
                write_atomically(dest, data, make_parents=True)
            except OSError as exc:
                raise ToolboxError(f"cannot write the SBOM to {dest}: {exc}") from exc
        if add_label:
            image_id = relabel(client, image, digest)
    packages = [c for c in doc["components"] if "purl" in c]
    return {
        "changed": write_file or add_label,
        "path": dest,
        "digest": digest,
        "format": doc["bomFormat"],
        "spec_version": SPEC_VERSION,
        "components": len(packages),
        "counts": counts(packages),
        "image_id": image_id,
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "image": {"type": "str", "required": True},
            "dest": {"type": "path", "required": True},
            "label": {"type": "bool", "default": True},
            **DOCKER_CLIENT_ARGS,
        },
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="image_sbom", needs=(DOCKER_SDK,))


if __name__ == "__main__":
    main()
