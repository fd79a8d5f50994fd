"""`flask jobs status` and `flask jobs purge`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.jobs import huey
from portal.jobs.locks import Lease
from portal.jobs.models import JobRun
from portal.timeutil import utcnow
from tests.jobs import sample_tasks
from tests.jobs.conftest import CLOSED_PORT_REDIS


def run_row(status: str, age_days: float, task: str = "remember") -> JobRun:
    started = utcnow() - timedelta(days=age_days)
    row = JobRun(task_name=task, task_id=f"t-{status}-{age_days}", status=status, started_at=started, args=[1])
    db.session.add(row)
    db.session.commit()
    return row


def test_status_lists_every_registered_schedule_with_its_crontab_and_next_run(runner):
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    assert "queued:    0" in result.output and "backend:   memory:// (JOBS_IMMEDIATE)" in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("  ")}
    assert "17 3 * * *" in lines["purge_job_runs"] and " next " in lines["purge_job_runs"]
    assert f"next {utcnow().year + 1}-01-01 00:00" in lines["new_year_schedule"]
    assert len(huey._registry._periodic_tasks) >= 2
    assert result.output.splitlines()[-1].startswith("jobs status: 0 queued, 0 scheduled, 0 failed in 24 h, ")


def test_status_counts_recent_failures_and_shows_held_locks(runner):
    sample_tasks.always_fails(1)
    run_row("error", 3)  # older than a day: not counted
    lease = Lease(huey, "schedule:new_year_schedule", 60, owner="host:123:abc")
    lease.acquire()
    try:
        result = runner.invoke(args=["jobs", "status"])
    finally:
        lease.release()
    assert "failed:    1 run(s) in the last 24 h" in result.output
    assert "schedule:new_year_schedule" in result.output and "by host:123:abc" in result.output
    assert "1 lock(s) held" in result.output


def test_status_exits_non_zero_when_the_backend_does_not_answer(queue_app):
    other = queue_app(CLOSED_PORT_REDIS)
    with other.app_context():
        result = other.test_cli_runner().invoke(args=["jobs", "status"])
    assert result.exit_code == 1
    assert "jobs status: backend redis://127.0.0.1:1/0 does not answer" in result.output


def test_purge_keeps_failures_longer_than_successes(runner):
    kept = [run_row("complete", 1), run_row("error", 20)]
    run_row("complete", 20)
    run_row("locked", 30)
    run_row("error", 100)

    dry = runner.invoke(args=["jobs", "purge", "--older-than", "14", "--dry-run"])
    assert dry.exit_code == 0 and "would delete 3 run(s) older than 14 day(s)" in dry.output
    assert db.session.scalar(select(db.func.count()).select_from(JobRun)) == 5

    real = runner.invoke(args=["jobs", "purge", "--older-than", "14"])
    assert real.exit_code == 0 and "deleted 3 run(s)" in real.output and "failures older than 60" in real.output
    assert sorted(db.session.scalars(select(JobRun.id))) == sorted(r.id for r in kept)

    again = runner.invoke(args=["jobs", "purge", "--older-than", "14"])
    assert "deleted 0 run(s)" in again.output


def test_the_purge_schedule_uses_the_configured_retention(app):
    run_row("complete", app.config["JOB_RUNS_KEEP_DAYS"] + 1)
    recent = run_row("complete", 0)
    from portal.jobs.tasks import purge_job_runs

    purge_job_runs()
    rows = list(db.session.scalars(select(JobRun).order_by(JobRun.id)))
    assert [r.id for r in rows if r.task_name == "remember"] == [recent.id]
    assert rows[-1].task_name == "purge_job_runs" and rows[-1].status == "complete"
