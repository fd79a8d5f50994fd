"""Capture mode: an auto order's payment is captured at once; a manual one waits for finance's Capture action.

Real sandbox behind the real SDK: the gateway order carries `payment_capture`, the hosted checkout pays it,
and the return page, verify-payment and the `payment.authorized` webhook each decide whether to capture.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.history.services import Actor
from portal.orders.checkout import open_gateway_order
from portal.orders.models import CaptureMode, Order
from portal.orders.services import place_order
from portal.payments.models import Payment
from portal.payments.services import capture_payment, confirm_checkout_payment


def _open(make, **fields) -> Order:
    order = place_order(make.customer(), [{"product_id": make.product().id, "quantity": 1}], **fields)
    return open_gateway_order(order.id)


def _reload(db, order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


def test_orders_are_auto_capture_by_default_and_tell_the_gateway(make, sandbox):
    order = _open(make)

    paid = sandbox.pay(order.gateway_order_id, outcome="success")

    assert order.capture_mode == CaptureMode.AUTO
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "captured"


def test_a_manual_order_asks_the_gateway_only_to_authorize(make, sandbox):
    order = _open(make, capture_mode=CaptureMode.MANUAL)
    sandbox.receive_webhooks()

    paid = sandbox.pay(order.gateway_order_id, outcome="success")

    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "authorized"
    assert sandbox.order(order.gateway_order_id)["status"] == "attempted"


def test_the_return_page_leaves_a_manual_order_authorized_for_finance(client, make, sandbox, db):
    order = _open(make, capture_mode=CaptureMode.MANUAL)
    sandbox.receive_webhooks()  # the return page alone decides here
    params = sandbox.pay(order.gateway_order_id, outcome="authorize")

    page = client.get("/payments/razorpay/callback", query_string=params)

    assert page.status_code == 200
    assert "Payment authorized" in page.get_data(as_text=True)
    order = _reload(db, order.id)
    assert order.status == "pending"
    assert [p.status for p in order.payments] == ["authorized"]
    assert sandbox.payment(params["razorpay_payment_id"])["status"] == "authorized"


def test_the_return_page_still_captures_an_authorized_payment_of_an_auto_order(client, make, sandbox, db):
    order = _open(make)
    sandbox.receive_webhooks()
    params = sandbox.pay(order.gateway_order_id, outcome="authorize")

    page = client.get("/payments/razorpay/callback", query_string=params)

    assert "Payment received" in page.get_data(as_text=True)
    assert _reload(db, order.id).status == "paid"
    assert sandbox.payment(params["razorpay_payment_id"])["status"] == "captured"


def test_verify_payment_does_not_capture_a_manual_order(make, sandbox, db):
    order = _open(make, capture_mode=CaptureMode.MANUAL)
    sandbox.receive_webhooks()
    params = sandbox.pay(order.gateway_order_id, outcome="authorize")

    outcome = confirm_checkout_payment(
        params["razorpay_order_id"], params["razorpay_payment_id"], params["razorpay_signature"], actor=Actor.gateway()
    )

    assert outcome.payment.status == "authorized" and outcome.order.status == "pending"
    assert sandbox.payment(params["razorpay_payment_id"])["status"] == "authorized"


def test_the_authorized_webhook_captures_an_auto_order_the_gateway_left_authorized(make, sandbox, db):
    order = _open(make)

    params = sandbox.pay(order.gateway_order_id, outcome="authorize")  # webhooks go to the portal
    sandbox.deliver()

    assert _reload(db, order.id).status == "paid"
    assert sandbox.payment(params["razorpay_payment_id"])["status"] == "captured"


def test_the_authorized_webhook_leaves_a_manual_order_for_finance(make, sandbox, db):
    order = _open(make, capture_mode=CaptureMode.MANUAL)

    params = sandbox.pay(order.gateway_order_id, outcome="success")
    sandbox.deliver()

    order = _reload(db, order.id)
    assert order.status == "pending"
    assert [p.status for p in order.payments] == ["authorized"]
    assert sandbox.payment(params["razorpay_payment_id"])["status"] == "authorized"


def test_finance_captures_a_manual_order_and_it_is_paid(make, sandbox, db):
    order = _open(make, capture_mode=CaptureMode.MANUAL)
    params = sandbox.pay(order.gateway_order_id, outcome="success")
    sandbox.deliver()
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id))

    capture_payment(payment.id, actor=Actor.system("test"))

    assert _reload(db, order.id).status == "paid"
    assert sandbox.payment(params["razorpay_payment_id"])["status"] == "captured"


@pytest.fixture
def manual_by_default(app):
    app.config["PAYMENT_CAPTURE"] = "manual"
    yield
    app.config["PAYMENT_CAPTURE"] = "auto"


@pytest.mark.usefixtures("manual_by_default")
def test_payment_capture_manual_makes_new_orders_manual(make, sandbox):
    order = _open(make)

    paid = sandbox.pay(order.gateway_order_id, outcome="success")

    assert order.capture_mode == CaptureMode.MANUAL
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "authorized"
