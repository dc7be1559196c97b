# SPDX-License-Identifier: GPL-3.0-or-later
"""The bridge's settings: every limit and timeout by name, with its default."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    command: list[str]
    max_body_bytes: int = 4 * 1024 * 1024  # one POST from a client
    max_message_bytes: int = 64 * 1024 * 1024  # one line from the child (tool results can be large)
    request_timeout: float = 300.0  # a forwarded request gets an error after this long
    ready_timeout: float = 20.0  # how long a request waits for a (re)starting child
    init_timeout: float = 30.0  # the child must answer initialize within this
    max_sessions: int = 1000  # least recently used sessions are dropped beyond this
    session_idle_seconds: float = 3600.0
    keepalive_seconds: float = 75.0  # idle HTTP connections are closed after this
    backoff_max: float = 30.0  # restart delay doubles from 0.5 s up to this
