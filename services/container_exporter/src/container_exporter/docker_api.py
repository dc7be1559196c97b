# SPDX-License-Identifier: GPL-3.0-or-later
"""The two read-only Docker API calls the exporter makes (container list and inspect), over a unix socket."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any


class DockerError(RuntimeError):
    """The Docker API could not be reached or answered with an error."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class DockerClient:
    """Keeps one connection open between scrapes: a connect per request would cost more than the request."""

    def __init__(self, socket_path: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self._conn: _UnixConnection | None = None

    def get(self, path: str) -> Any:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = _UnixConnection(self.socket_path, self.timeout)
            try:
                self._conn.request("GET", path, headers={"Host": "docker"})
                response = self._conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                # The engine (or a proxy) may have closed an idle keep-alive connection: retry once on a new one.
                if attempt == 2:
                    raise DockerError(f"Docker API at {self.socket_path}: GET {path} failed: {exc}") from exc
                continue
            if response.status != 200:
                raise DockerError(
                    f"Docker API at {self.socket_path}: GET {path} answered {response.status}: {body[:200]!r}"
                )
            return json.loads(body)
        raise AssertionError("unreachable")

    def containers(self) -> list[dict[str, Any]]:
        # all=1: task containers that exited between two scrapes still count as task starts.
        return self.get("/containers/json?all=1")

    def inspect(self, container_id: str) -> dict[str, Any]:
        return self.get(f"/containers/{container_id}/json")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
