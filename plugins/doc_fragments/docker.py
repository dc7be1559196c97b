# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  docker_host:
    description: The Docker engine to talk to, as a C(unix://) or C(tcp://) URL.
    type: str
    default: unix:///var/run/docker.sock
  timeout:
    description: Seconds to wait for an answer from the engine.
    type: int
    default: 60
requirements:
  - Docker SDK for Python (Debian's C(python3-docker); the docker_engine role installs it)
"""
