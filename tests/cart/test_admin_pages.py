"""A checkout's payment (it pays several vendor orders, none of its own) shows on the staff pages without error."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.refunds.models import Refund
from tests.cart.test_checkout import fill_cart


def _paid(api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    api.post("/api/v1/checkout/verify", json=sandbox.pay(data["gateway_order_id"]))
    return db.session.scalars(select(Payment)).one()


def test_the_payment_list_and_page_show_a_checkout_payment_with_its_orders(api, shop, sandbox, auth, client):
    payment = _paid(api, shop, sandbox)
    auth.login_as("finance")

    listed = client.get("/admin/payments")
    page = client.get(f"/admin/payments/{payment.id}")

    assert listed.status_code == 200 and payment.gateway_payment_id in listed.get_data(as_text=True)
    assert page.status_code == 200
    for order in db.session.scalars(select(Order)):
        assert client.get(f"/admin/orders/{order.id}").status_code == 200


def test_a_checkout_refund_without_an_order_shows_on_the_refund_pages(api, shop, sandbox, auth, client):
    from datetime import timedelta

    from portal.cart.models import Checkout

    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    checkout = db.session.get(Checkout, data["id"])
    checkout.expires_at -= timedelta(hours=1)
    db.session.commit()
    api.post("/api/v1/checkout/verify", json=sandbox.pay(data["gateway_order_id"]))
    refund = db.session.scalars(select(Refund)).one()
    payment = db.session.scalars(select(Payment)).one()
    auth.login_as("finance")

    for path in ("/admin/refunds", f"/admin/refunds/{refund.id}", "/admin/payments", f"/admin/payments/{payment.id}"):
        assert client.get(path).status_code == 200, path


def test_a_vendor_sees_only_its_own_share_of_a_checkout_payment(api, shop, sandbox, auth, client):
    from portal.auth.models import Role
    from portal.auth.services import upsert_user
    from tests import factories

    payment = _paid(api, shop, sandbox)
    crafts = shop["vendors"][0]
    user, _ = upsert_user("crafts@vendor.test", factories.PASSWORD, Role.VENDOR, vendor_id=crafts.id)
    db.session.commit()
    orders = db.session.scalars(select(Order).order_by(Order.id)).all()
    own = [o for o in orders if o.vendor_id == crafts.id]
    others = [o for o in orders if o.vendor_id != crafts.id]
    auth.login(user.email)

    page = client.get(f"/admin/payments/{payment.id}").get_data(as_text=True)

    assert len(own) == 1 and len(others) == 2
    assert own[0].number in page
    assert all(o.number not in page for o in others)
    assert "gateway-json" not in page  # the raw entity describes the whole purchase
