#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_push
short_description: Push local images to a registry only when it lacks them, and give each one's reference by digest
version_added: 0.1.0
description:
  - For every image of O(images) (C(name:tag) on the host's engine), in one call - the image is B(current) when it
    carries the tag C(<registry>/name:tag) and a digest of the repository C(<registry>/name) (the engine records one
    on every push), and the registry still holds that manifest. A current image is neither tagged nor pushed.
  - The registry is asked through the engine (C(GET /distribution/<name>@<digest>/json)), so it uses the engine's
    trust (C(/etc/docker/certs.d)) and the login of the user running the module (C(docker login), or
    community.docker.docker_login); no credential is an argument of this module.
  - Any other image is tagged for the registry (when it lacks the tag) and pushed; an error of the push fails the
    module with the image named. Its new digest is then read from the engine.
  - With O(record), what was published is also kept in a JSON file on the host (the registry, its digests and
    O(keys)), merged with what earlier calls recorded for the same registry, so later runs can find the images
    without pushing; C(agentopia.toolbox.registry_record) reads it.
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
  - agentopia.toolbox.docker
attributes:
  diff_mode:
    support: partial
    details: The diff is the record file's text before and after; pushed images are in RV(pushed).
options:
  images:
    description: Local images to publish, each C(name:tag) (no registry prefix, no digest).
    type: list
    elements: str
    required: true
  registry:
    description: The registry as C(address:port), as the engine reaches it.
    type: str
    required: true
  keys:
    description:
      - Names later stages look images up by (an MCP server kind, C(gateway), C(postgresql)) -> one of O(images).
        Recorded with the digests in O(record).
    type: dict
    default: {}
  pending:
    description:
      - Images of O(images) the images stage will rebuild (its check run's preview, C(mcp_images_pending) and
        C(base_image_pending)) - reported as to push, with no digest, whatever the local image and the registry
        hold, since the image that will be pushed is not built yet. The registry is not asked about them, and in
        check mode they need not be on the engine.
      - In a real run the images stage has built them and this list is empty; an image given here anyway is
        tagged and pushed again, which is harmless (the registry already holds the same bytes and answers with
        the same digest).
      - Every entry must be one of O(images).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  record:
    description:
      - Path on the host of the record file to keep up to date (mode C(0644); missing parent directories are created
        with mode C(0755)). Omit to record nothing.
      - A file that is not such a record is replaced, with a warning.
    type: path
notes:
  - In check mode nothing is tagged, pushed or written; RV(pushed) lists the images a real run would push (every
    image of O(pending) among them), and RV(digests) holds only the current images (a digest is known only once
    an image is pushed).
  - An image whose registry check fails for another reason than a missing manifest (registry down, login refused)
    is pushed, with a warning; the push then reports the registry's error.
seealso:
  - module: community.docker.docker_image_push
"""

EXAMPLES = r"""
- name: Publish the images once; later runs only check them
  agentopia.toolbox.registry_push:
    images: [agentopia/base:0.1.0, agentopia/mcp-memory:0.1.0]
    registry: registry.lab:5000
    keys: {memory: agentopia/mcp-memory:0.1.0}
    record: /etc/agentopia/registry-published.json
  register: published

- name: Preview a run whose images stage rebuilds the time image (check mode)
  agentopia.toolbox.registry_push:
    images: [agentopia/base:0.1.0, agentopia/mcp-time:0.1.0]
    registry: registry.lab:5000
    pending: [agentopia/mcp-time:0.1.0]
  check_mode: true
  register: preview  # preview.pushed lists agentopia/mcp-time:0.1.0, and preview.digests has no entry for it

- name: Deploy by digest
  ansible.builtin.debug:
    msg: "{{ published.digests['agentopia/mcp-memory:0.1.0'] }}"  # registry.lab:5000/agentopia/mcp-memory@sha256:...
"""

RETURN = r"""
digests:
  description:
    - Each image of O(images) (C(name:tag)) -> its reference by digest in the registry.
    - In check mode only the current images; an image to push (one of O(pending) among them) has no entry.
  returned: success
  type: dict
  sample:
    agentopia/base:0.1.0: registry.lab:5000/agentopia/base@sha256:0a4f7c1e5b0d6e0b3a1c9e8f7d6c5b4a3928170
pushed:
  description: The images tagged and pushed (in check mode, those a real run would push, O(pending) included).
  returned: success
  type: list
  elements: str
  sample: [agentopia/mcp-memory:0.1.0]
current:
  description: The images the registry already held, left as they were.
  returned: success
  type: list
  elements: str
  sample: [agentopia/base:0.1.0]
record:
  description: The record as written (with O(record)); in check mode, as it would be written.
  returned: when O(record) is set
  type: dict
  sample: {"schema": 1, "registry": "registry.lab:5000", "digests": {}, "keys": {}}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.agentopia.toolbox.plugins.module_utils import _registry_push as decide
from ansible_collections.agentopia.toolbox.plugins.module_utils._docker import (
    DOCKER_CLIENT_ARGS,
    DockerException,
    NotFound,
    ToolboxError,
    docker_client,
)
from ansible_collections.agentopia.toolbox.plugins.module_utils._files import write_atomically
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import DOCKER_SDK, keeping, run_module


def inspect(api, ref):
    """The engine's inspect dict of ref, None when the engine has no such image."""
    try:
        return api.inspect_image(ref)
    except NotFound:
        return None


def registry_answer(module, api, ref, reference):
    """The digest the registry answers for reference (``repo@sha256:...``), None when it lacks that manifest or
    cannot be asked (warned: the push then says why)."""
    try:
        # The engine answers with the OCI descriptor's own (lower-case) keys.
        return ((api.inspect_distribution(reference) or {}).get("Descriptor") or {}).get("digest")
    except NotFound:
        return None
    except DockerException as exc:
        module.warn(f"registry_push: could not ask the registry about {ref} ({reference}): {exc}; pushing it")
        return None


def push(api, registry, ref):
    """Tag ref for the registry and push it, failing with the image named on any error of the stream."""
    name, tag = decide.split_ref(ref)
    repo = f"{registry}/{name}"
    try:
        api.tag(ref, repo, tag, force=True)
        for message in api.push(repo, tag=tag, stream=True, decode=True):
            error = decide.push_error(message)
            if error:
                raise ToolboxError(f"registry_push: pushing {ref} to {registry} failed: {error}")
    except DockerException as exc:
        raise ToolboxError(f"registry_push: pushing {ref} to {registry} failed: {exc}") from exc


def read_record(module, path):
    """The record in path, None when there is none (or, warned, when the file is not a record)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None, ""
    except OSError as exc:
        raise ToolboxError(f"registry_push: cannot read the record {path}: {exc}") from exc
    try:
        return decide.loads(text), text
    except decide.RecordError as exc:
        module.warn(f"registry_push: {path} is not a registry record ({exc}); writing a new one")
        return None, text


def execute_module(module):
    params = module.params
    registry = params["registry"].rstrip("/")
    images = list(dict.fromkeys(params["images"]))
    keys = params["keys"] or {}
    pending = frozenset(params["pending"] or [])
    try:
        for ref in images:
            decide.split_ref(ref)
        decide.check_keys(keys, images)
        decide.check_pending(sorted(pending), images)
    except ValueError as exc:
        raise ToolboxError(f"registry_push: {exc}") from None

    api = docker_client(params["docker_host"], params["timeout"]).api
    result = {"changed": False, "digests": {}, "pushed": [], "current": []}
    # Every image is looked at before anything is pushed: a missing one fails with nothing changed.
    found = {ref: inspect(api, ref) for ref in images}
    # In check mode an image the images stage will build need not be there yet (a host that never built it).
    missing = [ref for ref, image in found.items() if image is None and not (module.check_mode and ref in pending)]
    if missing:
        raise ToolboxError(
            f"registry_push: {', '.join(missing)} not on this host's engine; build them here first "
            "(playbooks/images.yml) or drop them from images. Nothing was pushed."
        )
    with keeping(result):
        for ref, image in found.items():
            reference = decide.published(image, decide.repository(registry, ref))
            tagged = decide.target(registry, ref) in ((image or {}).get("RepoTags") or [])
            asked = reference and tagged and ref not in pending
            answer = registry_answer(module, api, ref, reference) if asked else None
            if decide.is_current(image, registry, ref, answer, pending):
                result["digests"][ref] = reference
                result["current"].append(ref)
                continue
            result["changed"] = True
            result["pushed"].append(ref)
            if module.check_mode:
                continue
            push(api, registry, ref)
            reference = decide.published(inspect(api, ref), decide.repository(registry, ref))
            if not reference:
                raise ToolboxError(
                    f"registry_push: {ref} was pushed to {registry}, but the engine lists no digest for it"
                )
            result["digests"][ref] = reference

        if params["record"]:
            path = params["record"]
            old, before = read_record(module, path)
            record = decide.merged_record(old, registry, result["digests"], keys)
            after = decide.dumps(record)
            result["record"] = record
            if after != before:
                result["changed"] = True
                if module._diff:
                    result["diff"] = {"before": before, "after": after, "before_header": path, "after_header": path}
                if not module.check_mode:
                    try:
                        # 0644, missing parent directories 0755.
                        write_atomically(path, after, make_parents=True)
                    except OSError as exc:
                        raise ToolboxError(f"registry_push: cannot write the record {path}: {exc}") from exc
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "images": {"type": "list", "elements": "str", "required": True},
            "registry": {"type": "str", "required": True},
            # Image names by kind, not key material.
            "keys": {"type": "dict", "default": {}, "no_log": False},
            "pending": {"type": "list", "elements": "str", "default": []},
            "record": {"type": "path"},
            **DOCKER_CLIENT_ARGS,
        },
        supports_check_mode=True,
    )
    run_module(module, execute_module, name="registry_push", needs=(DOCKER_SDK,))


if __name__ == "__main__":
    main()
