# SPDX-License-Identifier: GPL-3.0-or-later
"""Bearer tokens from files (re-read on change, several valid at once), a per-token rate limit, Host/Origin checks."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger("agentopia_gateway.auth")


class TokenFileError(RuntimeError):
    """No usable token could be read; the message names the files."""


def token_id(token: str) -> str:
    """A short, non-reversible label for a token: safe for logs, metrics labels and rate-limit keys."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


# A line "sha256:<64 hex digits>" holds a token's digest instead of the token: a file of digests is not secret, so
# it can be written to a host and changed under a running gateway (no-restart rotation, docs/rotation.md).
DIGEST_PREFIX = "sha256:"
_HEX = frozenset("0123456789abcdef")


def _entry(line: str, path: str) -> str | None:
    """A token, or its digest in lower-case hex with the prefix; None for a malformed digest (never a token)."""
    if not line.startswith(DIGEST_PREFIX):
        return line
    digest = line[len(DIGEST_PREFIX) :].strip().lower()
    if len(digest) == 64 and set(digest) <= _HEX:
        return DIGEST_PREFIX + digest
    logger.warning("token file %s has a sha256: line that is not 64 hex digits; it admits nothing", path)
    return None


def _read_tokens(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
    return [entry for entry in (_entry(line, path) for line in lines) if entry is not None]


class TokenStore:
    """Tokens (or their digests) from GATEWAY_TOKEN_FILES; `reload()` re-reads only the files whose stat changed."""

    def __init__(self, paths: Sequence[str]) -> None:
        self._paths = tuple(paths)
        self._stamps: dict[str, tuple[int, int, int] | None] = {}
        self._by_file: dict[str, list[str]] = {}
        self._tokens: tuple[bytes, ...] = ()
        self._ids: tuple[str, ...] = ()
        self._digests: tuple[bytes, ...] = ()

    @property
    def count(self) -> int:
        return len(self._tokens) + len(self._digests)

    def reload(self) -> bool:
        """Re-read changed files (blocking: call it off the event loop). Returns True when the set changed.

        A file that disappears or cannot be read keeps its last tokens only if no file holds any token
        any more; otherwise its tokens are dropped (that is how a rotated-out secret stops working).
        """
        changed = False
        for path in self._paths:
            try:
                st = os.stat(path)
                stamp: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = None
            if path in self._stamps and self._stamps[path] == stamp:
                continue
            self._stamps[path] = stamp
            changed = True
            if stamp is None:
                logger.warning("token file %s is missing or unreadable; its tokens are no longer accepted", path)
                self._by_file[path] = []
                continue
            try:
                self._by_file[path] = _read_tokens(path)
            except (OSError, UnicodeDecodeError) as exc:
                logger.warning("token file %s cannot be read (%s); its tokens are no longer accepted", path, exc)
                self._by_file[path] = []
        if changed:
            entries = {t for file_tokens in self._by_file.values() for t in file_tokens}
            tokens = sorted(t for t in entries if not t.startswith(DIGEST_PREFIX))
            self._tokens = tuple(t.encode() for t in tokens)
            self._ids = tuple(token_id(t) for t in tokens)
            # A digest that a plain token of the set already matches would only be compared twice.
            digests = sorted(
                {t[len(DIGEST_PREFIX) :] for t in entries if t.startswith(DIGEST_PREFIX)}
                - {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
            )
            self._digests = tuple(d.encode() for d in digests)
            logger.info("loaded %d token(s) from %d file(s)", self.count, len(self._paths))
        return changed

    def require_some(self) -> None:
        if not self.count:
            raise TokenFileError(
                "no token found in GATEWAY_TOKEN_FILES (" + ", ".join(self._paths) + "): "
                "each file must hold one or more tokens, one per line"
            )

    def verify(self, presented: str) -> str | None:
        """Return the token's id when it matches one of the valid tokens, else None.

        Every candidate is compared (constant time each, no early exit), so timing does not tell how many
        tokens exist or which one came close.
        """
        candidate = presented.encode()
        digest = hashlib.sha256(candidate).hexdigest().encode()
        match: str | None = None
        for token, ident in zip(self._tokens, self._ids, strict=True):
            if hmac.compare_digest(candidate, token):
                match = ident
        for known in self._digests:
            if hmac.compare_digest(digest, known):
                match = known[:12].decode()
        return match


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token bucket per key: `rate` per second, up to `burst` at once. rate 0 turns it off."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = float(max(1, burst))
        self._buckets: dict[str, _Bucket] = {}
        self._max_keys = max_keys

    def allow(self, key: str, now: float | None = None) -> tuple[bool, float]:
        """(allowed, seconds until the next request would be allowed)."""
        if self.rate <= 0:
            return True, 0.0
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()  # only valid tokens get here, so this is a bound, not a path for abuse
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True, 0.0
        return False, (1.0 - bucket.tokens) / self.rate


def _host_only(value: str) -> tuple[str, str | None]:
    """Split 'host:port' / '[v6]:port' into (host, port or None), host lowercased."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        host, rest = value[: end + 1], value[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else None
    host, sep, port = value.partition(":")
    return host, port if sep else None


class HostPolicy:
    """DNS-rebinding protection: the Host header must name this gateway, a browser Origin must be one of ours.

    An allowed host is 'name' (any port), 'name:port', or '*' (anything). Origins default to http(s)://<allowed
    host> on any port; requests without Origin (every non-browser client) are not affected by the origin check.
    """

    def __init__(self, allowed_hosts: Sequence[str], allowed_origins: Sequence[str] = ()) -> None:
        self.any_host = "*" in allowed_hosts
        self.hosts = [_host_only(h) for h in allowed_hosts if h != "*"]
        self.any_origin = "*" in allowed_origins
        self.origins = {o.strip().lower().rstrip("/") for o in allowed_origins if o != "*"}

    def host_ok(self, host: str | None) -> bool:
        if self.any_host:
            return True
        if not host:
            return False
        name, port = _host_only(host)
        return any(name == h and (p is None or p == "*" or p == port) for h, p in self.hosts)

    def origin_ok(self, origin: str | None) -> bool:
        if origin is None or self.any_origin:
            return True
        origin = origin.strip().lower().rstrip("/")
        if self.origins:
            return origin in self.origins
        scheme, sep, rest = origin.partition("://")
        if not sep or scheme not in ("http", "https"):
            return False
        return bool(rest) and self.host_ok(rest)
