# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role documents every default, with the same value, in meta/argument_specs.yml."""

import pytest
import yaml
from rolevars import ROLES

ROLE_NAMES = sorted(p.name for p in ROLES.iterdir() if (p / "defaults/main.yml").exists())


def test_every_role_is_checked():
    assert {"base_image", "docker_engine", "registry", "swarm"} <= set(ROLE_NAMES)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_argument_specs_describe_every_default(role):
    defaults = yaml.safe_load((ROLES / role / "defaults/main.yml").read_text())
    options = yaml.safe_load((ROLES / role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"][
        "options"
    ]
    # Required options (a password, say) have no default by design.
    assert set(defaults) == {name for name, spec in options.items() if not spec.get("required")}
    for name, value in defaults.items():
        assert options[name]["default"] == value, name
        assert options[name].get("description"), name
        assert name.startswith(role + "_"), f"{name} is not prefixed with the role name"
