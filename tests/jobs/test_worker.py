"""A real `flask jobs worker` process on Redis, writing to the test database: it runs what this process
enqueues and records the run; a second worker that asks for the schedule is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.jobs import huey
from portal.jobs.models import JobRun

ROOT = Path(__file__).resolve().parents[2]
FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "jobs"]
WAIT = 60  # seconds: a bound on waiting for the worker, not an assertion about its speed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("PORTAL_SKIP_WORKER") == "1", reason="the real-worker suite runs in the PostgreSQL pass"
    ),
]


def worker_env(app, redis_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBS_", "DATABASE_URL", "APP_ENV"))}
    env.update(
        APP_ENV="development",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SANDBOX_DATABASE_URL=app.config["SANDBOX_DATABASE_URL"],
        JOBS_BACKEND=redis_url,
        JOBS_IMMEDIATE="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def worker(app, queue_app, redis_url):
    queue_app(redis_url)
    huey.storage.flush_all()
    env = worker_env(app, redis_url)
    proc = subprocess.Popen(  # noqa: S603 (our own flask CLI, fixed arguments)
        [*FLASK, "worker", "--workers", "2", "--schedule", "--max-delay", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = proc.stdout.readline()
    assert "jobs worker: 2 thread(s), schedule on" in banner, banner + (proc.stdout.read() if proc.poll() else "")
    yield proc, env
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    huey.storage.flush_all()


def _wait_for_run(task_name: str) -> JobRun:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot each poll
        run = db.session.scalar(select(JobRun).where(JobRun.task_name == task_name, JobRun.status != "running"))
        if run is not None:
            return run
        time.sleep(0.2)
    pytest.fail(f"the worker recorded no finished {task_name} run within {WAIT}s")


def test_a_real_worker_runs_an_enqueued_job_and_records_the_run(worker):
    proc, _ = worker
    from portal.jobs.tasks import purge_job_runs

    purge_job_runs()  # enqueued on Redis: this process only sends it

    run = _wait_for_run("purge_job_runs")
    assert run.status == "complete", (run.error, run.traceback)
    assert run.worker.endswith(f":{proc.pid}") and run.duration_ms is not None


def test_a_second_worker_asking_for_the_schedule_is_refused_and_status_names_the_holder(worker):
    proc, env = worker
    second = subprocess.run(  # noqa: S603 (our own flask CLI, fixed arguments)
        [*FLASK, "worker", "--schedule"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert second.returncode != 0
    assert "another worker already runs the schedule" in second.stderr and "--no-schedule" in second.stderr

    status = subprocess.run(  # noqa: S603 (our own flask CLI, fixed arguments)
        [*FLASK, "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert status.returncode == 0, status.stderr
    assert f":{proc.pid}:" in status.stdout and "scheduler" in status.stdout
    assert "purge_job_runs" in status.stdout


def test_a_scheduler_killed_on_this_machine_does_not_block_the_next_one(worker):
    proc, env = worker
    proc.kill()  # no chance to release its lease
    proc.wait(timeout=20)
    successor = subprocess.Popen(  # noqa: S603 (our own flask CLI, fixed arguments)
        [*FLASK, "worker", "--schedule"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        banner = successor.stdout.readline()
        assert "schedule on" in banner, banner + (successor.stdout.read() if successor.poll() is not None else "")
    finally:
        successor.terminate()
        successor.wait(timeout=20)
