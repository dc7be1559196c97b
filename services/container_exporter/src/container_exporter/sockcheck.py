# SPDX-License-Identifier: GPL-3.0-or-later
"""HEALTHCHECK of the API proxy, stdlib only and run without the package (python3 -I -S sockcheck.py SOCKET):
GET /_ping through the filtered socket must answer 200, which needs both the proxy and the engine."""

import socket
import sys


def main(path: str) -> int:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            status = sock.recv(64).split(b"\r\n", 1)[0].decode("latin-1")
    except OSError as exc:
        print(f"unhealthy: {path}: {exc}")
        return 1
    healthy = status.startswith("HTTP/1.1 200")
    print(("healthy: " if healthy else "unhealthy: ") + (status or "no answer"))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/run/container-exporter/docker.sock"))
