# SPDX-License-Identifier: GPL-3.0-or-later
"""Client sessions: one Mcp-Session-Id per initialize, dropped when idle or when there are too many."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field


@dataclass
class Session:
    protocol_version: str
    last_seen: float = field(default_factory=time.monotonic)


class Sessions:
    def __init__(self, max_sessions: int, idle_seconds: float) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.by_id: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self.by_id)

    def create(self, protocol_version: str) -> str:
        """A new session; idle ones are expired first, then the least recently used beyond the cap."""
        self.expire()
        session_id = os.urandom(16).hex()  # not `secrets`: it loads libcrypto (~4 MB RSS)
        self.by_id[session_id] = Session(protocol_version)
        return session_id

    def get(self, session_id: str) -> Session | None:
        return self.by_id.get(session_id)

    def end(self, session_id: str) -> bool:
        """Forget a session; False if there was none by that id."""
        return self.by_id.pop(session_id, None) is not None

    def expire(self) -> None:
        cutoff = time.monotonic() - self.idle_seconds
        for session_id in [s for s, v in self.by_id.items() if v.last_seen < cutoff]:
            del self.by_id[session_id]
        while len(self.by_id) >= self.max_sessions:
            del self.by_id[min(self.by_id, key=lambda s: self.by_id[s].last_seen)]
