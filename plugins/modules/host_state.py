#!/usr/bin/python
# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_state
short_description: Read what a role needs to know of a host - packages, services, paths, the engine - in one call
version_added: 0.1.0
description:
  - Reads, and never changes, the state a role decides on, so an unchanged role costs one round trip to the host
    instead of one per package, service or file; the role then acts only on what differs.
  - Debian packages from C(dpkg-query), services from C(systemctl), paths with C(lstat), the Docker engine's
    C(/info) on its socket (C(/run/docker.sock)), a process's open-files limit from C(/proc).
author: agentopia.toolbox contributors (@agentopia)
extends_documentation_fragment:
  - agentopia.toolbox.attributes
attributes:
  check_mode:
    support: full
    details: It only reads, in check mode as in a real run.
  diff_mode:
    support: none
options:
  packages:
    description: Debian packages to look up.
    type: list
    elements: str
    default: []
  services:
    description: systemd units to look up.
    type: list
    elements: str
    default: []
  paths:
    description: Paths to stat (not followed when they are links).
    type: list
    elements: path
    default: []
  docker:
    description: Read the engine's version and its swarm state.
    type: bool
    default: false
  images:
    description: Image references (name:tag or ID) to look up on the engine.
    type: list
    elements: str
    default: []
  containers:
    description: Container names to look up on the engine.
    type: list
    elements: str
    default: []
  docker_logins:
    description:
      - Registries (C(host:port)) whose stored credentials in the Docker client's C(~/.docker/config.json) to hash,
        so the controller can tell whether a login would change them without ever reading them.
    type: list
    elements: str
    default: []
  docker_config:
    description: The Docker client's configuration file that O(docker_logins) reads.
    type: path
    default: ~/.docker/config.json
  nofile_of:
    description:
      - Names of processes whose open-files hard limit to read (the oldest process of each name), as the kernel
        names them in C(/proc/<pid>/comm) - at most 15 characters.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Read the engine's packages, service and socket
  agentopia.toolbox.host_state:
    packages: [docker.io, containerd, runc]
    services: [docker]
    paths: [/run/docker.sock]
    docker: true
    nofile_of: [containerd]
  register: engine_state
"""

RETURN = r"""
packages:
  description: Per package - C(installed) (bool), C(version) and C(selection) (C(install), C(hold), ...), the last two
    null when it is not installed.
  returned: success
  type: dict
  sample: {docker.io: {installed: true, version: 20.10.24+dfsg1-1+b3, selection: hold}}
services:
  description: Per unit - C(active) and C(enabled) (bools); both false without systemd.
  returned: success
  type: dict
  sample: {docker: {active: true, enabled: true}}
paths:
  description: Per path - C(exists), and when it does C(owner), C(group) (names, or IDs without one) and C(mode)
    (octal string).
  returned: success
  type: dict
  sample: {/run/docker.sock: {exists: true, owner: root, group: docker, mode: "0660"}}
docker:
  description: C(version) (the engine's, C(null) when it does not answer) and C(swarm) (the C(Swarm) section of
    the engine's C(/info), C({}) then).
  returned: when O(docker=true)
  type: dict
  sample: {version: 20.10.24+dfsg1, swarm: {LocalNodeState: active, NodeID: abc, ControlAvailable: true}}
images:
  description: Per image found on the engine - C(id) and C(labels); an image that is not there is left out.
  returned: when O(images) is not empty
  type: dict
  sample: {agentopia/base:0.1.0: {id: "sha256:41...", labels: {org.agentopia.base.inputs: 5c0e...}}}
containers:
  description: Per container found - C(image) (ID), C(running), C(health) (C(null) without a health check) and
    C(labels); a container that is not there is left out.
  returned: when O(containers) is not empty
  type: dict
  sample: {registry: {image: "sha256:9f...", running: true, health: healthy, labels: {}}}
docker_logins:
  description: Per registry - the SHA-256 (hex) of the base64 C(auth) the client stores for it, C(null) when none.
  returned: when O(docker_logins) is not empty
  type: dict
  sample: {172.28.98.11:5000: 3b1f...}
nofile_of:
  description: Per process name - its hard open-files limit (a number as a string, or C(unlimited)), C(null) when no
    such process runs.
  returned: success
  type: dict
  sample: {containerd: "1048576"}
"""

import grp
import hashlib
import http.client
import json
import os
import pwd
import shutil
import socket
import stat
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule

DOCKER_SOCKET = "/run/docker.sock"
DOCKER_CONFIG = "~/.docker/config.json"
ENGINE_TIMEOUT = 10
DPKG_FORMAT = "${Package}\\t${Version}\\t${Status}\\n"


class StateError(Exception):
    """A path the module may not read; it fails with the path and the reason."""


def read_packages(module, names):
    found = {name: {"installed": False, "version": None, "selection": None} for name in names}
    if not names or not shutil.which("dpkg-query"):
        return found
    # dpkg-query exits 1 when a name is unknown and still prints the others.
    out = module.run_command(["dpkg-query", "-W", "-f", DPKG_FORMAT, *names])[1]
    for line in out.splitlines():
        name, version, status = [*line.split("\t"), "", ""][:3]
        words = status.split()
        if name in found and len(words) == 3:
            installed = words[2] == "installed"
            found[name] = {
                "installed": installed,
                "version": version if installed else None,
                "selection": words[0] if installed else None,
            }
    return found


def read_services(module, names):
    systemctl = shutil.which("systemctl")
    found = {}
    for name in names:
        if not systemctl:
            found[name] = {"active": False, "enabled": False}
            continue
        active = module.run_command([systemctl, "is-active", "--quiet", name])[0]
        enabled = module.run_command([systemctl, "is-enabled", "--quiet", name])[0]
        found[name] = {"active": active == 0, "enabled": enabled == 0}
    return found


def name_of(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def read_paths(paths):
    found = {}
    for path in paths:
        try:
            info = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            found[path] = {"exists": False}
            continue
        except OSError as exc:
            raise StateError(f"host_state: cannot read {path}: {exc}") from exc
        found[path] = {
            "exists": True,
            "owner": name_of(pwd.getpwuid, info.st_uid),
            "group": name_of(grp.getgrgid, info.st_gid),
            "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        }
    return found


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over the engine's unix socket: one GET /info costs a few milliseconds, the docker CLI some sixty."""

    def __init__(self, path):
        super().__init__("localhost", timeout=ENGINE_TIMEOUT)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(ENGINE_TIMEOUT)
        self.sock.connect(self.path)


def engine_get(path):
    """GET path on the engine's socket: the decoded JSON answer, or None when the engine does not answer or has no
    such object."""
    connection = UnixHTTPConnection(DOCKER_SOCKET)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return json.loads(response.read()) if response.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def read_docker():
    """The engine's version and Swarm section; version None when it does not answer on its socket."""
    info = engine_get("/info") or {}
    return {"version": info.get("ServerVersion") or None, "swarm": info.get("Swarm") or {}}


def read_images(refs):
    found = {}
    for ref in refs:
        image = engine_get(f"/images/{quote(ref, safe='/:@')}/json")
        if image:
            found[ref] = {"id": image.get("Id"), "labels": (image.get("Config") or {}).get("Labels") or {}}
    return found


def read_containers(names):
    found = {}
    for name in names:
        container = engine_get(f"/containers/{quote(name, safe='')}/json")
        if container:
            state = container.get("State") or {}
            found[name] = {
                "image": container.get("Image"),
                "running": bool(state.get("Running")),
                "health": (state.get("Health") or {}).get("Status"),
                "labels": (container.get("Config") or {}).get("Labels") or {},
            }
    return found


def read_logins(registries, config_path):
    """Registry -> SHA-256 of the credentials the engine's client holds for it (never the credentials)."""
    try:
        with open(config_path) as handle:
            auths = json.load(handle).get("auths") or {}
    except (OSError, ValueError, AttributeError):
        auths = {}
    return {
        registry: hashlib.sha256(auths[registry]["auth"].encode()).hexdigest()
        if isinstance(auths.get(registry), dict) and auths[registry].get("auth")
        else None
        for registry in registries
    }


def oldest_pid(name):
    """The PID of the oldest process whose command name is name (lowest start time), or None."""
    best = None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read()
        except OSError:
            continue
        command = fields[fields.index("(") + 1 : fields.rindex(")")]
        if command != name:
            continue
        started = int(fields[fields.rindex(")") + 2 :].split()[19])
        if best is None or started < best[0]:
            best = (started, entry)
    return best[1] if best else None


def read_nofile(names):
    found = {}
    for name in names:
        pid = oldest_pid(name)
        found[name] = None
        if pid is None:
            continue
        try:
            with open(f"/proc/{pid}/limits") as handle:
                for line in handle:
                    if line.startswith("Max open files"):
                        found[name] = line.split()[4]
        except OSError:
            continue
    return found


def execute_module(module):
    params = module.params
    result = {
        "changed": False,
        "packages": read_packages(module, params["packages"]),
        "services": read_services(module, params["services"]),
        "paths": read_paths(params["paths"]),
        "nofile_of": read_nofile(params["nofile_of"]),
    }
    if params["docker"]:
        result["docker"] = read_docker()
    if params["images"]:
        result["images"] = read_images(params["images"])
    if params["containers"]:
        result["containers"] = read_containers(params["containers"])
    if params["docker_logins"]:
        result["docker_logins"] = read_logins(params["docker_logins"], params["docker_config"])
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "services": {"type": "list", "elements": "str", "default": []},
            "paths": {"type": "list", "elements": "path", "default": []},
            "docker": {"type": "bool", "default": False},
            "nofile_of": {"type": "list", "elements": "str", "default": []},
            "images": {"type": "list", "elements": "str", "default": []},
            "containers": {"type": "list", "elements": "str", "default": []},
            "docker_logins": {"type": "list", "elements": "str", "default": []},
            "docker_config": {"type": "path", "default": DOCKER_CONFIG},
        },
        supports_check_mode=True,
    )
    # Not _module.run_module, which loads the Docker SDK: reading needs no library beyond Python's own.
    try:
        result = execute_module(module)
    except StateError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
