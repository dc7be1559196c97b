# SPDX-License-Identifier: GPL-3.0-or-later
"""Just enough HTTP/1.1 for MCP clients: read one request (Content-Length bodies only), write a response."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class HttpError(Exception):
    """A request the bridge cannot read; answered with `status` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


async def read_request(reader: Any, writer: Any, max_body_bytes: int) -> Request | None:
    """The next request on the connection, or None when the client closed it between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise HttpError(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(431, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise HttpError(400, "malformed request line") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise HttpError(411, "send the body with a Content-Length, not chunked")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise HttpError(400, "Content-Length is not a number") from None
    if length > max_body_bytes:
        raise HttpError(413, f"body larger than the bridge's limit of {max_body_bytes} bytes")
    if length > 0 and headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits a second for this on bodies over 1 KiB
    body = await reader.readexactly(length) if length > 0 else b""
    return Request(method, target.split("?", 1)[0], headers, body)


async def send(
    writer: Any, status: int, body: bytes = b"", headers: dict[str, str] | None = None, close: bool = False
) -> None:
    head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}", f"Content-Length: {len(body)}"]
    if body:
        head.append("Content-Type: application/json")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if close:
        head.append("Connection: close")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


async def send_json(writer: Any, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    await send(writer, status, json.dumps(payload, separators=(",", ":")).encode(), headers)


def start_event_stream(writer: Any) -> None:
    """A 200 whose body is a chunked text/event-stream; each `send_event` is one chunk."""
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    writer.write(head.encode())


async def send_event(writer: Any, message: Any) -> None:
    event = f"event: message\ndata: {json.dumps(message, separators=(',', ':'))}\n\n".encode()
    writer.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
    await writer.drain()


async def end_event_stream(writer: Any) -> None:
    writer.write(b"0\r\n\r\n")
    await writer.drain()
