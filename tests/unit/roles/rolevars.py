# SPDX-License-Identifier: GPL-3.0-or-later
"""Render a role's variables with Ansible's own templating, as a play would see them."""

from pathlib import Path

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLES = Path(__file__).resolve().parents[3] / "roles"


def trusted(value):
    """Role files are trusted templates, as they are when Ansible loads the role."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def load(path):
    return trusted(yaml.safe_load(Path(path).read_text()))


def render(expression, files, **variables):
    """Template `expression` (a variable name) with the vars files and the given variables."""
    merged = {}
    for path in files:
        merged.update(load(path))
    merged.update(variables)
    return Templar(loader=DataLoader(), variables=merged).template(merged[expression])


def render_text(text, **variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text))
