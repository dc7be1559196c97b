# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake Docker API per test (exporter_samples.FakeDocker)."""

from __future__ import annotations

import pytest
from exporter_samples import FakeDocker


@pytest.fixture
def docker() -> FakeDocker:
    return FakeDocker()
