# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory sizes like ``256M``: the one parser the spec checks and the Swarm rendering share (private)."""

from __future__ import annotations

import re
from typing import Any

# What a toolbox spec accepts: a whole number and a unit, like 256M (the schema's pattern).
SIZE_PATTERN = r"^[1-9][0-9]{0,9}[KMGkmg]$"
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
_SIZE = re.compile(r"(\d+)([KMG]?)", re.IGNORECASE)


def is_size(value: Any) -> bool:
    """True for a size a spec may hold (``256M``, ``1g``)."""
    return isinstance(value, str) and re.fullmatch(SIZE_PATTERN.removeprefix("^").removesuffix("$"), value) is not None


def size_bytes(size: str | int) -> int:
    """``'256M'`` -> bytes; a number, or digits without a unit, is bytes already."""
    if isinstance(size, int) and not isinstance(size, bool):
        return size
    match = _SIZE.fullmatch(str(size))
    if match is None:
        raise ValueError(f"{size!r} is not a size like 256M")
    number, unit = match.groups()
    return int(number) * UNITS[unit.upper()]


def canonical_size(size: str) -> str:
    """The spelling a deployment compares: an upper-case unit (``256m`` -> ``256M``)."""
    return size[:-1] + size[-1].upper()
