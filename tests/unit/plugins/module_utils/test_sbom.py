# SPDX-License-Identifier: GPL-3.0-or-later
"""The SBOM on plain data: which packages count as installed, their purls, and a stable document."""

import json

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils import _sbom as sbom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonValidator
from packageurl import PackageURL

OS_RELEASE = b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
STATUS = b"""\
Package: tini
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 0.19.0-1
Description: tiny but valid init for containers
 Tini is the simplest init you could think of.
 .
 A second paragraph.

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.17-1~deb12u2

Package: docker.io
Status: hold ok installed
Architecture: amd64
Version: 20.10.24+dfsg1-1+deb12u1

Package: login
Status: install ok installed
Architecture: amd64
Source: shadow (1:4.13+dfsg1-1)
Version: 1:4.13+dfsg1-1+b1

Package: vim-tiny
Status: deinstall ok config-files
Architecture: amd64
Version: 2:9.0.1378-2

Package: nano
Status: purge ok not-installed
Architecture: amd64

Package: half
Status: install reinstreq half-installed
Architecture: amd64
Version: 1.0
"""
METADATA = b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0.1\nSummary: YAML parser\n\nLong: description\n"
PACKAGE_JSON = b'{"name": "@modelcontextprotocol/sdk", "version": "1.20.0", "private": false}'
IMAGE_ID = "sha256:" + "ab" * 32


def files(**extra):
    return {
        "etc/os-release": OS_RELEASE,
        "var/lib/dpkg/status": STATUS,
        "usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/METADATA": METADATA,
        "app/node_modules/@modelcontextprotocol/sdk/package.json": PACKAGE_JSON,
        **extra,
    }


def document(found, labels=None, created="2026-03-04T05:06:07.123456789Z", tag="agentopia/tool:1.2"):
    return sbom.document(found, IMAGE_ID, tag, labels or {}, created)


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/lib/dpkg/status", True),
        ("var/lib/dpkg/status-old", False),
        ("etc/os-release", True),
        ("usr/lib/os-release", True),
        ("usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/METADATA", True),
        ("opt/venv/lib/python3.11/site-packages/mcp-1.2.0.dist-info/METADATA", True),
        ("opt/venv/lib/python3.11/site-packages/mcp-1.2.0.dist-info/RECORD", False),
        ("opt/venv/lib/python3.11/site-packages/mcp/METADATA", False),
        ("app/node_modules/left-pad/package.json", True),
        ("app/node_modules/@scope/name/package.json", True),
        ("app/node_modules/a/node_modules/b/package.json", True),
        ("app/node_modules/left-pad/lib/package.json", False),  # a file inside a package, not a package
        ("app/node_modules/.package-lock.json", False),
        ("app/package.json", False),  # the application itself
    ],
)
def test_wanted(path, wanted):
    assert sbom.wanted(path) is wanted


@pytest.mark.parametrize(("name", "path"), [("./etc/os-release", "etc/os-release"), ("/etc/x", "etc/x"),
                                            (".hidden/x", ".hidden/x")])  # fmt: skip
def test_normalize(name, path):
    assert sbom.normalize(name) == path


def test_only_installed_dpkg_stanzas_count():
    packages = sbom.parse_dpkg_status(STATUS.decode())
    assert [p["Package"] for p in packages] == ["tini", "libssl3", "docker.io", "login"]
    assert packages[0]["Version"] == "0.19.0-1"


def test_os_release_is_unquoted():
    assert sbom.parse_os_release(OS_RELEASE.decode())["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)"
    fields = sbom.parse_os_release("# comment\nID='ubuntu'\n\nVERSION_ID=24.04\n")
    assert fields == {"ID": "ubuntu", "VERSION_ID": "24.04"}


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ('{"name": "left-pad", "version": "1.3.0"}', ("left-pad", "1.3.0")),
        ('{"name": "x"}', None),  # no version: not a published package
        ('{"type": "module"}', None),
        ("not json", None),
        ("[1, 2]", None),
    ],
)
def test_package_json(content, found):
    assert sbom.parse_package_json(content) == found


def test_metadata_headers_only():
    assert sbom.parse_metadata(METADATA.decode()) == ("PyYAML", "6.0.1")
    assert sbom.parse_metadata("Metadata-Version: 2.1\nName: x\n") is None


@pytest.mark.parametrize(
    ("package", "qualifiers"),
    [
        ({"Package": "tini", "Version": "0.19.0-1", "Architecture": "amd64"}, {}),
        ({"Package": "libssl3", "Version": "3.0.17-1~deb12u2", "Architecture": "amd64", "Source": "openssl"},
         {"upstream": "openssl"}),
        ({"Package": "login", "Version": "1:4.13+dfsg1-1+b1", "Architecture": "amd64",
          "Source": "shadow (1:4.13+dfsg1-1)"}, {"upstream": "shadow@1:4.13+dfsg1-1"}),
        ({"Package": "libstdc++6", "Version": "12.2.0-14", "Architecture": "amd64", "Source": "libstdc++6"}, {}),
    ],
)  # fmt: skip
def test_deb_purl_matches_the_reference_implementation(package, qualifiers):
    expected = PackageURL(
        "deb", "debian", package["Package"], package["Version"],
        {"arch": package["Architecture"], "distro": "debian-12", **qualifiers},
    ).to_string()  # fmt: skip
    assert sbom.deb_purl(package, {"ID": "debian", "VERSION_ID": "12"}) == expected


def test_deb_source_package_for_scanners():
    by_name = {c["name"]: c for c in sbom.components(files())}
    assert "properties" not in by_name["tini"]
    assert by_name["libssl3"]["properties"] == [{"name": "aquasecurity:trivy:SrcName", "value": "openssl"}]
    assert by_name["login"]["properties"] == [
        {"name": "aquasecurity:trivy:SrcName", "value": "shadow"},
        {"name": "aquasecurity:trivy:SrcVersion", "value": "1:4.13+dfsg1-1"},
    ]


def test_deb_purl_without_os_release_has_no_distro():
    purl = sbom.deb_purl({"Package": "tini", "Version": "1", "Architecture": "all"}, {})
    assert purl == "pkg:deb/debian/tini@1?arch=all"


@pytest.mark.parametrize(
    ("name", "purl"),
    [
        ("PyYAML", "pkg:pypi/pyyaml@6.0.1"),
        ("zope.interface", "pkg:pypi/zope-interface@6.0.1"),
        ("typing_extensions", "pkg:pypi/typing-extensions@6.0.1"),
    ],
)
def test_pypi_purl_uses_the_normalized_name(name, purl):
    assert sbom.pypi_purl(name, "6.0.1") == purl


@pytest.mark.parametrize(
    ("name", "version", "purl"),
    [
        ("@modelcontextprotocol/sdk", "1.20.0", "pkg:npm/%40modelcontextprotocol/sdk@1.20.0"),
        ("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0"),
        ("JSONStream", "1.3.5", "pkg:npm/jsonstream@1.3.5"),
        ("@types/node", "20.1.0-beta.1+b", "pkg:npm/%40types/node@20.1.0-beta.1%2Bb"),
    ],
)
def test_npm_purl(name, version, purl):
    assert sbom.npm_purl(name, version) == purl
    scope, _sep, bare = name.rpartition("/")
    assert PackageURL("npm", scope or None, bare, version).to_string() == purl


def test_components_are_sorted_and_named():
    found = sbom.components(files())
    assert [c["purl"] for c in found] == sorted(c["purl"] for c in found)
    by_name = {c["name"]: c for c in found}
    assert by_name["tini"]["purl"] == "pkg:deb/debian/tini@0.19.0-1?arch=amd64&distro=debian-12"
    assert by_name["PyYAML"]["purl"] == "pkg:pypi/pyyaml@6.0.1"
    assert by_name["@modelcontextprotocol/sdk"]["purl"] == "pkg:npm/%40modelcontextprotocol/sdk@1.20.0"
    assert "vim-tiny" not in by_name and "nano" not in by_name and "half" not in by_name
    assert all(c["bom-ref"] == c["purl"] for c in found)
    assert sbom.counts(found) == {"deb": 4, "npm": 1, "pypi": 1}


def test_duplicates_are_listed_once():
    found = sbom.components(
        files(**{
            "usr/local/lib/python3.11/site-packages/pyyaml-6.0.1.dist-info/METADATA": METADATA,
            "srv/node_modules/@modelcontextprotocol/sdk/package.json": PACKAGE_JSON,
            "srv/node_modules/x/node_modules/@modelcontextprotocol/sdk/package.json": PACKAGE_JSON,
        })
    )  # fmt: skip
    purls = [c["purl"] for c in found]
    assert len(purls) == len(set(purls)) == 6


def test_usr_lib_os_release_when_etc_is_a_link():
    found = files()
    found["usr/lib/os-release"] = found.pop("etc/os-release").replace(b'VERSION_ID="12"', b'VERSION_ID="13"')
    assert "distro=debian-13" in sbom.components(found)[0]["purl"]


def test_empty_image():
    doc = document({}, tag="")
    assert doc["components"] == []
    assert doc["metadata"]["component"]["name"] == IMAGE_ID
    assert JsonValidator(SchemaVersion.V1_5).validate_str(json.dumps(doc)) is None


def test_document_is_valid_cyclonedx():
    error = JsonValidator(SchemaVersion.V1_5).validate_str(sbom.dumps(document(files())).decode())
    assert error is None, error


def test_document_describes_the_image_and_the_os():
    doc = document(files(), labels={"org.opencontainers.image.created": "2026-01-01T01:00:00+01:00"})
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5"
    assert doc["metadata"]["timestamp"] == "2026-01-01T00:00:00Z"
    component = doc["metadata"]["component"]
    assert (component["type"], component["name"], component["version"]) == ("container", "agentopia/tool", "1.2")
    assert component["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    assert doc["components"][0] == {"type": "operating-system", "name": "debian", "version": "12",
                                    "bom-ref": "os:debian@12"}  # fmt: skip


def test_version_label_when_untagged_and_created_time_without_label():
    doc = document(files(), labels={"org.opencontainers.image.version": "0.1.0"}, tag="")
    assert doc["metadata"]["component"]["version"] == "0.1.0"
    assert doc["metadata"]["timestamp"] == "2026-03-04T05:06:07Z"


def test_equal_inputs_give_equal_bytes_and_serial_numbers():
    first, second = sbom.dumps(document(files())), sbom.dumps(document(dict(reversed(files().items()))))
    assert first == second
    other = document(files(**{"app/node_modules/left-pad/package.json": b'{"name": "left-pad", "version": "1"}'}))
    assert other["serialNumber"] != json.loads(first)["serialNumber"]
    assert json.loads(first)["serialNumber"].startswith("urn:uuid:")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2025-11-24T20:05:01.123456789Z", "2025-11-24T20:05:01Z"),
        ("2026-01-01T02:00:00+0200", "2026-01-01T00:00:00Z"),
        ("yesterday", None),
        ("", None),
    ],
)
def test_timestamp(value, expected):
    assert sbom.timestamp(value) == expected


def inspect(labels, layers=("sha256:1",)):
    return {"Config": {"Labels": labels}, "RootFS": {"Layers": list(layers)}}


@pytest.mark.parametrize(
    ("child", "parent", "relabel"),
    [
        (inspect({"a": "1", sbom.SBOM_LABEL: "sha256:2"}), inspect({"a": "1"}), True),
        (inspect({sbom.SBOM_LABEL: "sha256:2"}), inspect({sbom.SBOM_LABEL: "sha256:1"}), True),
        # Built FROM a labelled image: the label is inherited, not set here.
        (inspect({sbom.SBOM_LABEL: "sha256:1", "b": "2"}), inspect({sbom.SBOM_LABEL: "sha256:1"}), False),
        (inspect({sbom.SBOM_LABEL: "sha256:1"}), inspect({sbom.SBOM_LABEL: "sha256:1"}), False),
        (inspect({sbom.SBOM_LABEL: "sha256:2"}, layers=("sha256:1", "sha256:3")), inspect({}), False),
        (inspect({"a": "1"}), inspect({}), False),
    ],
)
def test_is_relabel(child, parent, relabel):
    assert sbom.is_relabel(child, parent) is relabel
