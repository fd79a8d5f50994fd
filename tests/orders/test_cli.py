"""`flask orders expire [--dry-run]`."""

from __future__ import annotations

from datetime import timedelta

from portal.orders.checkout import ensure_payment_link
from portal.orders.models import Order
from portal.timeutil import utcnow


def _overdue(make, **kw):
    order = make.order(**kw)
    order.expires_at = utcnow() - timedelta(minutes=1)
    from portal.extensions import db

    db.session.commit()
    return order


def test_dry_run_lists_and_changes_nothing(runner, make, db):
    order = _overdue(make)

    result = runner.invoke(args=["orders", "expire", "--dry-run"])

    assert result.exit_code == 0
    assert result.output.strip() == f"would expire 1 order(s): {order.number}"
    assert db.session.get(Order, order.id).status == "pending"


def test_overdue_pending_orders_expire_with_links_cancelled_once(runner, make, sandbox, db):
    kit = make.product(kind="good", stock=5)
    overdue = _overdue(make, products=[kit], quantity=2)
    fresh = make.order()
    paid, _payment = make.paid_order()
    ensure_payment_link(overdue.id, callback_url="http://127.0.0.1:5000/payments/razorpay/callback")

    first = runner.invoke(args=["orders", "expire"])
    second = runner.invoke(args=["orders", "expire"])

    assert first.exit_code == second.exit_code == 0
    assert first.output.strip() == "expired 1 order(s); cancelled 1 payment link(s)"
    assert second.output.strip() == "expired 0 order(s); cancelled 0 payment link(s)"
    db.session.expire_all()
    expired = db.session.get(Order, overdue.id)
    assert expired.status == "expired"
    assert sandbox.payment_link(expired.payment_link_id)["status"] == "cancelled"
    assert db.session.get(type(kit), kit.id).stock == 5  # stock taken by the order is back
    assert db.session.get(Order, fresh.id).status == "pending"
    assert db.session.get(Order, paid.id).status == "paid"


def test_an_overdue_order_holding_an_authorized_payment_waits_for_capture(runner, make, db):
    """A manual-capture order whose payment is authorized is not expired: finance can still capture it."""
    from portal.history.services import Actor
    from portal.orders.models import CaptureMode
    from portal.payments.services import apply_gateway_payment

    order = _overdue(make, capture_mode=CaptureMode.MANUAL)
    apply_gateway_payment(make.payment_entity(order, status="authorized"), actor=Actor.system("test"))

    result = runner.invoke(args=["orders", "expire"])

    assert result.exit_code == 0, result.output
    assert db.session.get(Order, order.id).status == "pending"
    assert order.number not in result.output
