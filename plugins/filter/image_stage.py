# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The image stages' decisions (roles mcp_images and exporters) as filters: where each image's reports are, what its
bases contribute to the input hashes, and which images need a build, an audit or an SBOM
(plugins/module_utils/_image_inputs.py)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.module_utils import _image_inputs as inputs
from ansible_collections.agentopia.toolbox.plugins.module_utils._audit import INFORMATIONAL, RULES_VERSION


def image_paths(plan: list[dict[str, Any]], report_dir: str, sbom_dir: str) -> dict[str, dict[str, str]]:
    return inputs.report_paths(plan, report_dir, sbom_dir)


def image_bases(
    plan: list[dict[str, Any]], images: dict[str, Any], recorded: dict[str, str] | None = None
) -> dict[str, str]:
    """Base reference (a parent that is no image of the plan) -> its identity, from image_state's images and the
    input hashes the base_image role recorded in this run (base_image_inputs)."""
    refs = {image["ref"] for image in plan}
    bases = sorted({image[f] for image in plan for f in ("from", "build_from") if image.get(f)} - refs)
    return {ref: inputs.base_identity(images.get(ref), (recorded or {}).get(ref)) for ref in bases}


def image_work(
    plan: list[dict[str, Any]], hashes: dict[str, str], state: dict[str, Any], paths: dict[str, dict[str, str]],
    max_size_mb: dict[str, int], ignore: list[str], default_max_size_mb: int = 512, label: str = inputs.INPUTS_LABEL,
) -> list[dict[str, Any]]:  # fmt: skip
    """The plan entries that need work, with build/audit/sbom flags, their input hash and report paths; `label` is
    the image label that holds an image's input hash (org.agentopia.mcp.inputs unless the role has its own)."""
    if not isinstance(label, str) or not label:
        raise AnsibleFilterError(f"image_work: label must be the name of an image label (got {label!r})")
    policy = {
        "max_size_mb": dict(max_size_mb or {}),
        "default_max_size_mb": default_max_size_mb,
        "ignore": list(ignore or []),
        "rules_version": RULES_VERSION,
        "informational": INFORMATIONAL,
    }
    try:
        return inputs.stage_work(plan, hashes, state, paths, policy, label)
    except KeyError as error:
        raise AnsibleFilterError(
            f"image_work: no {error} for an image of the plan; "
            "pass image_contexts' inputs and image_paths of the same plan"
        ) from None


class FilterModule:
    def filters(self):
        return {"image_paths": image_paths, "image_bases": image_bases, "image_work": image_work}
