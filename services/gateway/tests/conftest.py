# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway's tests run on asyncio (anyio's pytest plugin); their helpers are in gateway_helpers.py."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
