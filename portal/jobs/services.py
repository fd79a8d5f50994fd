"""What the queue holds and what ran: the status snapshot, the run log, retry of a failed run, purge."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from portal.dbutil import for_update
from portal.extensions import db
from portal.jobs.locks import Holder, held
from portal.jobs.models import FAILED, JobRun, RunStatus
from portal.jobs.queue import huey
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
HORIZON = timedelta(days=31)  # how far ahead next_run looks for a crontab's next match
PAGE = 50
PURGE_BATCH = 5000


class BackendDown(RuntimeError):
    """The queue's storage (JOBS_BACKEND) did not answer."""


class NotRetryable(Exception):
    """This run cannot be retried (not failed, already retried, or its task no longer exists)."""


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str  # "minute hour day month weekday" (UTC), or "(crontab)" when declared without portal.jobs.crontab
    next_run: datetime | None  # naive UTC; None when nothing matches within HORIZON
    lock_name: str | None


@dataclass(frozen=True)
class Snapshot:
    backend: str
    queued: int
    scheduled: int
    failed_24h: int
    schedules: list[Schedule]
    locks: list[Holder]


def backend_label(url: str) -> str:
    """The JOBS_BACKEND URL without its credentials (immediate mode: none, jobs run where enqueued)."""
    if huey.immediate:
        return "memory:// (JOBS_IMMEDIATE)"
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}"


def snapshot(backend_url: str, now: datetime | None = None) -> Snapshot:
    """Queue depth, failures of the last day, the schedule (from Huey's registry) and the leases held."""
    now = now or utcnow()
    try:
        queued, scheduled, locks = huey.pending_count(), huey.scheduled_count(), held(huey)
    except Exception as exc:
        raise BackendDown(f"{backend_label(backend_url)} does not answer: {type(exc).__name__}: {exc}") from exc
    return Snapshot(
        backend_label(backend_url), queued, scheduled, failed_since(now - timedelta(hours=24)), schedules(now), locks
    )


def failed_since(moment: datetime) -> int:
    query = select(func.count()).select_from(JobRun).where(JobRun.status.in_(FAILED), JobRun.started_at >= moment)
    return db.session.scalar(query)


def schedules(now: datetime | None = None) -> list[Schedule]:
    """Every periodic task registered on the queue (each feature declares its own), with its next run."""
    now = now or utcnow()
    found = []
    for task_class in huey._registry._periodic_tasks:
        found.append(
            Schedule(
                name=task_class.__name__,
                cron=getattr(task_class, "cron_spec", None) or "(crontab)",
                next_run=next_run(task_class, now),
                lock_name=getattr(task_class, "lock_name", None),
            )
        )
    return sorted(found, key=lambda s: (s.next_run or datetime.max, s.name))


def next_run(task_class, now: datetime) -> datetime | None:
    """The first whole minute after `now` that the task's crontab matches (the consumer checks each minute)."""
    moment = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = now + HORIZON
    while moment <= end:
        if task_class.validate_datetime(None, moment):
            return moment
        moment += timedelta(minutes=1)
    return None


def task_class_named(name: str):
    for task_class in huey._registry._registry.values():
        if task_class.__name__ == name:
            return task_class
    return None


def task_names() -> list[str]:
    return sorted({t.__name__ for t in huey._registry._registry.values()})


def recent_runs(*, status: str = "", task: str = "", before: int | None = None, limit: int = PAGE) -> list[JobRun]:
    """Newest first; `before` (a run id) pages back."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if status:
        query = query.where(JobRun.status == status)
    if task:
        query = query.where(JobRun.task_name == task)
    if before:
        query = query.where(JobRun.id < before)
    return list(db.session.scalars(query))


def retry_run(run_id: int, *, by: str) -> JobRun:
    """Enqueue a failed run's task again with the arguments it had; the run is marked retried (once).

    The mark commits before the enqueue (so an immediate-mode run never waits on our lock) and is taken back
    if the queue does not answer; that BackendDown reaches the caller, unlike enqueue()'s sweep-backed sends.
    """
    run = db.session.scalars(for_update(select(JobRun).where(JobRun.id == run_id))).one()
    task_class = _check_retryable(run)
    args, kwargs = tuple(run.args or ()), dict(run.kwargs or {})
    run.retried_at, run.retried_by = utcnow(), by
    db.session.commit()
    try:
        huey.enqueue(task_class(args=args, kwargs=kwargs))
    except Exception as exc:
        run.retried_at = run.retried_by = None
        db.session.commit()
        raise BackendDown(f"the queue did not take the job: {type(exc).__name__}: {exc}") from exc
    log.info("job run %s (%s%r) retried by %s", run.id, run.task_name, args, by)
    return db.session.get(JobRun, run_id)


def _check_retryable(run: JobRun):
    if run.status not in FAILED:
        db.session.rollback()
        raise NotRetryable(f"only failed runs can be retried; this one is {run.status}")
    if run.retried_at is not None:
        db.session.rollback()
        raise NotRetryable(f"already retried by {run.retried_by}")
    task_class = task_class_named(run.task_name)
    if task_class is None:
        db.session.rollback()
        raise NotRetryable(f"no task named {run.task_name} in this version of the app")
    return task_class


def purge_runs(days: int, *, failed_days: int, dry_run: bool = False, progress=None) -> int:
    """Delete runs older than `days` (failed ones: older than `failed_days`, never fewer than `days`)."""
    now = utcnow()
    old = JobRun.started_at < now - timedelta(days=days)
    # Failures (and runs a dead worker left `running`) stay longer: they are what someone comes looking for.
    kept = JobRun.status.in_((*FAILED, RunStatus.RUNNING))
    condition = old & ~(kept & (JobRun.started_at >= now - timedelta(days=max(days, failed_days))))
    if dry_run:
        return db.session.scalar(select(func.count()).select_from(JobRun).where(condition))
    total = 0
    while ids := list(db.session.scalars(select(JobRun.id).where(condition).limit(PURGE_BATCH))):
        db.session.execute(delete(JobRun).where(JobRun.id.in_(ids)))
        db.session.commit()
        total += len(ids)
        if progress:
            progress(len(ids))
    return total
