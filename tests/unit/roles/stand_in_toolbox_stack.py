# SPDX-License-Identifier: GPL-3.0-or-later
"""A stand-in for toolbox_stack in role tests: the "swarm" is one JSON file per toolbox under FAKE_SWARM.

Same options and result keys the toolbox role uses (version, spec_hash, rolled_back, msg); a server
named "broken" makes the deploy fail the way toolbox_stack fails after rolling back.
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible.module_utils.basic import AnsibleModule

OPTIONS = ("spec", "images", "secrets", "state", "purge", "endpoint_mode", "publish_mode", "gateway_hosts")
MORE = ("encrypted", "wait_timeout", "rollback")


def main() -> None:
    module = AnsibleModule(argument_spec={name: {"type": "raw"} for name in OPTIONS + MORE}, supports_check_mode=True)
    params = module.params
    spec = params["spec"]
    path = os.path.join(os.environ["FAKE_SWARM"], f"{spec['name']}.json")
    live = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            live = json.load(handle)
    if params["state"] == "absent":
        if live and not module.check_mode:
            os.unlink(path)
        module.exit_json(changed=bool(live), services=[])
    version = str(spec["version"])
    spec_hash = hashlib.sha256(json.dumps([spec, params["images"]], sort_keys=True).encode()).hexdigest()[:16]
    if any(server["name"] == "broken" for server in spec["servers"]):
        service = f"{spec['name']}_broken"
        module.fail_json(
            msg=f"toolbox {spec['name']}: {service} (not healthy within 45 s). Rolled back to the previous "
            f"definition: {service}.",
            rolled_back=[service],
            version=version,
            spec_hash=spec_hash,
        )
    wanted = {"version": version, "spec_hash": spec_hash}
    if wanted != live and not module.check_mode:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(wanted, handle)
    module.exit_json(changed=wanted != live, version=version, spec_hash=spec_hash)


if __name__ == "__main__":
    main()
