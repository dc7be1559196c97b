# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CycloneDX SBOM of an image: pure functions over the few files of its filesystem that list packages.

The module streams the image's filesystem, keeps the files `wanted()` names, and passes them here
as {path: bytes}. Nothing here talks to Docker, so the parsing is unit-tested on plain data, and
equal inputs always give the same document, byte for byte.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from email.parser import HeaderParser
from urllib.parse import quote

SPEC_VERSION = "1.5"
# Set on the image by image_sbom: sha256 of the SBOM file written for it.
SBOM_LABEL = "org.agentopia.sbom.digest"
CREATED_LABEL = "org.opencontainers.image.created"
VERSION_LABEL = "org.opencontainers.image.version"
# uuid5 namespace of serial numbers: equal documents get equal serial numbers.
SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/agentopia/toolbox/sbom")
# Larger files than this are not package databases; reading them would only cost memory.
MAX_FILE_BYTES = 64 * 1024 * 1024

DPKG_STATUS = "var/lib/dpkg/status"
OS_RELEASE = ("etc/os-release", "usr/lib/os-release")  # the first one found wins
DIST_INFO = re.compile(r"(^|/)(site|dist)-packages/[^/]+\.dist-info/METADATA$")
# A package's own package.json: node_modules/<name>/ or node_modules/@<scope>/<name>/, not files deeper in it.
NODE_PACKAGE = re.compile(r"(^|/)node_modules/(@[^/]+/)?[^/@.][^/]*/package\.json$")


def normalize(path: str) -> str:
    """A tar member name as a path relative to the image root: etc/os-release."""
    return re.sub(r"^(\./)+", "", path).lstrip("/")


def wanted(path: str) -> bool:
    """Whether the file at path (relative to the image root) lists packages or the OS."""
    return path == DPKG_STATUS or path in OS_RELEASE or bool(DIST_INFO.search(path) or NODE_PACKAGE.search(path))


def text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def parse_os_release(content: str) -> dict:
    """KEY=value lines of os-release(5), unquoted."""
    fields = {}
    for line in content.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            fields[key] = value
    return fields


def installed(status: str) -> bool:
    """dpkg's Status is "want flag state": "install ok installed", or "hold ok installed" for a held package
    (the docker_engine role holds the engine); "deinstall ok config-files" and the like are not installed."""
    return status.split() in (["install", "ok", "installed"], ["hold", "ok", "installed"])


def parse_dpkg_status(content: str) -> list[dict]:
    """Fields of every stanza of an installed package (not removed, half-installed or config-only)."""
    packages = []
    for stanza in re.split(r"\n\s*\n", content):
        fields = {}
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") or ":" not in line:
                continue  # continuation lines (descriptions, conffiles) are not needed
            key, _sep, value = line.partition(":")
            fields[key.strip()] = value.strip()
        if fields.get("Package") and fields.get("Version") and installed(fields.get("Status", "")):
            packages.append(fields)
    return packages


def parse_metadata(content: str) -> tuple[str, str] | None:
    """(Name, Version) from a dist-info METADATA file (email header format)."""
    headers = HeaderParser().parsestr(content, headersonly=True)
    name, version = (headers.get("Name") or "").strip(), (headers.get("Version") or "").strip()
    return (name, version) if name and version else None


def parse_package_json(content: str) -> tuple[str, str] | None:
    """(name, version) from a package.json; None for a broken or unnamed one."""
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    name, version = data.get("name"), data.get("version")
    if isinstance(name, str) and isinstance(version, str) and name.strip() and version.strip():
        return name.strip(), version.strip()
    return None


def _q(value: str) -> str:
    return quote(value, safe=":")


def deb_source(package: dict) -> tuple[str, str] | None:
    """(source name, source version or "") when the source package differs from the binary one: libssl3 comes
    from openssl. Debian files advisories by source package; scanners need it to match binaries."""
    source = re.match(r"^(\S+)(?:\s+\((\S+)\))?$", package.get("Source", ""))
    if source and (source.group(1) != package["Package"] or source.group(2)):
        return source.group(1), source.group(2) or ""
    return None


def deb_purl(package: dict, os_release: dict) -> str:
    """pkg:deb/debian/<name>@<version>?arch=<arch>&distro=debian-<VERSION_ID>, plus upstream=<source>
    when the source package has another name or version (how grype finds advisories filed by source)."""
    distro_id = os_release.get("ID") or "debian"
    qualifiers = {}
    if package.get("Architecture"):
        qualifiers["arch"] = package["Architecture"]
    if os_release.get("VERSION_ID"):
        qualifiers["distro"] = f"{distro_id}-{os_release['VERSION_ID']}"
    source = deb_source(package)
    if source:
        qualifiers["upstream"] = source[0] + (f"@{source[1]}" if source[1] else "")
    query = "&".join(f"{key}={_q(value)}" for key, value in sorted(qualifiers.items()))
    return f"pkg:deb/{_q(distro_id)}/{_q(package['Package'])}@{_q(package['Version'])}" + (f"?{query}" if query else "")


def pypi_name(name: str) -> str:
    """PEP 503 normalized name: PyYAML -> pyyaml, zope.interface -> zope-interface."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pypi_purl(name: str, version: str) -> str:
    return f"pkg:pypi/{_q(pypi_name(name))}@{_q(version)}"


def npm_purl(name: str, version: str) -> str:
    """pkg:npm/<name>@<version>; a scope is the namespace, its @ encoded: pkg:npm/%40scope/name@1.0.0."""
    scope, _sep, bare = name.lower().rpartition("/")
    return "pkg:npm/" + (f"{_q(scope)}/" if scope else "") + f"{_q(bare)}@{_q(version)}"


def _component(purl: str, name: str, version: str) -> dict:
    return {"type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl}


def deb_component(package: dict, os_release: dict) -> dict:
    component = _component(deb_purl(package, os_release), package["Package"], package["Version"])
    source = deb_source(package)
    if source:
        # trivy reads the source package only from its own properties (grype reads the purl's upstream).
        component["properties"] = [{"name": "aquasecurity:trivy:SrcName", "value": source[0]}]
        if source[1]:
            component["properties"].append({"name": "aquasecurity:trivy:SrcVersion", "value": source[1]})
    return component


def os_release_of(files: dict) -> dict:
    for path in OS_RELEASE:
        if path in files:
            return parse_os_release(text(files[path]))
    return {}


def components(files: dict) -> list[dict]:
    """Every package the files list, one component per purl, sorted by purl."""
    os_release = os_release_of(files)
    found = {}
    for path in sorted(files):
        content = text(files[path])
        if path == DPKG_STATUS:
            for package in parse_dpkg_status(content):
                found.setdefault(deb_purl(package, os_release), deb_component(package, os_release))
        elif DIST_INFO.search(path) and (meta := parse_metadata(content)):
            found.setdefault(pypi_purl(*meta), _component(pypi_purl(*meta), *meta))
        elif NODE_PACKAGE.search(path) and (meta := parse_package_json(content)):
            found.setdefault(npm_purl(*meta), _component(npm_purl(*meta), *meta))
    return [found[purl] for purl in sorted(found)]


def counts(packages: list[dict]) -> dict:
    """Components by purl type: {"deb": 80, "npm": 0, "pypi": 3}."""
    result = {"deb": 0, "npm": 0, "pypi": 0}
    for component in packages:
        kind = component["purl"][4:].split("/", 1)[0]
        result[kind] = result.get(kind, 0) + 1
    return result


def timestamp(value: str) -> str | None:
    """An RFC 3339 time in UTC to the second (Docker gives nanoseconds, Python parses microseconds)."""
    match = re.match(r"^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)$", (value or "").strip())
    if not match:
        return None
    zone = match.group(3).replace(":", "")
    zone = "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.datetime.fromisoformat(match.group(1).replace(" ", "T") + zone)
    except ValueError:
        return None
    # Not datetime.UTC: targets may run Python 3.10 (Ubuntu 22.04).
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: UP017


def is_relabel(child: dict, parent: dict) -> bool:
    """Whether child (image inspect data) is parent with only the SBOM label set or changed, as image_sbom
    makes it: same layers, same other labels. An image built FROM a labelled one inherits the label, so the
    label alone does not tell."""
    child_labels = dict((child.get("Config") or {}).get("Labels") or {})
    parent_labels = dict((parent.get("Config") or {}).get("Labels") or {})
    digest = child_labels.pop(SBOM_LABEL, None)
    return (
        digest is not None
        and digest != parent_labels.pop(SBOM_LABEL, None)
        and child_labels == parent_labels
        and (child.get("RootFS") or {}).get("Layers") == (parent.get("RootFS") or {}).get("Layers")
    )


def image_component(image_id: str, tag: str, labels: dict) -> dict:
    """metadata.component: the image, named by repository:tag (or its ID when untagged), its ID as SHA-256 hash."""
    name, version = image_id, labels.get(VERSION_LABEL, "")
    if tag:
        name, _sep, version = tag.rpartition(":")
    component = {"type": "container", "bom-ref": image_id, "name": name}
    if version:
        component["version"] = version
    component["hashes"] = [{"alg": "SHA-256", "content": image_id.partition(":")[2] or image_id}]
    return component


def document(files: dict, image_id: str, tag: str, labels: dict, created: str) -> dict:
    """The CycloneDX document for an image: its packages, the OS, the image as metadata.component.

    files: {path relative to the image root: bytes} as `wanted()` picked them.
    tag: repository:tag the image is known by ("" when untagged); labels, created: from image inspect.
    """
    packages = components(files)
    os_release = os_release_of(files)
    listed = []
    if os_release.get("ID"):
        # Scanners (trivy) take the distribution from this component, and skip OS packages without it.
        system = {"type": "operating-system", "name": os_release["ID"]}
        if os_release.get("VERSION_ID"):
            system["version"] = os_release["VERSION_ID"]
        system["bom-ref"] = "os:" + os_release["ID"] + (f"@{os_release['VERSION_ID']}" if "version" in system else "")
        listed.append(system)
    listed.extend(packages)
    metadata = {
        "tools": {"components": [{"type": "application", "group": "agentopia.toolbox", "name": "image_sbom"}]},
        "component": image_component(image_id, tag, labels),
    }
    when = timestamp(labels.get(CREATED_LABEL, "")) or timestamp(created)
    if when:
        metadata = {"timestamp": when, **metadata}
    body = {"metadata": metadata, "components": listed}
    serial = uuid.uuid5(SERIAL_NAMESPACE, json.dumps(body, sort_keys=True))
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        **body,
    }


def dumps(doc: dict) -> bytes:
    """The file's bytes: fixed key order, two-space indent, one trailing newline."""
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
