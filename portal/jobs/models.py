"""One row per task run, written by the recorder (portal/jobs/recorder.py) from Huey's signals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.modelutil import NEVER_REUSE_IDS, one_of


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    ERROR = "error"  # failed, no retries left
    RETRYING = "retrying"  # failed (or asked to retry), Huey will run it again
    LOCKED = "locked"  # skipped: the previous run of the schedule still held its lock
    EXPIRED = "expired"
    REVOKED = "revoked"
    CANCELED = "canceled"
    INTERRUPTED = "interrupted"  # the worker stopped during the run


FAILED = (RunStatus.ERROR, RunStatus.INTERRUPTED)  # what /admin/jobs offers to retry


class JobRun(db.Model):
    __tablename__ = "job_runs"
    __table_args__ = (
        one_of("status", RunStatus),
        Index("ix_job_runs_status_started", "status", "started_at"),
        Index("ix_job_runs_task_started", "task_name", "started_at"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(String(120))
    task_id: Mapped[str] = mapped_column(String(64), index=True)  # Huey's id: the same across a task's retries
    args: Mapped[list | None] = mapped_column(JSON)
    kwargs: Mapped[dict | None] = mapped_column(JSON)
    periodic: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING)
    error: Mapped[str | None] = mapped_column(String(500))  # "ExceptionType: message"
    traceback: Mapped[str | None] = mapped_column(Text)
    retries_left: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid (or "immediate")
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    retried_at: Mapped[datetime | None]  # a person re-enqueued this failed run from /admin/jobs
    retried_by: Mapped[str | None] = mapped_column(String(255))

    @property
    def failed(self) -> bool:
        return self.status in FAILED
