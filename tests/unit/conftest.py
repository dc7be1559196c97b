# SPDX-License-Identifier: GPL-3.0-or-later
"""Load this checkout as the collection agentopia.toolbox, the way ansible-playbook does."""

from pathlib import Path

from ansible.plugins.loader import init_plugin_loader

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".collections"
if not (COLLECTIONS / "ansible_collections/agentopia/toolbox").exists():
    raise RuntimeError("run `make venv` first: it links this checkout into .collections/")
# Installs Ansible's collection finder: imports of ansible_collections.agentopia.toolbox.*
# and collection filters in templates both resolve to this checkout.
init_plugin_loader([str(COLLECTIONS)])
