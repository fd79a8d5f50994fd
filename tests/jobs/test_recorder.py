"""The job-run log: one row per run, with its outcome, arguments, error and traceback."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine, select

from portal import create_app
from portal.config import TestingConfig
from portal.extensions import db
from portal.jobs.models import JobRun
from tests.jobs import sample_tasks


def _runs() -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).order_by(JobRun.id)))


def test_a_successful_run_is_recorded_complete_with_its_arguments():
    sample_tasks.remember(41)
    (run,) = _runs()
    assert (run.task_name, run.status, run.args, run.periodic) == ("remember", "complete", [41], False)
    assert run.finished_at >= run.started_at and run.duration_ms >= 0
    assert run.error is None and run.worker == "immediate" and run.task_id


def test_a_failing_run_is_recorded_with_its_error_and_traceback():
    sample_tasks.always_fails("x")
    (run,) = _runs()
    assert run.status == "error" and run.failed
    assert run.error == "ValueError: boom x"
    assert "Traceback" in run.traceback and 'raise ValueError(f"boom {value}")' in run.traceback


def test_a_run_that_will_be_retried_is_recorded_retrying_then_the_last_one_error():
    sample_tasks.fails_twice("y")  # retries=1: immediate mode runs the retry at once
    first, second = _runs()
    assert (first.status, first.retries_left) == ("retrying", 1)
    assert (second.status, second.retries_left) == ("error", 0)
    assert first.task_id == second.task_id  # Huey keeps the id across a task's retries
    assert "RuntimeError: still broken y" == first.error == second.error


def test_a_run_the_recorder_cannot_write_still_runs(tmp_path, caplog):
    """A database without the job_runs table: the task does its work; the recorder only logs."""
    other = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'no-log.sqlite'}")
    engine = create_engine(other.config["SQLALCHEMY_DATABASE_URI"])
    tables = [t for name, t in db.metadata.tables.items() if name != "job_runs"]
    db.metadata.create_all(engine, tables=tables)
    engine.dispose()
    with other.app_context(), caplog.at_level(logging.ERROR, logger="portal.jobs.recorder"):
        sample_tasks.remember("still done")
        db.engine.dispose()
    assert sample_tasks.calls == ["still done"]
    assert "could not record" in caplog.text


def test_a_task_huey_skips_is_recorded_once_with_the_reason():
    sample_tasks.remember.revoke()
    try:
        sample_tasks.remember("skipped")
    finally:
        sample_tasks.remember.restore()
    (run,) = _runs()
    assert (run.status, run.args, run.duration_ms) == ("revoked", ["skipped"], 0)
    assert sample_tasks.calls == []
