"""Races that must apply money once (PostgreSQL: real row locks and concurrent transactions)."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.payments.services import apply_gateway_payment
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads


def _run_together(*jobs) -> list:
    """Start every job at the same instant (a barrier), each in its own thread and app context."""
    barrier, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def worker(index, job):
        barrier.wait()
        try:
            results[index] = job()
        except Exception as exc:  # a crash is a result the test asserts on
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _transitions(entity_type: str, entity_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(HistoryEvent.from_state, HistoryEvent.to_state).where(
            HistoryEvent.entity_type == entity_type,
            HistoryEvent.entity_id == entity_id,
            HistoryEvent.action == "transition",
        )
    )
    return [tuple(row) for row in rows]


def test_twenty_concurrent_deliveries_of_one_capture_apply_one_transition(postgres, app, make):
    order = make.order()
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order, "captured")))
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"]),
        "X-Razorpay-Event-Id": "EvConcurrent01",
    }

    def deliver():
        with app.app_context():
            response = app.test_client().post("/webhooks/razorpay", data=body, headers=headers)
            return response.status_code, response.get_json()["status"]

    results = _run_together(*[deliver] * 20)
    assert all(code == 200 for code, _ in results), results
    assert Counter(status for _, status in results) == {"processed": 1, "duplicate": 19}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    payment = db.session.scalars(select(Payment)).one()
    assert _transitions("payment", payment.id) == [("created", "authorized"), ("authorized", "captured")]
    assert _transitions("order", order.id) == [("pending", "paid")]


def test_webhook_racing_verify_payment_produces_one_payment_one_transition_one_history(postgres, app, make):
    """verify-payment ends in apply_gateway_payment after its gateway fetch; race it against the webhook."""
    orders = [make.order() for _ in range(8)]
    entities = [payloads.payment(order, "captured") for order in orders]
    secret = app.config["RAZORPAY_WEBHOOK_SECRET"]

    def webhook(entity):
        body = payloads.body_of(payloads.envelope("payment.captured", payment=entity))
        headers = {"X-Razorpay-Signature": payloads.sign(body, secret), "X-Razorpay-Event-Id": payloads.new_event_id()}

        def job():
            with app.app_context():
                return app.test_client().post("/webhooks/razorpay", data=body, headers=headers).get_json()["status"]

        return job

    def verify(entity):
        def job():
            with app.app_context():
                return apply_gateway_payment(dict(entity), actor=Actor.user(orders[0].customer)).payment.id

        return job

    for entity in entities:
        results = _run_together(webhook(entity), verify(entity))
        assert results[0] == "processed" and isinstance(results[1], int), results
    db.session.expire_all()
    for order, entity in zip(orders, entities, strict=True):
        payments = db.session.scalars(select(Payment).where(Payment.gateway_payment_id == entity["id"])).all()
        assert len(payments) == 1
        creates = db.session.scalar(
            select(func.count()).where(
                HistoryEvent.entity_type == "payment",
                HistoryEvent.entity_id == payments[0].id,
                HistoryEvent.action == "create",
            )
        )
        assert creates == 1
        assert _transitions("payment", payments[0].id) == [("created", "authorized"), ("authorized", "captured")]
        assert _transitions("order", order.id) == [("pending", "paid")]
        assert db.session.get(Order, order.id).status == "paid"
