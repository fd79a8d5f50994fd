"""A real worker process on Redis sends what the app queued: `flask jobs worker` in a subprocess, the queue in
Redis (database 3, or TEST_JOBS_REDIS_URL), the test database and the in-process SMTP server shared with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis

from portal.extensions import db
from portal.jobs import huey
from portal.jobs.queue import configure
from portal.notifications.models import Audience, MessageStatus
from portal.notifications.outbox import queue_message
from tests.notifications.helpers import fresh

REDIS_URL = os.environ.get("TEST_JOBS_REDIS_URL") or "redis://127.0.0.1:6379/3"
ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60  # an upper bound on waiting, not a timing assertion


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


pytestmark = [pytest.mark.slow, pytest.mark.skipif(not _redis_answers(), reason=f"no Redis at {REDIS_URL}")]


@pytest.fixture
def redis_queue(app):
    """The queue in Redis for this test. Test runs that share the Redis database (two checkouts at once) take
    turns under a Redis lock: one run's worker would otherwise take the other's jobs, for a row it cannot see."""
    lock = redis.Redis.from_url(REDIS_URL).lock("portal-tests:jobs-worker", timeout=300, blocking_timeout=600)
    assert lock.acquire(), "another test run held the worker-suite lock for 10 minutes"
    configure(SimpleNamespace(config={"JOBS_BACKEND": REDIS_URL, "JOBS_IMMEDIATE": False}))
    huey.flush()
    try:
        yield huey
    finally:
        huey.flush()
        configure(app)
        lock.release()


@pytest.fixture
def worker(app, smtp_server, redis_queue):
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "JOBS_BACKEND": REDIS_URL,
        "JOBS_IMMEDIATE": "0",
        "SMTP_URL": smtp_server.url,
        "MAIL_FROM": app.config["MAIL_FROM"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--workers", "1", "--no-schedule"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = process.stdout.readline()  # printed just before the consumer starts (or EOF if it died)
    assert banner.startswith("jobs worker:"), banner + process.communicate(timeout=10)[0]
    yield process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def _wait_until_not_queued(message_id: int):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        row = fresh(message_id)
        if row.status != MessageStatus.QUEUED or row.attempts:
            return row
        db.session.rollback()
        time.sleep(0.2)
    return fresh(message_id)


def test_a_worker_process_on_redis_sends_the_message_the_app_queued(worker, smtp_server):
    message = queue_message("test_message", to="ops@shop.test", key="worker:1", audience=Audience.STAFF)
    db.session.commit()  # the send job goes to Redis now, and the worker takes it
    row = _wait_until_not_queued(message.id)
    if row.status != MessageStatus.SENT:
        queued = huey.pending_count()
        worker.terminate()
        pytest.fail(
            f"status {row.status}, {queued} job(s) still in Redis, queue {huey.storage_class.__name__} "
            f"{huey.storage_kwargs} immediate={huey.immediate}; worker output:\n{worker.communicate(timeout=10)[0]}"
        )
    assert [m["To"] for m in smtp_server.messages] == ["ops@shop.test"]
