# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What registry_push decides on plain data (private to the collection).

The inputs are the engine's own image inspect dicts (``Id``, ``RepoTags``, ``RepoDigests``) and the digest the
registry answered for a manifest (or None when it has none); the module keeps the engine calls. The record is
the JSON file the registry role keeps on the registry host (what was published there), read back by later
stages that did not push anything themselves.
"""

from __future__ import annotations

import json
from typing import Any

RECORD_SCHEMA = 1


class RecordError(ValueError):
    """A record file that is not one the registry role wrote."""


def split_ref(ref: str) -> tuple[str, str]:
    """``name:tag`` -> (name, tag); a registry host's port is part of the name, never the tag."""
    name, sep, tag = ref.rpartition(":")
    if not sep or not name or not tag or "/" in tag or "@" in ref:
        raise ValueError(f"{ref!r} is not a local name:tag reference (such as agentopia/base:1.0)")
    return name, tag


def repository(registry: str, ref: str) -> str:
    """The image's repository in the registry: ``address:port/name``."""
    return f"{registry}/{split_ref(ref)[0]}"


def target(registry: str, ref: str) -> str:
    """The tag the image carries for the registry: ``address:port/name:tag``."""
    return f"{registry}/{ref}"


def published(image: dict[str, Any] | None, repo: str) -> str:
    """The reference by digest the image has in ``repo`` (``repo@sha256:...``), '' when it was never pushed there.

    The engine's first RepoDigest of that repository, as the role has always published it.
    """
    for digest_ref in (image or {}).get("RepoDigests") or []:
        if digest_ref.startswith(repo + "@"):
            return digest_ref
    return ""


def digest_of(reference: str) -> str:
    """``repo@sha256:...`` -> ``sha256:...``."""
    return reference.rpartition("@")[2]


def is_current(
    image: dict[str, Any] | None, registry: str, ref: str, answer: str | None, pending: frozenset[str] = frozenset()
) -> bool:
    """True when nothing is to be done for ``ref``: the local image carries the registry tag and a digest of the
    registry's repository, and the registry still holds that manifest (``answer``, the digest it answered for
    it, is that digest). A rebuilt image is a new ID without that digest; a registry that lost its data (a new
    volume) answers None. A ref in ``pending`` (an image the images stage will rebuild: its check run's preview)
    is never current, whatever the local image and the registry say."""
    if not image or ref in pending:
        return False
    reference = published(image, repository(registry, ref))
    return (
        bool(reference)
        and target(registry, ref) in (image.get("RepoTags") or [])
        and answer is not None
        and answer == digest_of(reference)
    )


def push_error(message: dict[str, Any]) -> str:
    """The error of one line of the engine's push stream, '' for a progress line."""
    detail = message.get("errorDetail") or {}
    return str(message.get("error") or detail.get("message") or "")


def check_keys(keys: dict[str, str], images: list[str]) -> None:
    """Every key names one of the images pushed in the same call."""
    for key, ref in sorted(keys.items()):
        if ref not in images:
            raise ValueError(f"keys.{key} names {ref!r}, which is not one of images; add it to images or drop the key")


def check_pending(pending: list[str], images: list[str]) -> None:
    """Every pending image is one of the images of the same call."""
    for ref in pending:
        if ref not in images:
            raise ValueError(
                f"pending names {ref!r}, which is not one of images; add it to images or drop it from pending"
            )


def merged_record(
    old: dict[str, Any] | None, registry: str, digests: dict[str, str], keys: dict[str, str]
) -> dict[str, Any]:
    """The record after a push: what an earlier push recorded for the same registry, updated with this one.

    Images pushed earlier stay recorded (the registry keeps them: a registry stage run without the images stage
    pushes fewer, and must not make later stages forget the others); a record for another registry address is
    replaced. Digests not known (check mode, an image still to push) are not recorded.
    """
    same = old is not None and old.get("registry") == registry
    known = {ref: reference for ref, reference in digests.items() if reference}
    return {
        "schema": RECORD_SCHEMA,
        "registry": registry,
        "digests": dict(sorted({**(old["digests"] if same else {}), **known}.items())),
        "keys": dict(sorted({**(old["keys"] if same else {}), **keys}.items())),
    }


def dumps(record: dict[str, Any]) -> str:
    """The record file's text: stable, so an unchanged record is the same bytes."""
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _string_map(value: Any, field: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise RecordError(f"its {field} is not a map of strings")
    return dict(value)


def loads(text: str) -> dict[str, Any]:
    """A record file's text -> the record; RecordError when it is not one the registry role wrote."""
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"it is not JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("schema") != RECORD_SCHEMA:
        raise RecordError(f"it is not a schema {RECORD_SCHEMA} record of the registry role")
    if not isinstance(record.get("registry"), str):
        raise RecordError("it names no registry")
    return {
        "schema": RECORD_SCHEMA,
        "registry": record["registry"],
        "digests": _string_map(record.get("digests", {}), "digests"),
        "keys": _string_map(record.get("keys", {}), "keys"),
    }


def images_by_key(record: dict[str, Any]) -> dict[str, str]:
    """Key (an MCP kind, ``gateway``, ``postgresql``) -> the reference by digest the record holds for its image;
    keys whose image has no recorded digest are left out."""
    return {key: record["digests"][ref] for key, ref in sorted(record["keys"].items()) if record["digests"].get(ref)}
