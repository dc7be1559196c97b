# SPDX-License-Identifier: GPL-3.0-or-later
"""Short JSON error responses: {"error": "<code>", "message": "<what to do>"} with the right status."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import Send


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


async def json_error(send: Send, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> int:
    body = json.dumps({"error": code, "message": message}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    raw.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items())
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return status
