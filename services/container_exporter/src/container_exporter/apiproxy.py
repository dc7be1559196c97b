# SPDX-License-Identifier: GPL-3.0-or-later
"""A read-only Docker API proxy: only the calls the exporter and Prometheus' Swarm discovery make pass.

Mounting /var/run/docker.sock read-only does NOT make the API read-only: `:ro` only stops changes to the socket
file, while connect() and any POST (create a privileged container, exec ...) still work. So the exporter never gets
the engine's socket. This proxy, the only process that does, listens on a socket in a volume shared with the
exporter on the same node and forwards GET /containers/json and GET /containers/<id>/json (the exporter), and
GET /nodes, /services, /tasks and /networks (Prometheus' dockerswarm_sd_configs on a manager), nothing else: no
POST, PUT, DELETE, no exec, attach, logs, archive, secrets or configs.

Settings: APIPROXY_LISTEN (socket path, default /run/container-exporter/docker.sock), APIPROXY_UPSTREAM
(default /var/run/docker.sock), APIPROXY_SOCKET_MODE (octal, default 0666: the volume is private to the two).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import socketserver
import sys

ALLOWED = re.compile(
    r"^(/v1\.\d+)?/(containers/json|containers/[0-9a-f]{12,64}/json|nodes|services|tasks|networks|_ping|version)"
    r"(\?[A-Za-z0-9=&%_.+-]*)?$"
)
MAX_HEAD = 16384
REFUSED = b"refused by the read-only Docker API proxy: only container list/inspect and Swarm listings pass\n"


def allowed(method: str, path: str, headers: dict[str, str]) -> bool:
    if method not in ("GET", "HEAD") or not ALLOWED.match(path):
        return False
    # No body and no protocol switch: a GET with a body or an Upgrade is not what the exporter sends.
    if headers.get("transfer-encoding") or headers.get("upgrade"):
        return False
    return headers.get("content-length", "0") == "0"


def parse_head(head: bytes) -> tuple[str, str, dict[str, str]] | None:
    try:
        lines = head.decode("latin-1").split("\r\n")
        method, path, version = lines[0].split(" ")
    except ValueError:
        return None
    if not version.startswith("HTTP/1."):
        return None
    headers = {}
    for line in lines[1:]:
        if line:
            key, _colon, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    return method, path, headers


class ProxyHandler(socketserver.BaseRequestHandler):
    upstream: str = "/var/run/docker.sock"

    def handle(self) -> None:
        """One request per connection: the engine's answer ends with Connection: close, and so does this."""
        conn: socket.socket = self.request
        conn.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
            if len(head) > MAX_HEAD:
                conn.sendall(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n")
                return
        parsed = parse_head(head.split(b"\r\n\r\n", 1)[0])
        if parsed is None or not allowed(*parsed):
            conn.sendall(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                + f"Content-Length: {len(REFUSED)}\r\n\r\n".encode()
                + REFUSED
            )
            return
        # A fresh minimal request upstream: none of the client's headers reach the engine.
        self._forward(conn, parsed[0], parsed[1])

    def _forward(self, conn: socket.socket, method: str, path: str) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as up:
            up.settimeout(30)
            up.connect(self.upstream)
            up.sendall(f"{method} {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
            while chunk := up.recv(65536):
                conn.sendall(chunk)


class ProxyServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main() -> int:
    listen = os.environ.get("APIPROXY_LISTEN", "/run/container-exporter/docker.sock")
    ProxyHandler.upstream = os.environ.get("APIPROXY_UPSTREAM", "/var/run/docker.sock")
    mode = os.environ.get("APIPROXY_SOCKET_MODE", "0666")
    try:
        socket_mode = int(mode, 8)
    except ValueError:
        print(f"apiproxy: APIPROXY_SOCKET_MODE={mode!r} is not an octal mode such as 0660", file=sys.stderr)
        return 2
    if os.path.exists(listen):
        os.unlink(listen)  # a socket left by the previous task on this node
    with ProxyServer(listen, ProxyHandler) as server:
        os.chmod(listen, socket_mode)
        print(f"apiproxy: {listen} -> {ProxyHandler.upstream} (read-only listings only)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0
