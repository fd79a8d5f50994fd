"""Capture and late-payment refunds (through the real adapter and the sandbox)."""

from __future__ import annotations

import pytest

from portal.history.services import Actor, history_of
from portal.orders.checkout import open_gateway_order
from portal.orders.models import Order
from portal.orders.services import cancel_order, place_order
from portal.payments.services import capture_payment, confirm_checkout_payment
from portal.refunds.models import Refund
from portal.statemachine import IllegalTransition


@pytest.fixture
def gateway_order(make, sandbox):
    sandbox.receive_webhooks()  # what happens here comes from the calls under test only
    order = place_order(make.customer(), [{"product_id": make.product().id}])
    return open_gateway_order(order.id)


def test_capture_of_an_authorized_payment_pays_the_order(gateway_order, sandbox, db, make):
    from portal.gateway import get_gateway
    from portal.payments.services import apply_gateway_payment

    paid = sandbox.pay(gateway_order.gateway_order_id, outcome="authorize")
    entity = get_gateway().fetch_payment(paid["razorpay_payment_id"])
    payment = apply_gateway_payment(entity, actor=Actor.gateway()).payment
    admin = make.staff("finance")

    captured = capture_payment(payment.id, actor=Actor.user(admin))

    assert captured.status == "captured"
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "captured"
    assert db.session.get(Order, gateway_order.id).status == "paid"
    with pytest.raises(IllegalTransition):
        capture_payment(payment.id, actor=Actor.user(admin))


def test_a_payment_landing_on_a_cancelled_order_is_kept_and_refunded(gateway_order, sandbox, db):
    params = sandbox.pay(gateway_order.gateway_order_id)  # paid at the gateway ...
    cancel_order(gateway_order.id, actor=Actor.system("test"), reason="customer changed their mind")  # ... raced

    outcome = confirm_checkout_payment(
        params["razorpay_order_id"], params["razorpay_payment_id"], params["razorpay_signature"], actor=Actor.gateway()
    )

    assert outcome.payment.status == "refunded"  # the sandbox processes a normal refund at once
    order = db.session.get(Order, gateway_order.id)
    assert order.status == "cancelled"
    assert "late_payment" in [e.action for e in history_of(order)]
    assert order.needs_refund is False  # cleared once the late payment is fully returned
    refunds = db.session.query(Refund).filter_by(order_id=order.id).all()
    assert [(r.reason, r.amount) for r in refunds] == [("late_payment", order.total)]
    assert refunds[0].gateway_refund_id and sandbox.refund(refunds[0].gateway_refund_id)["amount"] == order.total
    # The same payment applied again (a webhook, a second verify) refunds nothing more.
    confirm_checkout_payment(
        params["razorpay_order_id"], params["razorpay_payment_id"], params["razorpay_signature"], actor=Actor.gateway()
    )
    assert db.session.query(Refund).filter_by(order_id=order.id).count() == 1


def test_late_payments_are_only_flagged_when_auto_refund_is_off(app, gateway_order, sandbox, db):
    params = sandbox.pay(gateway_order.gateway_order_id)
    cancel_order(gateway_order.id, actor=Actor.system("test"))
    app.config["AUTO_REFUND_LATE_PAYMENTS"] = False
    try:
        confirm_checkout_payment(
            params["razorpay_order_id"],
            params["razorpay_payment_id"],
            params["razorpay_signature"],
            actor=Actor.gateway(),
        )
    finally:
        app.config["AUTO_REFUND_LATE_PAYMENTS"] = True

    assert db.session.get(Order, gateway_order.id).needs_refund is True
    assert db.session.query(Refund).count() == 0


def test_a_stale_gateway_entity_does_not_overwrite_newer_payment_details(make):
    from portal.history.services import Actor
    from portal.payments.services import apply_gateway_payment

    order = make.order()
    captured = make.payment_entity(order, "captured", fee=2360, method="card")
    apply_gateway_payment(captured, actor=Actor.gateway())
    late_authorized = dict(captured, status="authorized", fee=None, method="upi")

    outcome = apply_gateway_payment(late_authorized, actor=Actor.gateway())

    assert outcome.stale and outcome.payment.status == "captured"
    assert (outcome.payment.method, outcome.payment.fee) == ("card", 2360)
    assert outcome.payment.gateway_data["status"] == "captured"
