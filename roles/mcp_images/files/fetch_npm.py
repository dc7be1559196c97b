# SPDX-License-Identifier: GPL-3.0-or-later
"""Fetch one npm registry tarball, check its Subresource Integrity, unpack it (build stage only).

Usage: fetch_npm.py REGISTRY NAME VERSION INTEGRITY DEST
Used where no npm exists yet (Node itself, and npm): stdlib only, so the base's python3 runs it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request


def fetch(registry: str, name: str, version: str, integrity: str) -> bytes:
    algorithm, expected = integrity.split("-", 1) if "-" in integrity else (integrity, "")
    if algorithm not in ("sha512", "sha384", "sha256") or not expected:
        raise SystemExit(f"fetch_npm: integrity must be <sha512|sha384|sha256>-<base64>, got {integrity!r}")
    url = f"{registry.rstrip('/')}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"fetch_npm: {url} does not match its pinned integrity ({algorithm}-{actual} != {integrity})")
    return data


def unpack(data: bytes, dest: str) -> None:
    """Unpack the tarball's package/ folder into dest, refusing any path that leaves it."""
    root = os.path.realpath(dest)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = []
        for member in archive.getmembers():
            if not (member.isfile() or member.isdir()):
                continue  # npm tarballs hold files and folders only
            name = member.name.split("/", 1)[1] if "/" in member.name else ""
            target = os.path.realpath(os.path.join(root, name))
            if not name or not target.startswith(root + os.sep):
                continue
            member.name = name
            member.uid = member.gid = 0
            member.uname = member.gname = "root"
            members.append(member)
        archive.extractall(root, members=members)


def main(argv: list[str]) -> int:
    if len(argv) != 6:
        raise SystemExit("usage: fetch_npm.py REGISTRY NAME VERSION INTEGRITY DEST")
    registry, name, version, integrity, dest = argv[1:]
    os.makedirs(dest, exist_ok=True)
    unpack(fetch(registry, name, version, integrity), dest)
    print(f"fetch_npm: {name}@{version} -> {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
