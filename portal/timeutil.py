"""Times are stored as naive UTC (portable across SQLite and PostgreSQL) and shown in the business's zone.

`TIMEZONE` (an IANA name, default Asia/Kolkata) is the zone of the business: every displayed time, every
date filter ("from 1 April" means 1 April there) and every document date (the invoice's financial year)
follows it. Conversion happens only here, at the edges; the database never sees a local time.

Every "now" the app reads comes from `utcnow()` (or `unix_now()` for the sandbox's Unix stamps), and
both follow the clock: real time, unless `clock_at(moment)` has moved it. The demo seed uses that to
play months of history at the times they would have happened; nothing else moves it.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Kolkata"

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
    return _time.time() if offset is None else _time.time() + offset.total_seconds()


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


@lru_cache(maxsize=8)
def zone_named(name: str) -> ZoneInfo:
    """The zone called `name`; ValueError for a name the zone database does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # ValueError: a malformed key such as "../x"
        raise ValueError(f"unknown time zone {name!r}") from exc


def business_zone() -> ZoneInfo:
    """The configured TIMEZONE (the default outside an application context)."""
    from flask import current_app, has_app_context

    name = current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return zone_named(name)


def to_local(moment: datetime) -> datetime:
    """A stored naive-UTC time as an aware time in the business's zone."""
    return moment.replace(tzinfo=UTC).astimezone(business_zone())


def to_utc(moment: datetime) -> datetime:
    """An aware time (or a naive one meaning the business's local time) as the naive UTC we store."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=business_zone())
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_date(moment: datetime) -> date:
    """The business's calendar date at a stored naive-UTC time."""
    return to_local(moment).date()


def local_today() -> date:
    return local_date(utcnow())


def day_start_utc(day: date) -> datetime:
    """The first instant of `day` in the business's zone, as naive UTC (zoneinfo handles DST and odd offsets).

    The ends of the calendar (year 1, year 9999) clamp to datetime.min/max instead of overflowing."""
    try:
        return to_utc(datetime.combine(day, time.min))
    except OverflowError:
        return datetime.min if day.year == 1 else datetime.max


def day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the business's calendar day `day`, as naive UTC."""
    end = day_start_utc(day + timedelta(days=1)) if day < date.max else datetime.max
    return day_start_utc(day), end


def local_day_sql(column):
    """SQL for the business's calendar date of a naive-UTC `column` (the dashboard's per-day buckets).

    PostgreSQL converts with its own zone database (exact across DST changes); SQLite has none, so it shifts
    by the zone's current UTC offset (exact for zones without DST, such as Asia/Kolkata)."""
    from sqlalchemy import func

    from portal.extensions import db

    zone = business_zone()
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone(zone.key, func.timezone("UTC", column)))
    minutes = int(datetime.now(zone).utcoffset().total_seconds() // 60)
    return func.date(column, f"{minutes:+d} minutes")
