"""WEBHOOK_PROCESSING=queue: the web process only stores; `flask webhooks work` applies, once per event."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.webhooks import consumer
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads


def _queue_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_PROCESSING", "queue")


def test_in_queue_mode_the_endpoint_only_stores_the_event(app, monkeypatch, deliver, make):
    _queue_mode(app, monkeypatch)
    order = make.order()

    response = deliver("payment.captured", payment=payloads.payment(order))

    assert response.status_code == 200 and response.get_json() == {"status": "pending"}
    event = db.session.scalar(select(WebhookEvent))
    assert (event.status, event.attempts) == ("pending", 0)
    db.session.refresh(order)
    assert order.status == "pending"


def test_the_consumer_applies_each_stored_event_once(app, monkeypatch, deliver, make):
    _queue_mode(app, monkeypatch)
    orders = [make.order() for _ in range(3)]
    for order in orders:
        deliver("payment.captured", payment=payloads.payment(order))

    first, second = consumer.work_once(), consumer.work_once()

    assert first == {"processed": 3} and not second
    for order in orders:
        db.session.refresh(order)
        assert order.status == "paid"


def test_work_once_cli_reports_what_it_applied(app, monkeypatch, deliver, make, runner):
    _queue_mode(app, monkeypatch)
    deliver("payment.captured", payment=payloads.payment(make.order()))

    result = runner.invoke(args=["webhooks", "work", "--once"])

    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("webhooks work: 1 processed")


def test_two_consumers_racing_apply_every_event_once(postgres, app, monkeypatch, deliver, make):
    _queue_mode(app, monkeypatch)
    orders = [make.order() for _ in range(10)]
    for order in orders:
        deliver("payment.captured", payment=payloads.payment(order))
    results, barrier = [], threading.Barrier(2)

    def consume():
        with app.app_context():
            barrier.wait()
            results.append(consumer.work(until_empty=True))
            db.session.remove()

    threads = [threading.Thread(target=consume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(totals["processed"] for totals in results) == 10
    paid_transitions = db.session.scalar(
        select(func.count())
        .select_from(HistoryEvent)
        .where(HistoryEvent.entity_type == "order", HistoryEvent.to_state == "paid")
    )
    assert paid_transitions == 10
