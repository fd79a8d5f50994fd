"""The send job on a real queue (not immediate mode): enqueued once when the change commits, never on
rollback, and the sweep enqueues what is due. The queue is Huey's in-memory storage; the jobs are taken off
it and run the way a worker runs them (huey.execute)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.extensions import db
from portal.jobs import huey
from portal.jobs.queue import configure
from portal.notifications.models import Audience, MessageStatus
from portal.notifications.outbox import queue_message
from portal.notifications.tasks import send_due_messages
from portal.timeutil import clock_at, set_clock
from tests.notifications.helpers import fresh, stored_message

T0 = datetime(2026, 4, 1, 10, 0, 0)


@pytest.fixture
def queue(app):
    """Huey queueing for real (in memory) for this test; immediate mode again afterwards."""
    configure(SimpleNamespace(config={"JOBS_BACKEND": "memory://", "JOBS_IMMEDIATE": False}))
    huey.flush()
    yield huey
    huey.flush()
    configure(app)


def _pending() -> list[tuple[str, tuple]]:
    return [(task.name, task.args) for task in huey.pending()]


def _run_pending() -> None:
    while (task := huey.dequeue()) is not None:
        huey.execute(task)


def test_the_send_job_is_enqueued_once_at_commit_and_sends(queue, smtp_server):
    message = queue_message("test_message", to="ops@shop.test", key="q:1", audience=Audience.STAFF)
    assert _pending() == []  # held until the transaction commits
    db.session.commit()
    assert _pending() == [("send_message", (message.id,))]
    _run_pending()
    assert fresh(message.id).status == MessageStatus.SENT and len(smtp_server.messages) == 1


def test_a_rolled_back_message_enqueues_nothing(queue):
    queue_message("test_message", to="ops@shop.test", key="q:2", audience=Audience.STAFF)
    db.session.rollback()
    assert _pending() == []


def test_the_sweep_enqueues_due_messages_only(queue, smtp_server):
    with clock_at(T0):
        lost = stored_message()  # its job never reached the queue
        set_clock(T0 + timedelta(minutes=5))
        fresh_row = stored_message()  # young: its own job is expected
        waiting = stored_message(next_attempt_at=T0 + timedelta(hours=1))
        assert send_due_messages.call_local() == 1
        assert _pending() == [("send_message", (lost,))]
        _run_pending()
    assert fresh(lost).status == MessageStatus.SENT
    assert fresh(fresh_row).status == fresh(waiting).status == MessageStatus.QUEUED
