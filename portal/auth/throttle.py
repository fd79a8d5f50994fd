"""Failed sign-ins are throttled per account and per client address (OWASP ASVS 2.2.1).

Only failures count — a colleague signing in and out all day never meets the limit — and each failure
counts against two keys: the account (its normalised email, hashed, whether or not it exists, so a lock
reveals nothing) and the address. The per-account limit stops guessing one password from anywhere; the
higher per-address limit stops spraying many accounts from one place without locking out everyone else
behind the same office address. While either key is spent, no password is checked at all.

Counters live in the `limits` library's storage — the one Flask-Limiter uses: in-process memory, or Redis
when REDIS_URL is set (shared by every worker) — in a moving window, so the wait is known exactly.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_EXTENSION = "login_throttle"
_NAMESPACE = "sign-in-failures"


class SignInThrottled(Exception):
    """Too many failed sign-ins for this account or from this address; `retry_after` in seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        self.retry_at = datetime.fromtimestamp(time.time() + retry_after, UTC)
        super().__init__(
            f"Too many failed sign-ins. Try again in {wait_in_words(retry_after)} (after {self.retry_at:%H:%M} UTC)."
        )


def wait_in_words(seconds: int) -> str:
    """45 → "45 seconds", 61 → "2 minutes", 900 → "15 minutes", 5400 → "2 hours"."""
    if seconds < 60:
        return _plural(max(seconds, 1), "second")
    minutes = math.ceil(seconds / 60)
    if minutes <= 90:
        return _plural(minutes, "minute")
    return _plural(math.ceil(minutes / 60), "hour")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class LoginThrottle:
    limiter: MovingWindowRateLimiter | None  # None: rate limits are switched off (RATELIMIT_ENABLED)
    per_account: RateLimitItem
    per_address: RateLimitItem

    def _keys(self, account: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        digest = hashlib.sha256(account.encode()).hexdigest()  # no email address in the storage's keys
        return [
            (self.per_account, (_NAMESPACE, "account", digest)),
            (self.per_address, (_NAMESPACE, "address", address or "unknown")),
        ]

    def check(self, account: str, address: str) -> None:
        """Raise SignInThrottled, with the longest wait, while the account (a normalised email) or the
        address is spent."""
        if self.limiter is None:
            return
        spent = [(item, ids) for item, ids in self._keys(account, address) if not self.limiter.test(item, *ids)]
        if spent:
            raise SignInThrottled(max(self._wait(item, ids) for item, ids in spent))

    def record_failure(self, account: str, address: str) -> None:
        """Count one failed sign-in against the account and the address."""
        if self.limiter is not None:
            for item, ids in self._keys(account, address):
                self.limiter.hit(item, *ids)

    def _wait(self, item: RateLimitItem, ids: tuple[str, ...]) -> int:
        reset_at = self.limiter.get_window_stats(item, *ids).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def init_app(app: Flask) -> None:
    """Build the app's throttle from LOGIN_FAILURES_PER_ACCOUNT/_PER_ADDRESS and RATELIMIT_STORAGE_URI."""
    config = app.config
    limiter = None
    if config.get("RATELIMIT_ENABLED", True):
        limiter = MovingWindowRateLimiter(storage_from_string(config.get("RATELIMIT_STORAGE_URI") or "memory://"))
    app.extensions[_EXTENSION] = LoginThrottle(
        limiter, parse(config["LOGIN_FAILURES_PER_ACCOUNT"]), parse(config["LOGIN_FAILURES_PER_ADDRESS"])
    )


def login_throttle() -> LoginThrottle:
    return current_app.extensions[_EXTENSION]
