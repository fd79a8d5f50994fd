"""`flask demo seed`: a believable shop whose money adds up, built once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.auth.services import authenticate
from portal.catalog.models import Product
from portal.demo import seed as demo
from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.orders.models import Order
from portal.orders.status import OrderStatus
from portal.payments.models import Payment
from portal.refunds.models import Refund

ORDERS = 30


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["demo", "seed", "--customers", "8", "--orders", str(ORDERS), "--days", "30"])
    assert result.exit_code == 0, result.output
    return result


def test_seed_builds_a_shop_whose_money_adds_up(seeded):
    """One seed, many checks: seeding hashes passwords and walks every order through the services (slow)."""
    check_orders_cover_every_status_even_in_a_small_seed()
    check_every_paid_order_has_a_captured_payment_of_its_total()
    check_refunded_totals_match_order_status()
    check_orders_that_were_never_paid_hold_no_captured_money()
    check_payment_and_refund_amounts_are_positive_integers()
    check_every_order_has_history_from_its_creation()


def test_the_printed_demo_logins_work(seeded):
    assert f"{ORDERS} orders" in seeded.output
    assert "admin@demo.test" in seeded.output and demo.DEMO_PASSWORD in seeded.output
    for email, role in demo.DEMO_STAFF:
        assert authenticate(email, demo.DEMO_PASSWORD, staff=True).role == role
    assert authenticate(demo.DEMO_CUSTOMER, demo.DEMO_PASSWORD, staff=False).is_customer


def check_orders_cover_every_status_even_in_a_small_seed():
    statuses = Counter(db.session.scalars(select(Order.status)))
    assert sum(statuses.values()) == ORDERS
    assert set(statuses) == set(OrderStatus)
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.needs_refund)) >= 1  # late payment
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.status == "authorized")) >= 1


def check_every_paid_order_has_a_captured_payment_of_its_total():
    paid_like = ("paid", "partially_refunded", "refunded")
    for order in db.session.scalars(select(Order).where(Order.status.in_(paid_like))):
        captured = [p for p in order.payments if p.status in ("captured", "partially_refunded", "refunded")]
        assert len(captured) == 1, order.number
        assert captured[0].amount == order.total
        assert order.paid_at is not None


def check_refunded_totals_match_order_status():
    for order in db.session.scalars(select(Order)):
        refunded = sum(r.amount for r in order.refunds if r.status == "processed")
        if order.status == "refunded":
            assert refunded == order.total, order.number
        elif order.status == "partially_refunded":
            assert 0 < refunded < order.total, order.number
        else:
            assert refunded == 0 or order.needs_refund, order.number


def check_orders_that_were_never_paid_hold_no_captured_money():
    for order in db.session.scalars(select(Order).where(Order.status.in_(("pending", "failed", "expired")))):
        assert not [p for p in order.payments if p.status == "captured"], order.number


def check_payment_and_refund_amounts_are_positive_integers():
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.amount <= 0)) == 0
    assert db.session.scalar(select(func.count()).select_from(Refund).where(Refund.amount <= 0)) == 0


def check_every_order_has_history_from_its_creation():
    created = db.session.scalar(
        select(func.count())
        .select_from(HistoryEvent)
        .where(HistoryEvent.entity_type == "order", HistoryEvent.action == "create")
    )
    assert created == ORDERS


def test_a_second_run_changes_nothing(seeded, runner):
    counts = _counts()
    again = runner.invoke(args=["demo", "seed", "--customers", "8", "--orders", str(ORDERS)])
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert _counts() == counts


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Order, Payment, Refund))


def test_make_run_prints_the_real_demo_login():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert f"admin@demo.test / {demo.DEMO_PASSWORD}" in makefile


def test_seed_works_beside_a_catalogue_someone_already_started(runner, make):
    make.product(sku="MY-1", title="Our own course")
    result = runner.invoke(args=["demo", "seed", "--customers", "3", "--orders", "12"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 12
    skus = set(db.session.scalars(select(Product.sku)))
    assert "MY-1" in skus and {sku for sku, *_ in demo.COURSES + demo.GOODS} <= skus
