"""The job-run log: one `job_runs` row per task run, written from Huey's signals.

A run costs one INSERT (when Huey starts executing it) and one UPDATE (when it ends: complete, error,
retrying, locked, canceled, interrupted); a task Huey skips without running (expired, revoked) is one
INSERT. Each write is its own short transaction on its own connection, never the task's session, so a
task's rollback does not lose its run record and the record never holds the task's locks.

Signals fire in the worker's threads, outside any app context: the recorder pushes the worker's app
(portal.jobs.queue keeps it), or uses the current app in immediate mode. It never lets its own failure
reach the task: a database error here is logged and the run goes unrecorded.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from contextlib import contextmanager

from flask import current_app, has_app_context
from huey import signals as S
from huey.api import PeriodicTask
from sqlalchemy import insert, text, update

from portal.extensions import db
from portal.jobs import queue
from portal.jobs.models import JobRun, RunStatus
from portal.timeutil import utcnow

log = logging.getLogger(__name__)

_open: dict[str, tuple[int, float]] = {}  # Huey task id -> (job_runs.id, monotonic start) while it runs
ENDED = {
    S.SIGNAL_COMPLETE: RunStatus.COMPLETE,
    S.SIGNAL_ERROR: RunStatus.ERROR,
    S.SIGNAL_TIMEOUT: RunStatus.ERROR,
    S.SIGNAL_RATE_LIMITED: RunStatus.ERROR,
    S.SIGNAL_LOCKED: RunStatus.LOCKED,
    S.SIGNAL_CANCELED: RunStatus.CANCELED,
    S.SIGNAL_INTERRUPTED: RunStatus.INTERRUPTED,
    S.SIGNAL_RETRYING: RunStatus.RETRYING,
}
SKIPPED = {S.SIGNAL_EXPIRED: RunStatus.EXPIRED, S.SIGNAL_REVOKED: RunStatus.REVOKED}
MESSAGES = {
    S.SIGNAL_TIMEOUT: "TaskTimeout: the run took longer than the task's timeout",
    S.SIGNAL_RATE_LIMITED: "RateLimitExceeded: the task's rate limit was reached",
    S.SIGNAL_LOCKED: "the previous run still holds the schedule's lock; this one was skipped",
    S.SIGNAL_INTERRUPTED: "the worker stopped during the run",
}


def connect(huey) -> None:
    """Attach the recorder to the queue's signals (once per process)."""
    huey.disconnect_signal(record)
    huey.signal(S.SIGNAL_EXECUTING, *ENDED, *SKIPPED)(record)


def record(signal: str, task, exc: BaseException | None = None) -> None:
    app = current_app._get_current_object() if has_app_context() else queue.worker_app()
    if app is None:
        return
    try:
        with app.app_context():
            _record(signal, task, exc)
    except Exception:  # the run log must never make a task fail
        log.exception("could not record %s of job %s (%s)", signal, task.name, task.id)


def _record(signal: str, task, exc) -> None:
    if signal == S.SIGNAL_EXECUTING:
        _open[task.id] = (_insert(task, RunStatus.RUNNING), time.monotonic())
        return
    opened = _open.pop(task.id, None)
    if signal in SKIPPED:
        _insert(task, SKIPPED[signal], finished=True)
    elif opened is not None:  # RETRYING after ERROR finds nothing open: the error's update said it already
        _finish(opened, task, signal, exc)


def _insert(task, status: str, *, finished: bool = False) -> int:
    now = utcnow()
    values = {
        "task_name": task.name,
        "task_id": task.id,
        "args": _plain(list(task.args or ())),
        "kwargs": _plain(dict(task.kwargs or {})) or None,
        "periodic": isinstance(task, PeriodicTask),
        "status": status,
        "retries_left": task.retries or 0,
        "worker": "immediate" if queue.huey.immediate else f"{socket.gethostname()}:{os.getpid()}",
        "started_at": now,
        "finished_at": now if finished else None,
        "duration_ms": 0 if finished else None,
    }
    with _transaction() as conn:
        return conn.execute(insert(JobRun).values(**values)).inserted_primary_key[0]


def _finish(opened: tuple[int, float], task, signal: str, exc) -> None:
    run_id, started = opened
    status = ENDED[signal]
    will_retry = bool(task.retries) and status in (RunStatus.ERROR, RunStatus.CANCELED)
    values = {
        "status": RunStatus.RETRYING if will_retry else status,
        "retries_left": task.retries or 0,
        "finished_at": utcnow(),
        "duration_ms": int((time.monotonic() - started) * 1000),
    }
    if exc is not None:
        values["error"] = f"{type(exc).__name__}: {exc}"[:500]
        values["traceback"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    elif signal in MESSAGES:
        values["error"] = MESSAGES[signal]
    with _transaction() as conn:
        conn.execute(update(JobRun).where(JobRun.id == run_id).values(**values))


@contextmanager
def _transaction():
    """A short transaction of the log's own. On PostgreSQL it does not wait for its WAL flush
    (synchronous_commit off, this transaction only): a crash can lose the last few run records, never a
    task's data, and a run no longer pays two disk flushes for its bookkeeping."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield conn


def _plain(value):
    """Task arguments as JSON (what a retry enqueues again); anything that is not plain becomes its repr."""
    return json.loads(json.dumps(value, default=repr))
