"""A real `flask jobs worker` process on Redis applies a webhook the web app only stored and enqueued.

PostgreSQL pass only (the worker is a second process on the test database; SQLite's file would do, but CI's
must-show runs on the production pair, PostgreSQL + Redis). Redis: TEST_REDIS_URL, else database 2 locally.
The worker is started as the Procfile does, with the environment a deployment gives it, and killed after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.jobs.queue import configure, huey
from portal.orders.models import Order
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads
from tests.webhooks.conftest import Deliver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("PORTAL_SKIP_WORKER") == "1", reason="the real-worker suite runs in the PostgreSQL pass"
    ),
]
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/2"


class RealWorker:
    """`flask --app wsgi jobs worker` in a subprocess, its output kept for the failure message."""

    def __init__(self, app, log_path: Path, *, schedule: bool):
        inherited = ("JOBS_", "DATABASE_URL", "APP_ENV", "WEBHOOK_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
        env |= {
            "APP_ENV": "development",  # as deployed: nothing in the worker is test-specific
            "JOBS_IMMEDIATE": "0",
            "JOBS_BACKEND": REDIS_URL,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "PAYMENT_GATEWAY": "sandbox",
            "SANDBOX_DATABASE_URL": app.config["SANDBOX_DATABASE_URL"],
            "PYTHONUNBUFFERED": "1",
        }
        args = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--workers", "2", "--verbose"]
        args.append("--schedule" if schedule else "--no-schedule")
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)  # noqa: S603

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for(self, check, *, timeout: float, what: str):
        """Poll `check()` (a fresh read of the database) until it is truthy; fail with the worker's output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            db.session.expire_all()
            result = check()
            db.session.rollback()  # end the read: the next poll sees the worker's commits
            if result:
                return result
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}) before {what}:\n{self.output()}")
            time.sleep(0.2)
        pytest.fail(f"not within {timeout:.0f} s: {what}\nworker output:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Huey's graceful stop: finish the task in hand
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()


@contextlib.contextmanager
def web_app_on_redis(app):
    """The test app as a deployed web process: WEBHOOK_PROCESSING=queue, jobs sent to Redis (not run here).
    `huey` is process-wide: the session's immediate mode is restored on the way out."""
    saved = {key: app.config[key] for key in ("WEBHOOK_PROCESSING", "JOBS_BACKEND", "JOBS_IMMEDIATE")}
    app.config.update(WEBHOOK_PROCESSING="queue", JOBS_BACKEND=REDIS_URL, JOBS_IMMEDIATE=False)
    configure(app)
    try:
        huey.storage.flush_all()  # this queue's keys only (never FLUSHALL): nothing left from an earlier run
        yield
    finally:
        app.config.update(saved)
        configure(app)


@pytest.fixture
def start_worker(postgres, tmp_path):
    """start_worker(schedule=...) → a running RealWorker, stopped (and its Redis keys flushed) in teardown."""
    workers = []

    def start(*, schedule: bool) -> RealWorker:
        worker = RealWorker(postgres, tmp_path / f"worker-{len(workers)}.log", schedule=schedule)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def test_a_webhook_stored_by_the_web_app_is_applied_by_a_real_worker(app, start_worker, client, make):
    order = make.order()
    with web_app_on_redis(app):
        assert not huey.immediate and huey.storage.__class__.__name__ == "RedisStorage"
        worker = start_worker(schedule=False)  # no sweep: the enqueue alone must get the event applied

        response = Deliver(client, app)("payment.captured", payment=payloads.payment(order, "captured"))

        assert response.status_code == 200 and response.get_json() == {"status": "pending"}
        event_pk = db.session.scalar(select(WebhookEvent.id))
        worker.wait_for(  # the event's outcome is the worker's last write
            lambda: db.session.get(WebhookEvent, event_pk).status != "pending", timeout=60, what="the event is applied"
        )

    event = db.session.get(WebhookEvent, event_pk)
    assert (event.status, event.attempts) == ("processed", 1)
    assert db.session.get(Order, order.id).status == "paid"
    assert event.payment_id is not None and event.order_id == order.id
    assert "process_webhook_event" in worker.output()
