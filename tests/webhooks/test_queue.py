"""WEBHOOK_PROCESSING=queue: the web process stores and enqueues; the `process_webhook_event` job applies each
event once; the sweep re-enqueues what nobody picked up; failures are retried with backoff.

Jobs run in immediate mode here (TestingConfig): an enqueue runs the job right after the store commits, in
its own app context, as a worker would. A jobs backend that is down is a real closed port.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.jobs.queue import configure, huey
from portal.orders.models import Order
from portal.timeutil import utcnow
from portal.webhooks import services, tasks
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads


@pytest.fixture
def queue_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_PROCESSING", "queue")


CLOSED_PORT_REDIS = "redis://127.0.0.1:1/2"  # nothing listens on port 1 (never an ephemeral one): every send fails


@contextlib.contextmanager
def jobs_backend_down(app):
    """JOBS_BACKEND at a Redis port nobody listens on, immediate mode off: every enqueue fails."""
    saved = app.config["JOBS_BACKEND"], app.config["JOBS_IMMEDIATE"]
    app.config.update(JOBS_BACKEND=CLOSED_PORT_REDIS, JOBS_IMMEDIATE=False)
    configure(app)
    try:
        yield
    finally:
        app.config["JOBS_BACKEND"], app.config["JOBS_IMMEDIATE"] = saved
        configure(app)


def paid_transitions() -> int:
    query = select(func.count()).select_from(HistoryEvent)
    return db.session.scalar(query.where(HistoryEvent.entity_type == "order", HistoryEvent.to_state == "paid"))


def only_event() -> WebhookEvent:
    db.session.expire_all()
    return db.session.scalars(select(WebhookEvent)).one()


def test_in_queue_mode_the_answer_is_pending_and_the_job_applies_the_event(queue_mode, deliver, make):
    order = make.order()

    response = deliver("payment.captured", payment=payloads.payment(order, "captured"))

    assert response.status_code == 200 and response.get_json() == {"status": "pending"}
    event = only_event()
    assert (event.status, event.attempts) == ("processed", 1)  # claimed 0 → 1 by the job, applied once
    assert db.session.get(Order, order.id).status == "paid"


def test_with_the_jobs_backend_down_the_delivery_is_still_stored_and_answered(app, queue_mode, deliver, make):
    order = make.order()
    with jobs_backend_down(app):
        assert not huey.immediate
        response = deliver("payment.captured", payment=payloads.payment(order, "captured"))

    assert response.status_code == 200 and response.get_json() == {"status": "pending"}
    event = only_event()
    assert (event.status, event.attempts) == ("pending", 0)
    assert services.sweep() == 0  # too fresh: its enqueue may still be on its way

    assert services.sweep(now=utcnow() + services.UNPICKED_AFTER + timedelta(seconds=1)) == 1

    assert only_event().status == "processed"
    assert db.session.get(Order, order.id).status == "paid"


@contextlib.contextmanager
def jobs_on_a_stalled_queue(app):
    """A real in-memory Huey queue with no worker: enqueued jobs wait there."""
    saved = app.config["JOBS_BACKEND"], app.config["JOBS_IMMEDIATE"]
    app.config.update(JOBS_BACKEND="memory://", JOBS_IMMEDIATE=False)
    configure(app)
    try:
        yield
    finally:
        huey.storage.flush_all()
        app.config["JOBS_BACKEND"], app.config["JOBS_IMMEDIATE"] = saved
        configure(app)


def webhook_jobs() -> int:
    return sum(1 for task in huey.pending() if task.name == "process_webhook_event")


def test_the_sweep_leaves_what_a_backlogged_queue_holds_and_re_enqueues_lost_events(app, queue_mode, deliver, make):
    with jobs_on_a_stalled_queue(app):
        for _ in range(3):
            deliver("payment.captured", payment=payloads.payment(make.order(), "captured"))
        later = utcnow() + services.UNPICKED_AFTER + timedelta(seconds=1)  # all three are now "unpicked"
        assert webhook_jobs() == 3  # (beside them: the orders' confirmation messages, waiting to be sent)
        assert services.sweep(now=later) == 0  # their jobs are waiting in the queue: nothing to add

        huey.storage.flush_queue()  # the queue lost them (a Redis without persistence restarted)
        assert services.sweep(now=later) == 3
        assert webhook_jobs() == 3
    db.session.expire_all()
    assert {event.attempts for event in db.session.scalars(select(WebhookEvent))} == {0}


def test_a_job_enqueued_twice_applies_the_event_once(app, queue_mode, deliver, make):
    order = make.order()
    with jobs_backend_down(app):
        deliver("payment.captured", payment=payloads.payment(order, "captured"))
    event_pk = only_event().id

    results = [tasks.process_webhook_event.call_local(event_pk) for _ in range(3)]

    assert results == ["processed", None, None]
    assert only_event().attempts == 1
    assert paid_transitions() == 1


def test_the_sweep_re_enqueues_an_event_whose_worker_died_mid_way(deliver, make, runner):
    order = make.order()
    deliver("payment.captured", payment=payloads.payment(order, "captured"))
    event = only_event()
    event.status, event.attempts = "pending", 1  # claimed, then the worker died before recording anything
    db.session.commit()
    assert services.unpicked() == []
    event.received_at = utcnow() - services.STUCK_AFTER - timedelta(seconds=1)
    db.session.commit()

    dry = runner.invoke(args=["webhooks", "sweep", "--dry-run"])
    assert dry.exit_code == 0 and "would re-enqueue 1 event(s)" in dry.output
    assert only_event().attempts == 1
    assert tasks.sweep_webhook_events.call_local() == 1

    assert (only_event().status, only_event().attempts) == ("processed", 2)


def test_work_cli_applies_stored_events_when_no_worker_runs(app, queue_mode, deliver, make, runner):
    orders = [make.order() for _ in range(3)]
    with jobs_backend_down(app):
        for order in orders:
            deliver("payment.captured", payment=payloads.payment(order, "captured"))

    dry = runner.invoke(args=["webhooks", "work", "--dry-run"])
    result = runner.invoke(args=["webhooks", "work"])
    again = runner.invoke(args=["webhooks", "work"])

    assert dry.exit_code == 0 and "3 event(s) waiting" in dry.output
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("webhooks work: 3 processed")
    assert again.output.strip().endswith("webhooks work: nothing to do")
    for order in orders:
        assert db.session.get(Order, order.id).status == "paid"


def test_background_is_a_deprecated_alias_of_queue(app):
    from portal import create_app
    from portal.config import TestingConfig

    same = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SANDBOX_DATABASE_URL")}
    other = create_app(TestingConfig, WEBHOOK_PROCESSING="background", **same)
    assert other.config["WEBHOOK_PROCESSING"] == "queue"
    with pytest.raises(RuntimeError, match="WEBHOOK_PROCESSING must be"):
        create_app(TestingConfig, WEBHOOK_PROCESSING="threads", **same)


def test_two_workers_racing_through_the_stored_events_apply_each_once(postgres, app, queue_mode, deliver, make):
    orders = [make.order() for _ in range(10)]
    with jobs_backend_down(app):
        for order in orders:
            deliver("payment.captured", payment=payloads.payment(order, "captured"))
    event_ids = list(db.session.scalars(select(WebhookEvent.id)))
    db.session.commit()
    results, barrier = [], threading.Barrier(2)

    def worker():
        with app.app_context():
            barrier.wait()
            results.append([tasks.process_webhook_event.call_local(pk) for pk in event_ids])
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    applied = [status for statuses in results for status in statuses if status is not None]
    assert applied == ["processed"] * 10
    assert paid_transitions() == 10


# ------------------------------------------------------------------ retry with backoff


def _failed_event(deliver, make) -> WebhookEvent:
    order = make.order()
    deliver("payment.captured", payment={**payloads.payment(order, "captured"), "status": "teleported"})
    return only_event()


def test_the_backoff_doubles_with_each_attempt_and_is_capped():
    delays = [services.retry_delay(n) for n in range(1, 10)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delays[-1] == services.RETRY_CAP and delays == sorted(delays)


def test_the_scheduled_retry_waits_for_the_backoff_then_retries(deliver, make, runner):
    event = _failed_event(deliver, make)
    assert (event.status, event.attempts) == ("failed", 1)
    failed_at = event.processed_at

    assert services.retryable(due_only=True) == []  # just failed: its minute has not passed
    assert tasks.retry_failed_webhooks.call_local() == {}
    dry = runner.invoke(args=["webhooks", "retry", "--due-only", "--dry-run"])
    assert "nothing to retry" in dry.output

    later = failed_at + services.retry_delay(1) + timedelta(seconds=1)
    assert services.retryable(due_only=True, now=later) == [event.id]
    assert services.retry_failed(due_only=True, now=later) == {"failed": 1}  # still broken: tried again
    event = only_event()
    assert event.attempts == 2
    after_second = event.processed_at + timedelta(seconds=61)
    assert services.retryable(due_only=True, now=after_second) == []  # now it waits two minutes
    assert services.retryable(due_only=True, now=event.processed_at + services.retry_delay(2)) == [event.id]


def test_the_scheduled_retry_applies_a_repaired_event_once_due(deliver, make):
    event = _failed_event(deliver, make)
    event.payload = event.payload.replace('"teleported"', '"captured"')
    event.processed_at = utcnow() - timedelta(minutes=2)
    db.session.commit()

    assert tasks.retry_failed_webhooks.call_local() == {"processed": 1}
    assert only_event().status == "processed"
    assert paid_transitions() == 1


def test_the_scheduled_retry_leaves_events_at_the_attempt_cap(deliver, make):
    event = _failed_event(deliver, make)
    event.attempts, event.processed_at = services.DEFAULT_MAX_ATTEMPTS, utcnow() - timedelta(days=1)
    db.session.commit()
    assert services.retryable(due_only=True) == []
