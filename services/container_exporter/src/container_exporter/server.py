# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP: GET /metrics collects and renders on each scrape; GET /health answers without collecting."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.registry import CollectorRegistry

from .exposition import CONTENT_TYPE, TextWriter

log = logging.getLogger("container_exporter")


def make_server(host: str, port: int, registry: CollectorRegistry) -> ThreadingHTTPServer:
    writer = TextWriter()
    lock = threading.Lock()  # the writer's cache and the collector's state: one scrape at a time

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                with lock:
                    body = writer.render(registry.collect())
                self._send(200, body, CONTENT_TYPE)
            elif path == "/health":
                self._send(200, b"ok\n", "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found: try /metrics or /health\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
