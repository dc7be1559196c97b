# Copyright (c) agentopia.toolbox contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker SDK access shared by the collection's modules (private to the collection)."""

from __future__ import annotations

import hashlib
import tarfile
import traceback
from contextlib import contextmanager

try:
    from docker import DockerClient
    from docker.errors import DockerException, NotFound  # pylint: disable=unused-import  # re-exported for the modules

    DOCKER_IMPORT_ERROR = None
except ImportError:  # reported by each module through missing_required_lib
    DockerClient = None
    DockerException = Exception

    class NotFound(Exception):
        """Stands in for docker.errors.NotFound, which nothing raises without the SDK."""

    DOCKER_IMPORT_ERROR = traceback.format_exc()

# Label carried by every object this collection manages, with the logical name as value.
MANAGED_LABEL = "org.agentopia.toolbox.managed"


class ToolboxError(Exception):
    """An error a user can act on; _module.run_module turns it into one fail_json.

    ``result`` is what the module found or did before the error (findings, services deployed so far):
    the failure reports it beside the message.
    """

    def __init__(self, message: str, result: dict | None = None) -> None:
        super().__init__(message)
        self.result = dict(result or {})


def docker_client(docker_host: str, timeout: int):
    """A Docker SDK client for docker_host (a unix:// or tcp:// URL)."""
    try:
        client = DockerClient(base_url=docker_host, timeout=timeout)
        client.ping()
    except DockerException as exc:
        raise ToolboxError(f"cannot reach the Docker engine at {docker_host}: {exc}. Is dockerd running?") from exc
    return client


def version_name(name: str, data: str) -> str:
    """The Swarm secret holding this value: a new value is a new secret, so services move to it by an update."""
    digest = hashlib.sha256(name.encode() + b"\0" + data.encode()).hexdigest()
    return f"{name}_{digest[:12]}"


def services_by_secret(client) -> dict[str, list[str]]:
    """Secret ID -> names of the services that mount it."""
    users: dict[str, list[str]] = {}
    for service in client.services.list():
        spec = service.attrs["Spec"]
        for ref in spec.get("TaskTemplate", {}).get("ContainerSpec", {}).get("Secrets") or []:
            users.setdefault(ref["SecretID"], []).append(spec["Name"])
    return users


DOCKER_CLIENT_ARGS = {
    "docker_host": {"type": "str", "default": "unix:///var/run/docker.sock"},
    "timeout": {"type": "int", "default": 60},
}


class _Stream:
    """A file-like view of an export's chunk iterator, for tarfile's stream mode."""

    def __init__(self, chunks):
        self.chunks, self.buffer = iter(chunks), b""

    def read(self, size=-1):
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        data, self.buffer = (self.buffer, b"") if size < 0 else (self.buffer[:size], self.buffer[size:])
        return data


@contextmanager
def exported(client, image_id: str):
    """The image's filesystem as a streamed tarfile, read once in order (members' data only while current),
    from a created, never started, container that is removed afterwards."""
    container = client.containers.create(image_id, command=["/nonexistent"], entrypoint=[])
    try:
        with tarfile.open(fileobj=_Stream(container.export()), mode="r|") as archive:
            yield archive
    finally:
        container.remove(force=True)
