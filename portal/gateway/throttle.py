"""The gateway's rate limit, shared by every thread that uses one adapter.

Razorpay answers 429 "Too many requests" when an account sends too fast, and recommends backing off with
jitter; it does not publish the limit. So the limit is learnt, not configured (AIMD, as TCP does it): until
the first 429 nothing is paced; then requests start at most `first_rate` a second, and each further second
that still meets a 429 halves that pace (the gap between starts doubles: exponential back-off). Every 429
also pushes the next start out by a jittered gap, and every success raises the pace by `step` requests a
second, until it is fast enough to stop pacing. Every call takes the next free start slot before it is sent,
so a pool of reconcile threads slows down together, in turn, instead of each hammering the gateway on its
own schedule. (One halving per second, not per 429: rate limits count per second, and the threads refused in
one burst are one signal, not eight.)

Why not a library: tenacity/backoff retry one call (no pause shared across threads), and pyrate-limiter/limits
enforce a rate known up front (Razorpay's is not). What is needed is this small class; the sandbox, which *does*
know its own limit, uses `limits` (portal/sandbox/service.py).
"""

from __future__ import annotations

import random
import threading
import time

UNPACED = 0.0
EPISODE = 1.0  # seconds: 429s within this long of the last halving are the same episode


class Throttle:
    """Learnt pacing after 429s: `wait()` before each request, `rate_limited()` on a 429, `succeeded()` after."""

    def __init__(self, first_rate: float = 20.0, step: float = 1.0, free_rate: float = 500.0, min_rate: float = 1.0):
        # requests per second: the pace after the first 429, its rise per success, when to stop pacing, its floor
        self.first_rate, self.step, self.free_rate, self.min_rate = first_rate, step, free_rate, min_rate
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every 429 seen (as a fresh process would)."""
        with self._lock:
            self._rate = UNPACED  # requests a second we allow ourselves; UNPACED: no limit seen
            self._next = 0.0  # time.monotonic() of the next free start slot
            self._halved_at = float("-inf")  # when the pace was last set by a 429

    def wait(self, deadline: float) -> bool:
        """Take the next start slot and sleep until it; False (taking nothing) when it is past `deadline`."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            if slot >= deadline:
                return False
            if self._rate:
                self._next = slot + 1 / self._rate
        if slot > now:
            time.sleep(slot - now)
        return True

    def rate_limited(self, sent_at: float) -> float:
        """Record a 429 for a request sent at `sent_at` (monotonic); returns how long until the next start."""
        with self._lock:
            now = time.monotonic()
            if not self._rate:
                self._rate, self._halved_at = self.first_rate, now
            elif sent_at >= self._halved_at + EPISODE:  # still refused a second after the last halving
                self._rate, self._halved_at = max(self._rate / 2, self.min_rate), now
            gap = 1 / self._rate
            self._next = max(self._next, now + gap * random.uniform(0.5, 1.5))  # noqa: S311 (jitter)
            return max(self._next - now, 0.0)

    def succeeded(self) -> None:
        with self._lock:
            if self._rate:
                self._rate += self.step
                if self._rate >= self.free_rate:
                    self._rate = UNPACED

    @property
    def rate(self) -> float:
        """Requests a second we allow ourselves now (0: not pacing)."""
        return self._rate
