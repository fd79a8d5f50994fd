"""Times are stored as naive UTC (portable across SQLite and PostgreSQL).

Every "now" the app reads comes from `utcnow()` (or `unix_now()` for the sandbox's Unix stamps), and
both follow the clock: real time, unless `clock_at(moment)` has moved it. The demo seed uses that to
play months of history at the times they would have happened; nothing else moves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

# How far the clock is set from real time (None: not moved). A context variable, so a moved clock
# holds only for the code running inside `clock_at` (and what it calls in this thread).
_offset: ContextVar[timedelta | None] = ContextVar("portal_clock_offset", default=None)


def _real_utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def utcnow() -> datetime:
    """The current time by the clock, naive UTC."""
    offset = _offset.get()
    return _real_utcnow() if offset is None else _real_utcnow() + offset


def unix_now() -> float:
    """The current time by the clock, in Unix seconds (the gateway's and the sandbox's stamps)."""
    offset = _offset.get()
    return time.time() if offset is None else time.time() + offset.total_seconds()


def set_clock(moment: datetime) -> None:
    """Move the clock (inside `clock_at`) so that it reads `moment` now; it keeps ticking from there."""
    if _offset.get() is None:
        raise RuntimeError("set_clock() works only inside `with clock_at(...)`")
    _offset.set(moment - _real_utcnow())


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Run the block with the clock reading `moment` (naive UTC) and ticking on; `set_clock` moves it
    again; leaving the block restores real time."""
    token = _offset.set(moment - _real_utcnow())
    try:
        yield
    finally:
        _offset.reset(token)


def with_this_clock(fn: Callable) -> Callable:
    """`fn`, wrapped to run with the caller's clock: for work handed to another thread (context variables
    do not cross threads), such as the in-process gateway transport's."""
    offset = _offset.get()

    def run(*args, **kwargs):
        token = _offset.set(offset)
        try:
            return fn(*args, **kwargs)
        finally:
            _offset.reset(token)

    return run


def from_unix(ts: int | None) -> datetime | None:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None) if ts else None
