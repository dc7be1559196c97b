# SPDX-License-Identifier: GPL-3.0-or-later
"""The image stage filters as a role calls them: image_work with a role's own input label and default ceiling (the
exporters role's), image_paths with report names of the role's choosing."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.agentopia.toolbox.plugins.filter.image_stage import image_paths, image_work
from ansible_collections.agentopia.toolbox.plugins.module_utils._audit import RULES_VERSION

LABEL = "org.agentopia.exporters.inputs"
PLAN = [
    {"key": key, "ref": f"agentopia/{key}:1", "from": "agentopia/base:1", "report_name": f"exporters-{key}",
     "audit": True, "ship": False}
    for key in ("node-exporter", "container-exporter")
]  # fmt: skip
HASHES = {"node-exporter": "n1", "container-exporter": "c1"}
PATHS = image_paths(PLAN, "/audit", "/sbom")


def state(labels, ceiling=256):
    """A host that built both images with these labels and audited them under `ceiling`."""
    return {
        "images": {
            f"agentopia/{key}:1": {"id": f"sha256:{key}", "ids": [f"sha256:{key}"], "labels": labels(key)}
            for key in HASHES
        },
        "reports": {
            f"/audit/exporters-{key}.json": {
                "image_id": f"sha256:{key}",
                "policy": {"max_size_mb": ceiling, "rules_version": RULES_VERSION},
                "rules": [],
            }
            for key in HASHES
        },
        "files": {},
    }


def keys(work):
    return [(w["key"], w["build"], w["audit"], w["sbom"]) for w in work]


def test_the_role_label_makes_an_image_current():
    host = state(lambda key: {LABEL: HASHES[key]})
    assert image_work(PLAN, HASHES, host, PATHS, {}, [], 256, label=LABEL) == []
    # The default label is the mcp_images one: these images would all be rebuilt.
    assert [k[0] for k in keys(image_work(PLAN, HASHES, host, PATHS, {}, [], 256))] == list(HASHES)
    # A changed input rebuilds (and so audits) that image alone; no SBOM for images that are not shipped.
    changed = {**HASHES, "container-exporter": "c2"}
    assert keys(image_work(PLAN, changed, host, PATHS, {}, [], 256, label=LABEL)) == [
        ("container-exporter", True, True, False)
    ]
    # The role's default ceiling counts: a report written under another one is audited again.
    assert keys(image_work(PLAN, HASHES, host, PATHS, {"node-exporter": 100}, [], 256, label=LABEL)) == [
        ("node-exporter", False, True, False)
    ]


def test_work_entries_carry_the_role_report_paths():
    (entry, _other) = image_work(PLAN, HASHES, {}, PATHS, {}, [], 256, label=LABEL)
    assert entry["report_json"] == "/audit/exporters-node-exporter.json"
    assert entry["report_junit"] == "/audit/exporters-node-exporter.xml"
    assert entry["inputs"] == "n1"


@pytest.mark.parametrize("label", ["", None, 3])
def test_a_label_that_is_no_label_name_is_an_error(label):
    with pytest.raises(AnsibleFilterError, match="label must be"):
        image_work(PLAN, HASHES, {}, PATHS, {}, [], 256, label=label)
