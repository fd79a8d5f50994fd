"""Locked read-modify-writes are serialised on both databases: on PostgreSQL by FOR UPDATE, on SQLite (which
ignores FOR UPDATE) by a locked read taking the write lock (BEGIN IMMEDIATE) before it reads.

These run on the default SQLite and, with TEST_DATABASE_URL, on PostgreSQL: the same assertions on both.
Each thread is its own request: its own app context, session and connection.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.payments.services import apply_gateway_payment
from portal.refunds.settlement import apply_gateway_refund
from tests.helpers import run_together
from tests.webhooks import payloads

THREADS = 6
ROUNDS = 3


def transitions(entity_type: str, entity_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(HistoryEvent.from_state, HistoryEvent.to_state)
        .where(
            HistoryEvent.entity_type == entity_type,
            HistoryEvent.entity_id == entity_id,
            HistoryEvent.action == "transition",
        )
        .order_by(HistoryEvent.id)
    )
    return [tuple(row) for row in rows]


def test_one_capture_applied_at_once_by_return_page_and_webhook_writes_each_transition_once(app, make):
    for _ in range(ROUNDS):
        order = make.order()
        authorized = payloads.payment(order, "authorized")
        captured = dict(authorized, status="captured", captured=True, fee=236, tax=36)
        apply_gateway_payment(authorized, actor=Actor.gateway())

        results = run_together(
            app, lambda e=captured: apply_gateway_payment(dict(e), actor=Actor.gateway()).payment.id, THREADS
        )

        assert all(isinstance(r, int) for r in results), results
        db.session.expire_all()
        assert transitions("payment", results[0]) == [("created", "authorized"), ("authorized", "captured")]
        assert transitions("order", order.id) == [("pending", "paid")]


def test_one_refund_processed_at_once_by_two_deliveries_writes_its_transition_once(app, make):
    for _ in range(ROUNDS):
        order = make.order()
        paid = payloads.payment(order, "captured")
        apply_gateway_payment(paid, actor=Actor.gateway())
        pending = payloads.refund(paid, "pending", amount=paid["amount"] // 2)
        refund_id = apply_gateway_refund(pending, actor=Actor.gateway()).id
        processed = dict(pending, status="processed")

        refund = lambda e=processed: apply_gateway_refund(dict(e), actor=Actor.gateway()).id  # noqa: E731
        results = run_together(app, refund, THREADS)

        assert results == [refund_id] * THREADS, results
        db.session.expire_all()
        assert transitions("refund", refund_id) == [("pending", "processed")]
        assert transitions("order", order.id) == [("pending", "paid"), ("paid", "partially_refunded")]
