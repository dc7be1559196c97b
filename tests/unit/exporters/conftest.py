# SPDX-License-Identifier: GPL-3.0-or-later
"""The container exporter's package on sys.path (through exporter_samples) and a fake Docker API per test."""

from __future__ import annotations

import pytest
from exporter_samples import FakeDocker


@pytest.fixture
def docker() -> FakeDocker:
    return FakeDocker()
