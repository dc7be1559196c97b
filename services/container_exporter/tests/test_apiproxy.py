# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only Docker API proxy passes the container list and inspect, and refuses everything else."""

from __future__ import annotations

import http.server
import socketserver
import threading
from typing import ClassVar

import pytest
from container_exporter import apiproxy
from container_exporter.docker_api import DockerClient, DockerError
from exporter_samples import ID_A


@pytest.mark.parametrize(
    ("method", "path", "headers", "ok"),
    [
        ("GET", "/containers/json?all=1", {}, True),
        ("GET", "/v1.41/containers/json", {}, True),
        ("GET", f"/containers/{ID_A}/json", {}, True),
        ("GET", "/v1.40/tasks?filters=%7B%22desired-state%22%3A%7B%22running%22%3Atrue%7D%7D", {}, True),
        ("GET", "/v1.40/nodes", {}, True),
        ("GET", "/v1.40/services?status=true", {}, True),
        ("GET", "/v1.40/networks", {}, True),
        ("HEAD", "/_ping", {}, True),
        ("GET", "/secrets", {}, False),
        ("GET", "/configs", {}, False),
        ("GET", "/nodes/abc", {}, False),
        ("GET", f"/containers/{ID_A}/logs?stdout=1", {}, False),
        ("POST", "/services/create", {}, False),
        ("POST", "/containers/create", {}, False),
        ("POST", f"/containers/{ID_A}/exec", {}, False),
        ("GET", f"/containers/{ID_A}/archive?path=/etc", {}, False),
        ("GET", "/containers/../secrets", {}, False),
        ("GET", "/tasks/../secrets", {}, False),
        ("GET", "/containers/json", {"upgrade": "tcp"}, False),
        ("GET", "/containers/json", {"content-length": "10"}, False),
        ("GET", "/containers/json", {"transfer-encoding": "chunked"}, False),
        ("DELETE", f"/containers/{ID_A}/json", {}, False),
    ],
)
def test_allowed(method, path, headers, ok):
    assert apiproxy.allowed(method, path, headers) is ok


class _Engine(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Engine.seen.append(self.path)
        body = b'[{"Id": "x"}]' if self.path.startswith("/containers/json") else b'{"State": {"Pid": 1}}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


class _UnixHTTP(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _address = super().get_request()
        return conn, ("local", 0)


def test_end_to_end_through_the_proxy(tmp_path, monkeypatch):
    engine_path, proxy_path = str(tmp_path / "engine.sock"), str(tmp_path / "proxy.sock")
    engine = _UnixHTTP(engine_path, _Engine)
    monkeypatch.setattr(apiproxy.ProxyHandler, "upstream", engine_path)
    proxy = apiproxy.ProxyServer(proxy_path, apiproxy.ProxyHandler)
    for server in (engine, proxy):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = DockerClient(proxy_path, 5)
        assert client.containers() == [{"Id": "x"}]
        assert client.inspect(ID_A) == {"State": {"Pid": 1}}
        assert client.containers() == [{"Id": "x"}]  # again, on a new connection after the proxy closed one
        with pytest.raises(DockerError, match="403"):
            client.get("/containers/create")
        assert _Engine.seen == ["/containers/json?all=1", f"/containers/{ID_A}/json", "/containers/json?all=1"]
        client.close()
    finally:
        for server in (engine, proxy):
            server.shutdown()
            server.server_close()
