"""The money rule under concurrent clicks, on PostgreSQL (SQLite serialises writers, so only PostgreSQL shows it).

Each thread is its own request: its own app context, session and connection, racing for the payment row.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor
from portal.payments.models import Payment
from portal.refunds.errors import RefundError
from portal.refunds.models import Refund
from portal.refunds.services import create_refund


def race(app, payment_id: int, amounts: list[int | None]) -> tuple[list[int], list[str]]:
    """Start every create_refund at once; (ids of created refunds, refusal messages)."""
    created, refused, barrier, lock = [], [], threading.Barrier(len(amounts)), threading.Lock()

    def click(amount):
        with app.app_context():
            barrier.wait()
            try:
                refund = create_refund(payment_id, amount=amount, reason="goodwill", actor=Actor.system("click"))
                with lock:
                    created.append(refund.id)
            except RefundError as exc:
                with lock:
                    refused.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click, args=(amount,)) for amount in amounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    return created, refused


def test_twenty_concurrent_ten_percent_refunds_refund_exactly_the_captured_amount(postgres, paid):
    _, payment = paid(price=100000)  # 1,180.00 captured
    tenth = payment.amount // 10
    created, refused = race(postgres, payment.id, [tenth] * 20)

    assert len(created) == 10 and len(refused) == 10
    assert all("still refundable" in m or "Nothing is left" in m for m in refused)
    db.session.expire_all()
    statuses = db.session.scalars(select(Refund.status).where(Refund.payment_id == payment.id)).all()
    assert statuses == ["processed"] * 10
    total = db.session.scalar(select(func.sum(Refund.amount)).where(Refund.payment_id == payment.id))
    assert total == payment.amount
    settled = db.session.get(Payment, payment.id)
    assert (settled.amount_refunded, settled.status, settled.order.status) == (payment.amount, "refunded", "refunded")
    at_gateway = get_gateway().fetch_payment_refunds(payment.gateway_payment_id)
    assert sum(r["amount"] for r in at_gateway) == payment.amount and len(at_gateway) == 10


def test_a_concurrent_full_and_partial_refund_one_wins(postgres, paid):
    for _ in range(3):
        _, payment = paid(price=100000)
        # What the confirmations showed: the full captured amount, and half of it.
        created, refused = race(postgres, payment.id, [payment.amount, payment.amount // 2])

        assert len(created) == 1 and len(refused) == 1
        db.session.expire_all()
        [winner] = db.session.scalars(select(Refund).where(Refund.payment_id == payment.id)).all()
        assert winner.status == "processed" and winner.amount in (payment.amount, payment.amount // 2)
        assert [r["amount"] for r in get_gateway().fetch_payment_refunds(payment.gateway_payment_id)] == [winner.amount]
