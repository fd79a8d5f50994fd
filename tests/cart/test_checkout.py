"""The multi-vendor checkout through the real adapter, the real SDK and the sandbox's hosted checkout."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.cart.models import CartLine, Checkout
from portal.extensions import db
from portal.history.services import history_of
from portal.invoices.models import Invoice
from portal.notifications.models import OutboxMessage
from portal.orders.models import LineType, Order
from portal.payments.models import Payment, PaymentAllocation
from portal.refunds.models import Refund
from portal.stock.models import Reservation
from tests.cart.conftest import days_from_today


def fill_cart(api, shop, tent_days=(3, 4)):
    api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id, "quantity": 2, "options": ["gift_wrap"]})
    api.post("/api/v1/cart/items", json={"product_id": shop["kettle"].id, "quantity": 1})
    start, end = (str(days_from_today(d)) for d in tent_days)
    api.post("/api/v1/cart/items", json={"product_id": shop["tent"].id, "rental_start": start, "rental_end": end})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_three_vendor_cart_is_one_payment_three_paid_orders_and_three_invoices(api, shop, sandbox):
    sandbox.receive_webhooks()  # verify alone completes it here
    fill_cart(api, shop)
    total = api.get("/api/v1/cart").get_json()["data"]["total"]

    started = api.post("/api/v1/checkout", json={"payment_method": "razorpay"})

    assert started.status_code == 201, started.get_json()
    data = started.get_json()["data"]
    assert data["amount"] == total and data["status"] == "pending" and data["key_id"]
    assert [v["vendor"]["name"] for v in data["vendors"]] == ["Asha Crafts", "Brass Works", "Camp Co"]
    gateway_order = sandbox.order(data["gateway_order_id"])
    assert gateway_order["amount"] == total and gateway_order["receipt"] == data["number"]
    assert count(Reservation) == 3

    paid = sandbox.pay(data["gateway_order_id"])
    verified = api.post("/api/v1/checkout/verify", json=paid)

    assert verified.status_code == 200, verified.get_json()
    body = verified.get_json()["data"]
    assert body["checkout"]["status"] == "paid" and len(body["orders"]) == 3
    assert body["total_amount"] == total == sum(o["amount"] for o in body["orders"])
    assert {o["status"] for o in body["orders"]} == {"paid"}
    payment = db.session.scalars(select(Payment)).one()
    assert payment.order_id is None and payment.checkout_id == data["id"] and payment.amount == total
    allocations = db.session.scalars(select(PaymentAllocation)).all()
    assert sorted(a.amount for a in allocations) == sorted(o["amount"] for o in body["orders"])
    orders = db.session.scalars(select(Order).order_by(Order.id)).all()
    assert [o.vendor.name for o in orders] == ["Asha Crafts", "Brass Works", "Camp Co"]
    assert all(o.payments == [payment] for o in orders)
    tent_order = orders[2]
    assert [i.line_type for i in tent_order.items] == [LineType.RENTAL, LineType.DEPOSIT]
    assert tent_order.items[1].tax_amount == 0 and tent_order.items[1].taxable_amount == 200000
    assert ("pending", "paid") in [(e.from_state, e.to_state) for e in history_of(orders[0])]
    assert shop["lamp"].stock == 3 and shop["kettle"].stock == 1 and shop["tent"].stock == 1
    assert {r.status for r in db.session.scalars(select(Reservation))} == {"committed"}
    assert count(CartLine) == 0
    invoices = db.session.scalars(select(Invoice).order_by(Invoice.order_id)).all()
    assert [i.order_id for i in invoices] == [o.id for o in orders]


def test_the_checkout_shows_with_its_orders_and_each_vendor_order_shows_the_payment(api, other_api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    api.post("/api/v1/checkout/verify", json=sandbox.pay(data["gateway_order_id"]))

    detail = api.get(f"/api/v1/checkouts/{data['id']}")
    orders = detail.get_json()["data"]["orders"]
    order = api.get(f"/api/v1/orders/{orders[1]['id']}").get_json()["data"]
    listed = api.get("/api/v1/orders/my-orders").get_json()["data"]

    assert detail.status_code == 200 and detail.get_json()["data"]["status"] == "paid"
    assert [o["fulfilment_status"] for o in orders] == ["unfulfilled"] * 3
    assert [p["amount"] for p in order["payments"]] == [data["amount"]]
    assert all(len(o["payments"]) == 1 for o in listed)
    assert other_api.get(f"/api/v1/checkouts/{data['id']}").status_code == 404


def test_verifying_twice_answers_the_same_and_creates_the_orders_once(api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    paid = sandbox.pay(data["gateway_order_id"])

    first = api.post("/api/v1/checkout/verify", json=paid)
    second = api.post("/api/v1/checkout/verify", json=paid)

    assert first.status_code == second.status_code == 200
    assert first.get_json()["data"]["orders"] == second.get_json()["data"]["orders"]
    assert count(Order) == 3 and count(Payment) == 1 and count(PaymentAllocation) == 3
    assert shop["lamp"].stock == 3


def test_the_webhook_alone_completes_a_checkout_whose_browser_never_came_back(api, shop, sandbox):
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]

    paid = sandbox.pay(data["gateway_order_id"])  # the sandbox delivers payment.captured / order.paid to us

    checkout = db.session.get(Checkout, data["id"])
    assert checkout.status == "paid" and len(checkout.orders) == 3
    assert api.post("/api/v1/checkout/verify", json=paid).status_code == 200
    assert count(Order) == 3


def test_a_tampered_signature_is_refused_and_records_nothing(api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    paid = sandbox.pay(data["gateway_order_id"])
    signature = paid["razorpay_signature"]
    tampered = {**paid, "razorpay_signature": signature[:-1] + ("0" if signature[-1] != "0" else "1")}

    answer = api.post("/api/v1/checkout/verify", json=tampered)

    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "invalid_signature"
    assert count(Payment) == count(Order) == 0
    assert db.session.get(Checkout, data["id"]).status == "pending"


def test_a_checkout_verified_after_it_expired_is_refunded_in_full_and_answers_409(api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    checkout = db.session.get(Checkout, data["id"])
    checkout.expires_at -= timedelta(hours=1)  # the customer sat on the payment page past the window
    db.session.commit()
    paid = sandbox.pay(data["gateway_order_id"])

    answer = api.post("/api/v1/checkout/verify", json=paid)

    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "checkout_expired"
    db.session.expire_all()
    checkout = db.session.get(Checkout, data["id"])
    assert checkout.status == "refunded" and "expired" in checkout.failure_reason
    assert count(Order) == 0
    refund = db.session.scalars(select(Refund)).one()
    assert refund.amount == data["amount"] and refund.order_id is None and refund.checkout_id == checkout.id
    assert sandbox.payment(paid["razorpay_payment_id"])["amount_refunded"] == data["amount"]
    assert {r.status for r in checkout.reservations} == {"released"}
    assert shop["lamp"].stock == 5
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "checkout_refunded")).one()
    assert told.recipient == api.user.email
    again = api.post("/api/v1/checkout/verify", json=paid)
    assert again.status_code == 409 and count(Refund) == 1


def test_money_for_a_checkout_whose_vendor_stopped_selling_is_refunded(api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    shop["kettle"].vendor.active = False
    db.session.commit()

    answer = api.post("/api/v1/checkout/verify", json=sandbox.pay(data["gateway_order_id"]))

    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "checkout_refunded"
    assert "Brass Works stopped taking orders" in answer.get_json()["error"]["message"]
    assert count(Order) == 0 and db.session.scalars(select(Refund)).one().amount == data["amount"]


def test_a_failed_payment_fails_the_checkout_and_releases_its_stock(api, shop, sandbox):
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]

    sandbox.pay(data["gateway_order_id"], outcome="failure")  # payment.failed reaches the webhook

    checkout = db.session.get(Checkout, data["id"])
    assert checkout.status == "failed"
    assert {r.status for r in checkout.reservations} == {"released"}
    assert api.get("/api/v1/cart").get_json()["data"]["problems"] == []  # everything is free again


def test_a_success_after_a_failed_attempt_holds_the_stock_again_and_completes(api, shop, sandbox):
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    sandbox.pay(data["gateway_order_id"], outcome="failure")
    sandbox.receive_webhooks()

    answer = api.post("/api/v1/checkout/verify", json=sandbox.pay(data["gateway_order_id"]))

    assert answer.status_code == 200, answer.get_json()
    assert count(Order) == 3 and shop["lamp"].stock == 3


def test_a_cart_with_problems_cannot_be_checked_out(api, shop):
    api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id})
    shop["lamp"].active = False
    db.session.commit()

    answer = api.post("/api/v1/checkout", json={})

    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "cart_not_ready"
    assert answer.get_json()["error"]["details"]["problems"][0]["code"] == "product_inactive"
    assert count(Checkout) == count(Reservation) == 0


def test_short_stock_answers_409_out_of_stock_with_the_lines(api, shop):
    api.post("/api/v1/cart/items", json={"product_id": shop["kettle"].id, "quantity": 2})
    shop["kettle"].stock = 1
    db.session.commit()

    answer = api.post("/api/v1/checkout", json={})

    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "out_of_stock"
    [line] = answer.get_json()["error"]["details"]["lines"]
    assert (line["product_id"], line["requested"], line["available"]) == (shop["kettle"].id, 2, 1)
    assert count(Checkout) == count(Reservation) == 0


def test_only_razorpay_is_accepted_for_now(api, shop):
    api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id})

    answer = api.post("/api/v1/checkout", json={"payment_method": "cod"})

    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "unsupported_payment_method"


def test_the_same_idempotency_key_replays_and_another_body_conflicts(api, shop, sandbox):
    api.post("/api/v1/cart/items", json={"product_id": shop["lamp"].id})
    headers = {"Idempotency-Key": "chk-key-1"}

    first = api.post("/api/v1/checkout", json={}, headers=headers)
    again = api.post("/api/v1/checkout", json={}, headers=headers)
    other = api.post("/api/v1/checkout", json={"payment_method": "wallet"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["data"]["id"] == again.get_json()["data"]["id"]
    assert other.status_code == 409 and count(Checkout) == 1 and count(Reservation) == 1


def test_held_units_are_not_sold_twice_by_a_single_order(api, other_api, shop):
    api.post("/api/v1/cart/items", json={"product_id": shop["kettle"].id, "quantity": 2})
    api.post("/api/v1/checkout", json={})

    answer = other_api.post("/api/v1/orders", json={"items": [{"product_id": shop["kettle"].id}]})

    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_items"


def test_cancelling_a_checkout_releases_its_reservations(api, shop):
    api.post("/api/v1/cart/items", json={"product_id": shop["kettle"].id, "quantity": 2})
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]

    answer = api.patch(f"/api/v1/checkouts/{data['id']}/cancel")

    assert answer.status_code == 200 and answer.get_json()["data"]["status"] == "cancelled"
    assert {r.status for r in db.session.scalars(select(Reservation))} == {"released"}
    assert api.patch(f"/api/v1/checkouts/{data['id']}/cancel").status_code == 409


def test_the_customer_gets_a_receipt_per_vendor_order_and_no_order_placed_message(api, shop, sandbox):
    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    api.post("/api/v1/checkout/verify", json=sandbox.pay(data["gateway_order_id"]))

    kinds = [m.kind for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.audience == "customer"))]

    assert sorted(kinds) == ["payment_received"] * 3


def test_the_callbacks_error_branch_fails_the_checkout_after_asking_the_gateway(api, shop, sandbox):
    from portal.cart.checkout import fail_checkout_payment
    from portal.history.services import Actor

    sandbox.receive_webhooks()
    fill_cart(api, shop)
    data = api.post("/api/v1/checkout", json={}).get_json()["data"]
    failed = sandbox.pay(data["gateway_order_id"], outcome="failure")
    payment_id = failed["error"]["metadata"]["payment_id"]

    outcome = fail_checkout_payment(data["gateway_order_id"], payment_id, actor=Actor.system("callback"))

    assert outcome.state == "failed" and outcome.checkout.status == "failed"
    assert {r.status for r in outcome.checkout.reservations} == {"released"}


def test_a_rental_cannot_be_ordered_without_dates_through_a_single_order(api, shop):
    answer = api.post("/api/v1/orders", json={"items": [{"product_id": shop["tent"].id}]})

    assert answer.status_code == 422 and answer.get_json()["error"]["details"]["rental_product_ids"] == [
        shop["tent"].id
    ]
    assert shop["tent"].stock == 1
