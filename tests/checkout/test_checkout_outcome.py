"""The callback's page for a multi-vendor checkout: the success page with every vendor's order, the failure
page with a retry on the same checkout, the refunded and expired states in the customer's words."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.cart.checkout import start_checkout
from portal.cart.expiry import release_expired
from portal.cart.models import Checkout
from portal.cart.services import add_line
from portal.extensions import db
from portal.orders.models import Order
from portal.stock.models import Reservation
from portal.timeutil import utcnow
from tests.marketplace_fixtures import two_vendor_shop

CALLBACK = "/payments/razorpay/callback"


@pytest.fixture
def shop(sandbox):
    return two_vendor_shop()


@pytest.fixture
def checkout(shop, sandbox):
    """The demo customer's two-vendor checkout: a scarf from Loom, a lamp from Trail, its gateway order open."""
    add_line(shop.customer, shop.scarf.id, 1)
    add_line(shop.customer, shop.lamp.id, 2)
    sandbox.receive_webhooks()  # the callback alone must complete it
    made, _ = start_checkout(shop.customer, idempotency_key="outcome-test")
    return made


def orders_of(checkout) -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(select(Order).where(Order.checkout_id == checkout.id).order_by(Order.id)))


def test_the_success_page_lists_every_vendors_order_with_its_amount_and_status(client, sandbox, checkout):
    page = client.get(CALLBACK, query_string=sandbox.pay(checkout.gateway_order_id))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "your order is confirmed" in html
    loom, trail = orders_of(checkout)
    for order, vendor in ((loom, "Loom &amp; Co"), (trail, "Trail Rentals")):
        row = html.split(f'id="outcome-order-{order.id}"')[1].split("</tr>")[0]
        assert order.number in row and vendor in row and f"{order.total / 100:,.2f}" in row
    assert "waiting for the seller to confirm" in html  # Trail approves its orders by hand
    assert "became 2 orders, one per seller" in html and 'id="back-to-store"' in html


def test_the_callback_twice_still_makes_one_order_per_vendor(client, sandbox, checkout):
    params = sandbox.pay(checkout.gateway_order_id)
    client.get(CALLBACK, query_string=params)
    again = client.post(CALLBACK, data=params)
    assert again.status_code == 200 and "your order is confirmed" in again.get_data(as_text=True)
    assert len(orders_of(checkout)) == 2


def test_a_failed_payment_shows_a_retry_and_paying_again_completes_the_same_checkout(client, sandbox, checkout):
    failed = client.get(CALLBACK, query_string=_failure_params(sandbox, checkout))
    html = failed.get_data(as_text=True)
    assert failed.status_code == 200 and "Payment failed" in html and "nothing was charged" in html
    assert f'href="/sandbox/store/checkouts/{checkout.id}/pay"' in html
    db.session.expire_all()
    assert db.session.get(Checkout, checkout.id).status == "failed"
    assert {r.status for r in db.session.get(Checkout, checkout.id).reservations} == {"released"}

    paid = client.get(CALLBACK, query_string=sandbox.pay(checkout.gateway_order_id))
    assert "your order is confirmed" in paid.get_data(as_text=True) and len(orders_of(checkout)) == 2


def test_an_unconfirmed_failure_redirect_changes_nothing(client, sandbox, checkout):
    forged = {"error[code]": "BAD_REQUEST_ERROR", "error[metadata]": '{"payment_id": "pay_nope", "order_id": "%s"}'}
    page = client.get(
        CALLBACK, query_string={**forged, "error[metadata]": forged["error[metadata]"] % checkout.gateway_order_id}
    )
    assert page.status_code == 200 and "Payment failed" in page.get_data(as_text=True)
    db.session.expire_all()
    checkout = db.session.get(Checkout, checkout.id)
    assert checkout.status == "pending" and {r.status for r in checkout.reservations} == {"held"}


def test_a_failure_redirect_for_a_paid_checkout_shows_it_paid(client, sandbox, checkout):
    client.get(CALLBACK, query_string=sandbox.pay(checkout.gateway_order_id))
    meta = json.dumps({"payment_id": "pay_nope", "order_id": checkout.gateway_order_id})
    page = client.get(CALLBACK, query_string={"error[metadata]": meta})
    assert "your order is confirmed" in page.get_data(as_text=True) and len(orders_of(checkout)) == 2


def test_a_forged_signature_is_refused_and_creates_nothing(client, sandbox, checkout):
    params = {**sandbox.pay(checkout.gateway_order_id), "razorpay_signature": "0" * 64}
    page = client.get(CALLBACK, query_string=params)
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "could not verify" in html and checkout.number not in html
    assert orders_of(checkout) == [] and db.session.get(Checkout, checkout.id).status == "pending"


def test_a_payment_after_the_checkout_expired_is_refunded_and_said_so(client, sandbox, checkout):
    db.session.get(Checkout, checkout.id).expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    release_expired()
    page = client.get(CALLBACK, query_string=sandbox.pay(checkout.gateway_order_id))
    html = page.get_data(as_text=True)
    assert "This checkout has expired" in html and "after the checkout had expired" in html
    assert 'id="refund-notice"' in html and orders_of(checkout) == []
    assert db.session.get(Checkout, checkout.id).status == "refunded"


def test_a_vendor_that_stopped_selling_before_the_payment_means_a_refund_in_customer_words(
    client, sandbox, shop, checkout
):
    shop.trail.active = False
    db.session.commit()
    html = client.get(CALLBACK, query_string=sandbox.pay(checkout.gateway_order_id)).get_data(as_text=True)
    assert "Your payment is being refunded" in html
    assert "Trail Rentals stopped taking orders before your payment arrived." in html
    assert orders_of(checkout) == []
    held = db.session.scalar(select(func.count(Reservation.id)).where(Reservation.status == "held"))
    assert held == 0


def _failure_params(sandbox, checkout) -> dict:
    """What the hosted checkout's failure redirect carries (error[...] fields, the ids in error[metadata])."""
    error = sandbox.pay(checkout.gateway_order_id, outcome="failure")["error"]
    return {f"error[{k}]": (json.dumps(v) if isinstance(v, dict) else v) for k, v in error.items()}
