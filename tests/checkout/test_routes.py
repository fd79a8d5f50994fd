"""`/payments/razorpay/callback`: where hosted checkout and payment links return the customer."""

from __future__ import annotations

from portal.orders.models import Order


def test_checkout_callback_verifies_and_marks_the_order_paid(client, make, sandbox, db):
    from portal.orders.checkout import open_gateway_order
    from portal.orders.services import place_order

    customer = make.customer()
    order = place_order(customer, [{"product_id": make.product().id, "quantity": 1}])
    order = open_gateway_order(order.id)
    sandbox.receive_webhooks()  # the callback alone must settle it
    params = sandbox.pay(order.gateway_order_id)

    page = client.post("/payments/razorpay/callback", data=params)

    assert page.status_code == 200
    assert "Payment received" in page.get_data(as_text=True)
    assert db.session.get(Order, order.id).status == "paid"


def test_a_forged_callback_is_refused_and_changes_nothing(client, make, sandbox, db):
    from portal.orders.checkout import open_gateway_order
    from portal.orders.services import place_order

    order = open_gateway_order(place_order(make.customer(), [{"product_id": make.product().id}]).id)
    sandbox.receive_webhooks()
    params = {**sandbox.pay(order.gateway_order_id), "razorpay_signature": "0" * 64}

    page = client.get("/payments/razorpay/callback", query_string=params)

    assert page.status_code == 400
    assert "could not verify" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"
    assert db.session.get(Order, order.id).payments == []


def test_a_payment_link_callback_verifies_the_link_signature(client, make, sandbox, db):
    from portal.orders.checkout import ensure_payment_link
    from portal.orders.services import place_order

    order = place_order(make.customer(), [{"product_id": make.product().id}])
    order = ensure_payment_link(order.id, callback_url="http://127.0.0.1:5000/payments/razorpay/callback")
    sandbox.receive_webhooks()
    params = sandbox.pay_link(order.payment_link_id)

    forged = client.get("/payments/razorpay/callback", query_string={**params, "razorpay_signature": "f" * 64})
    page = client.get("/payments/razorpay/callback", query_string=params)

    assert forged.status_code == 400
    assert page.status_code == 200 and "Payment received" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"
    assert db.session.get(Order, order.id).gateway_order_id is None  # paid through the link's own order
