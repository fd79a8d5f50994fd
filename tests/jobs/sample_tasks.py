"""Tasks the jobs tests enqueue (declared once, on the one queue, like any feature's tasks.py)."""

from __future__ import annotations

from portal.jobs import crontab, job, schedule

calls: list = []  # what the tasks did, in this process (immediate mode runs them here)
_failed_once: set = set()


@job()
def remember(value):
    calls.append(value)


@job()
def always_fails(value):
    raise ValueError(f"boom {value}")


@job(retries=1)
def fails_twice(value):
    raise RuntimeError(f"still broken {value}")


@job()
def flaky(key):
    """Fails on its first run for a key, then works (what a retry from /admin/jobs is for)."""
    if key not in _failed_once:
        _failed_once.add(key)
        raise ConnectionError(f"gateway timed out for {key}")
    calls.append(("flaky", key))


@schedule(crontab(minute="0", hour="0", day="1", month="1"), lock_ttl=60)
def new_year_schedule():
    calls.append("new-year")


def reset() -> None:
    calls.clear()
    _failed_once.clear()
