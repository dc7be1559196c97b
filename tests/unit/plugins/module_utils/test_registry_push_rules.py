# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_push's decisions on image inspect data shaped as a Docker 20.10 engine answers it."""

import json

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _registry_push as rp

REGISTRY = "molecule-tb1:5000"
MEMORY_ID = "sha256:6f1d1c3b8e0a4f5e9d2c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e"
MEMORY_DIGEST = "sha256:9b2c41f0e5d8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2"
OLD_DIGEST = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

# agentopia/mcp-memory:0.1.0 after a push to the registry: the engine keeps the registry tag and the digest.
PUSHED = {
    "Id": MEMORY_ID,
    "RepoTags": ["agentopia/mcp-memory:0.1.0", "molecule-tb1:5000/agentopia/mcp-memory:0.1.0"],
    "RepoDigests": [f"molecule-tb1:5000/agentopia/mcp-memory@{MEMORY_DIGEST}"],
    "Config": {"Labels": {"org.agentopia.image.inputs": "4c1f"}},
}
# Freshly built (or loaded with docker load): no registry tag, no digest.
BUILT = {"Id": MEMORY_ID, "RepoTags": ["agentopia/mcp-memory:0.1.0"], "RepoDigests": [], "Config": {}}
# Rebuilt under the same tag: the registry tag stayed on the old image, the new one has neither.
REBUILT = {"Id": "sha256:" + "2" * 64, "RepoTags": ["agentopia/mcp-memory:0.1.0"], "RepoDigests": None}
# Pulled from Docker Hub once and pushed to another registry: digests of other repositories come first.
ELSEWHERE = {
    "Id": MEMORY_ID,
    "RepoTags": ["agentopia/mcp-memory:0.1.0", "molecule-tb1:5000/agentopia/mcp-memory:0.1.0"],
    "RepoDigests": [
        f"registry.example.org:5000/agentopia/mcp-memory@{OLD_DIGEST}",
        f"molecule-tb1:5000/agentopia/mcp-memory-extra@{OLD_DIGEST}",
        f"molecule-tb1:5000/agentopia/mcp-memory@{MEMORY_DIGEST}",
    ],
}


@pytest.mark.parametrize(
    ("ref", "name", "tag"),
    [
        ("agentopia/base:0.1.0", "agentopia/base", "0.1.0"),
        ("localhost:5000/agentopia/base:1", "localhost:5000/agentopia/base", "1"),
        ("busybox:latest", "busybox", "latest"),
    ],
)
def test_split_ref(ref, name, tag):
    assert rp.split_ref(ref) == (name, tag)


@pytest.mark.parametrize(
    "ref", ["agentopia/base", "localhost:5000/agentopia/base", "agentopia/base@sha256:ab", ":1", "a:"]
)
def test_split_ref_refuses_what_is_not_name_tag(ref):
    with pytest.raises(ValueError, match="not a local name:tag"):
        rp.split_ref(ref)


def test_repository_and_target():
    assert rp.repository(REGISTRY, "agentopia/mcp-memory:0.1.0") == "molecule-tb1:5000/agentopia/mcp-memory"
    assert rp.target(REGISTRY, "agentopia/mcp-memory:0.1.0") == "molecule-tb1:5000/agentopia/mcp-memory:0.1.0"


def test_published_is_the_first_digest_of_that_repository_only():
    repo = "molecule-tb1:5000/agentopia/mcp-memory"
    assert rp.published(ELSEWHERE, repo) == f"{repo}@{MEMORY_DIGEST}"
    assert rp.published(PUSHED, repo) == f"{repo}@{MEMORY_DIGEST}"
    assert rp.published(BUILT, repo) == ""
    assert rp.published(REBUILT, repo) == ""
    assert rp.published(None, repo) == ""


@pytest.mark.parametrize(
    ("image", "answer", "current"),
    [
        (PUSHED, MEMORY_DIGEST, True),
        (ELSEWHERE, MEMORY_DIGEST, True),
        # The registry lost the manifest (a new data volume): push again.
        (PUSHED, None, False),
        # An answer for another manifest is not this image.
        (PUSHED, OLD_DIGEST, False),
        (BUILT, None, False),
        (REBUILT, None, False),
        (None, MEMORY_DIGEST, False),
        # The registry tag was removed locally: tag and push again, though the registry has the manifest.
        ({**PUSHED, "RepoTags": ["agentopia/mcp-memory:0.1.0"]}, MEMORY_DIGEST, False),
    ],
)
def test_is_current(image, answer, current):
    assert rp.is_current(image, REGISTRY, "agentopia/mcp-memory:0.1.0", answer) is current


def test_a_pending_image_is_never_current():
    # The images stage's check run will rebuild it: the local image and the registry still hold the old one.
    pending = frozenset({"agentopia/mcp-memory:0.1.0"})
    assert rp.is_current(PUSHED, REGISTRY, "agentopia/mcp-memory:0.1.0", MEMORY_DIGEST, pending) is False
    assert rp.is_current(None, REGISTRY, "agentopia/mcp-memory:0.1.0", None, pending) is False
    # Pending for another image says nothing about this one.
    other = frozenset({"agentopia/mcp-time:0.1.0"})
    assert rp.is_current(PUSHED, REGISTRY, "agentopia/mcp-memory:0.1.0", MEMORY_DIGEST, other) is True


def test_check_pending():
    rp.check_pending([], ["agentopia/mcp-memory:0.1.0"])
    rp.check_pending(["agentopia/mcp-memory:0.1.0"], ["agentopia/base:0.1.0", "agentopia/mcp-memory:0.1.0"])
    with pytest.raises(ValueError, match=r"pending names 'agentopia/mcp-time:0.1.0', which is not one of images"):
        rp.check_pending(["agentopia/mcp-time:0.1.0"], ["agentopia/mcp-memory:0.1.0"])


def test_push_error():
    assert rp.push_error({"status": "Pushed", "progressDetail": {}, "id": "a1b2"}) == ""
    assert rp.push_error({"status": "0.1.0: digest: sha256:ab size: 1570", "aux": {"Digest": "sha256:ab"}}) == ""
    assert (
        rp.push_error(
            {
                "errorDetail": {"message": "unauthorized: authentication required"},
                "error": "unauthorized: authentication required",
            }
        )
        == "unauthorized: authentication required"
    )
    assert rp.push_error({"errorDetail": {"message": "blob upload unknown"}}) == "blob upload unknown"


def test_check_keys():
    rp.check_keys({"memory": "agentopia/mcp-memory:0.1.0"}, ["agentopia/mcp-memory:0.1.0"])
    with pytest.raises(ValueError, match=r"keys.gateway names 'agentopia/gateway:0.1.0'"):
        rp.check_keys({"gateway": "agentopia/gateway:0.1.0"}, ["agentopia/mcp-memory:0.1.0"])


MEMORY_REF = f"{REGISTRY}/agentopia/mcp-memory@{MEMORY_DIGEST}"
BASE_REF = f"{REGISTRY}/agentopia/base@{OLD_DIGEST}"


def test_merged_record_keeps_earlier_images_and_takes_new_digests():
    old = {
        "schema": 1,
        "registry": REGISTRY,
        "digests": {
            "agentopia/mcp-memory:0.1.0": f"{REGISTRY}/agentopia/mcp-memory@{OLD_DIGEST}",
            "agentopia/base:0.1.0": BASE_REF,
        },
        "keys": {"memory": "agentopia/mcp-memory:0.1.0", "time": "agentopia/mcp-time:0.1.0"},
    }
    record = rp.merged_record(
        old, REGISTRY, {"agentopia/mcp-memory:0.1.0": MEMORY_REF}, {"memory": "agentopia/mcp-memory:0.1.0"}
    )
    assert record == {
        "schema": 1,
        "registry": REGISTRY,
        "digests": {"agentopia/base:0.1.0": BASE_REF, "agentopia/mcp-memory:0.1.0": MEMORY_REF},
        "keys": {"memory": "agentopia/mcp-memory:0.1.0", "time": "agentopia/mcp-time:0.1.0"},
    }
    # The same push again is the same bytes: the module reports no change.
    assert rp.dumps(rp.merged_record(record, REGISTRY, {"agentopia/mcp-memory:0.1.0": MEMORY_REF}, {})) == rp.dumps(
        record
    )


def test_merged_record_for_another_registry_starts_over_and_skips_unknown_digests():
    old = {
        "schema": 1,
        "registry": "old.example:5000",
        "digests": {"agentopia/base:0.1.0": "old.example:5000/agentopia/base@x"},
        "keys": {"base": "agentopia/base:0.1.0"},
    }
    record = rp.merged_record(
        old, REGISTRY, {"agentopia/mcp-memory:0.1.0": MEMORY_REF, "agentopia/gateway:0.1.0": ""}, {}
    )
    assert record["digests"] == {"agentopia/mcp-memory:0.1.0": MEMORY_REF}
    assert record["keys"] == {}
    assert rp.merged_record(None, REGISTRY, {}, {}) == {"schema": 1, "registry": REGISTRY, "digests": {}, "keys": {}}


def test_loads_round_trip_and_images_by_key():
    record = rp.merged_record(
        None,
        REGISTRY,
        {"agentopia/mcp-memory:0.1.0": MEMORY_REF},
        {"memory": "agentopia/mcp-memory:0.1.0", "gateway": "agentopia/gateway:0.1.0"},
    )
    assert rp.loads(rp.dumps(record)) == record
    # gateway's image has no recorded digest: left out rather than given an empty reference.
    assert rp.images_by_key(record) == {"memory": MEMORY_REF}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "not JSON"),
        ("[]", "not a schema 1 record"),
        (json.dumps({"schema": 2, "registry": REGISTRY}), "not a schema 1 record"),
        (json.dumps({"schema": 1}), "names no registry"),
        (json.dumps({"schema": 1, "registry": REGISTRY, "digests": {"a:1": 3}}), "digests is not a map of strings"),
        (json.dumps({"schema": 1, "registry": REGISTRY, "keys": ["memory"]}), "keys is not a map of strings"),
    ],
)
def test_loads_refuses_what_is_not_a_record(text, reason):
    with pytest.raises(rp.RecordError, match=reason):
        rp.loads(text)
