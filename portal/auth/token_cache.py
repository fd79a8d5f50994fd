"""A short-lived per-process cache of API token look-ups that can never answer for a revoked token.

What is cached is only what a request needs to know about its token (a `TokenGrant`: ids, role, expiry,
last use), keyed by the token's SHA-256 — never the token itself. Revocation is honoured at once through a
**revocation marker** in Redis (the storage the rate limiter already shares between every worker): every
revocation (DELETE /api/v1/auth/token, a user's role or `active` changed) commits, then sets the marker to a
fresh random value; every cached look-up re-reads the marker (one Redis GET) and is used only while the
marker still has the value it had *before* the entry was read from the database. So an entry read before a
revocation's commit carries the old marker and is dropped on its next use, in every process. Expiry is
checked on every use against the cached `expires_at`.

Without Redis (REDIS_URL unset) there is no marker every worker can see, so nothing is cached and each
request reads its token from the database (one statement, the user joined). When Redis does not answer,
the cache is bypassed for that request, never trusted. See docs/api.md, "Token look-ups".
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime

import redis
from cachetools import TTLCache
from flask import Flask, current_app

from portal.timeutil import utcnow

_EXTENSION = "api_token_cache"
MARKER_KEY = "portal:api-token-revocation-marker"


@dataclass(frozen=True)
class TokenGrant:
    """What a request knows about its bearer token once it has been found valid."""

    token_id: int
    user_id: int
    is_customer: bool
    expires_at: datetime
    last_used_at: datetime | None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()


@dataclass
class _Entry:
    grant: TokenGrant
    marker: bytes | None  # the revocation marker read before the database was


class TokenCache:
    """token hash → TokenGrant for `ttl` seconds, valid only while the revocation marker is unchanged."""

    def __init__(self, client: redis.Redis, ttl: float, maxsize: int = 10_000):
        self.client = client
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl)
        self._lock = threading.Lock()  # TTLCache is not thread-safe; gunicorn runs threads

    def marker(self) -> bytes | None:
        """The current revocation marker (None when never set). Raises redis.RedisError."""
        return self.client.get(MARKER_KEY)

    def get(self, token_hash: str, marker: bytes | None) -> TokenGrant | None:
        with self._lock:
            entry = self._entries.get(token_hash)
        if entry is None or entry.marker != marker:
            return None
        return entry.grant

    def put(self, token_hash: str, grant: TokenGrant, marker: bytes | None) -> None:
        with self._lock:
            self._entries[token_hash] = _Entry(grant, marker)

    def touched(self, token_hash: str, when: datetime) -> None:
        """Remember a recorded last use, so this process does not record it again for five minutes."""
        with self._lock:
            entry = self._entries.get(token_hash)
            if entry is not None:
                self._entries[token_hash] = _Entry(replace(entry.grant, last_used_at=when), entry.marker)

    def revoked(self) -> None:
        """After a revocation has committed: drop this process's entries and move the shared marker."""
        self.clear()
        self.client.set(MARKER_KEY, secrets.token_hex(16))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def init_app(app: Flask) -> None:
    """A cache when REDIS_URL is set and API_TOKEN_CACHE_SECONDS > 0; otherwise none (see the module doc)."""
    url, ttl = app.config.get("REDIS_URL"), app.config.get("API_TOKEN_CACHE_SECONDS", 0)
    cache = None
    if url and ttl > 0:
        cache = TokenCache(redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5), ttl)
    app.extensions[_EXTENSION] = cache


def token_cache() -> TokenCache | None:
    return current_app.extensions.get(_EXTENSION)
