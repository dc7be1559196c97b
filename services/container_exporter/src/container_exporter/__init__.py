# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-container CPU, memory, network and restart metrics under cAdvisor's names, read from cgroups v1 or v2."""

__version__ = "0.1.0"
