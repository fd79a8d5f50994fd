"""A checkout's one payment pays several vendor orders: a refund of one order refunds only its share."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.history.services import Actor
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.refunds.errors import InvalidRefund, RefundExceedsRefundable
from portal.refunds.services import create_refund
from portal.refunds.settlement import refundable_amount
from tests.cart.conftest import api, customer, shop  # noqa: F401  (fixtures)
from tests.cart.test_checkout import fill_cart

FINANCE = Actor.system("test finance")


@pytest.fixture
def paid_checkout(api, shop, sandbox):  # noqa: F811
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    assert api.post("/api/v1/checkout/verify", json=sandbox.pay(data["gateway_order_id"])).status_code == 200
    payment = db.session.scalars(select(Payment)).one()
    return payment, db.session.scalars(select(Order).order_by(Order.id)).all()


def test_refunding_one_vendor_order_refunds_its_share_only(paid_checkout, sandbox):
    payment, (lamps, kettle, tent) = paid_checkout

    refund = create_refund(payment.id, amount=None, reason="quality_issue", actor=FINANCE, order_id=kettle.id)

    db.session.expire_all()
    assert refund.amount == kettle.total and refund.order_id == kettle.id
    assert refund.status == "processed"
    assert kettle.status == "refunded"
    assert lamps.status == tent.status == "paid"
    assert payment.status == "partially_refunded" and payment.amount_refunded == kettle.total
    assert refundable_amount(payment, kettle.id) == 0
    assert refundable_amount(payment, lamps.id) == lamps.total
    assert sandbox.payment(payment.gateway_payment_id)["amount_refunded"] == kettle.total


def test_a_refund_cannot_take_more_than_the_orders_share(paid_checkout):
    payment, (lamps, _kettle, _tent) = paid_checkout

    with pytest.raises(RefundExceedsRefundable):
        create_refund(payment.id, amount=lamps.total + 1, reason="goodwill", actor=FINANCE, order_id=lamps.id)

    part = create_refund(payment.id, amount=1000, reason="goodwill", actor=FINANCE, order_id=lamps.id)
    db.session.expire_all()
    assert part.status == "processed" and lamps.status == "partially_refunded"
    with pytest.raises(RefundExceedsRefundable):
        create_refund(payment.id, amount=lamps.total, reason="goodwill", actor=FINANCE, order_id=lamps.id)


def test_a_payment_of_several_orders_needs_the_order_named(paid_checkout, make):
    payment, _orders = paid_checkout
    stranger = make.paid_order()[0]

    with pytest.raises(InvalidRefund, match="several orders"):
        create_refund(payment.id, amount=100, reason="goodwill", actor=FINANCE)
    with pytest.raises(InvalidRefund, match="did not pay"):
        create_refund(payment.id, amount=100, reason="goodwill", actor=FINANCE, order_id=stranger.id)


def test_the_order_pages_refund_form_refunds_that_order(paid_checkout, auth, client):
    payment, (_lamps, kettle, _tent) = paid_checkout
    auth.login_as("finance")
    token = auth.csrf_token(f"/admin/orders/{kettle.id}")

    page = client.get(f"/admin/orders/{kettle.id}").get_data(as_text=True)
    answer = client.post(
        "/admin/refunds",
        data={"payment_id": payment.id, "order_id": kettle.id, "reason": "quality_issue", "csrf_token": token},
    )

    assert f'name="order_id" value="{kettle.id}"' in page
    assert answer.status_code == 303, answer.get_data(as_text=True)
    db.session.expire_all()
    assert kettle.status == "refunded" and payment.amount_refunded == kettle.total
