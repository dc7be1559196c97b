# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point: `python -m agentopia_gateway`, configured by GATEWAY_* environment variables."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import sys

import uvicorn

from .app import create_app
from .config import ConfigError, load_settings


class JsonFormatter(logging.Formatter):
    """One JSON object per line; access lines are JSON already and pass through as they are."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.name == "agentopia_gateway.access":
            return message
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": message,
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


def main() -> int:
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"agentopia-gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler], force=True)
    # The SDK logs each session at INFO; keep those at WARNING unless debugging.
    if settings.log_level != "debug":
        logging.getLogger("mcp").setLevel(logging.WARNING)
        logging.getLogger("httpx2").setLevel(logging.WARNING)
    # uvicorn's "auto" picks uvloop and httptools when they are installed (the image pins both: they take
    # about a third off the gateway's CPU per call) and falls back to asyncio and h11 when run from a bare venv.
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    logging.getLogger("agentopia_gateway").info("event loop %s, HTTP parser %s", loop, http)
    config = uvicorn.Config(
        create_app(settings),
        loop=loop,
        http=http,
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises SIGINT after its graceful shutdown; that is a normal stop.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
