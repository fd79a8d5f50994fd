"""Reconciliation and search reach a checkout's payment through its checkout and its allocations."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.cart.models import Checkout
from portal.extensions import db
from portal.orders.models import Order
from portal.payments.models import Payment
from tests.cart.test_checkout import fill_cart


def test_reconcile_completes_a_checkout_whose_payment_nobody_applied(api, shop, sandbox, runner):
    sandbox.receive_webhooks()  # the webhook is lost and the browser never comes back
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    sandbox.pay(data["gateway_order_id"])

    dry = runner.invoke(args=["payments", "reconcile", "--dry-run"])
    result = runner.invoke(args=["payments", "reconcile"])
    again = runner.invoke(args=["payments", "reconcile"])

    assert dry.exit_code == 0, dry.output
    assert "checkouts: 1 checked, 1 to repair, 0 failed" in dry.output
    assert result.exit_code == 0, result.output
    assert "checkout paid" in result.output
    assert db.session.get(Checkout, data["id"]).status == "paid"
    assert db.session.scalar(select(func.count(Order.id))) == 3
    assert "0 repaired" in again.output


def test_a_payments_sync_button_on_a_checkout_payment_syncs_its_checkout(api, shop, sandbox, auth, client):
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    sandbox.pay(data["gateway_order_id"])
    payment = db.session.scalars(select(Payment)).one()
    auth.login_as("finance")

    answer = client.post(f"/admin/payments/{payment.id}/sync", data={"csrf_token": auth.csrf_token("/admin/")})

    assert answer.status_code in (200, 303), answer.get_data(as_text=True)


def test_the_orders_list_searched_by_a_checkout_payment_id_shows_every_vendor_order(api, shop, sandbox, auth, client):
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    paid = sandbox.pay(data["gateway_order_id"])
    auth.login_as("viewer")

    page = client.get(f"/admin/orders?q={paid['razorpay_payment_id']}").get_data(as_text=True)

    for order in db.session.scalars(select(Order)):
        assert order.number in page


def test_the_hourly_schedule_completes_a_lost_checkout(api, shop, sandbox):
    from portal.cart.tasks import sync_recent_checkouts

    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    sandbox.pay(data["gateway_order_id"])

    line = sync_recent_checkouts.call_local()

    assert line == "checkouts: 1 checked, 1 repaired, 0 failed"
    assert db.session.get(Checkout, data["id"]).status == "paid"
