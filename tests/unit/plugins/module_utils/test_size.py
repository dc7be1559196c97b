# SPDX-License-Identifier: GPL-3.0-or-later
import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils._size import canonical_size, is_size, size_bytes


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("256M", 256 * 1024**2),
        ("1G", 1024**3),
        ("512k", 512 * 1024),
        ("64m", 64 * 1024**2),
        ("4096", 4096),
        (1024, 1024),
    ],
)
def test_size_bytes(size, expected):
    assert size_bytes(size) == expected


@pytest.mark.parametrize("size", ["", "M", "1.5G", "256MB", "-1M", "1T", "256M\n", True])
def test_size_bytes_refuses_what_is_not_a_size(size):
    with pytest.raises(ValueError, match="is not a size"):
        size_bytes(size)


@pytest.mark.parametrize(("value", "ok"), [("256M", True), ("1g", True), ("0M", False), ("256", False), (256, False)])
def test_is_size_is_what_a_spec_accepts(value, ok):
    assert is_size(value) is ok


def test_canonical_size_upper_cases_the_unit():
    assert canonical_size("256m") == "256M"
    assert canonical_size("1G") == "1G"
