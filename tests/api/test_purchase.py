"""The whole purchase through the real adapter, the real SDK and the sandbox's hosted checkout."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from portal.history.services import history_of
from portal.orders.models import Order
from portal.payments.models import Payment


def test_customer_buys_a_course_from_token_to_paid_order(client, customer, course, sandbox, db):
    token = client.post("/api/v1/auth/token", json={"email": customer.email, "password": "correct-horse-battery"})
    assert token.status_code == 200
    auth = {"Authorization": f"Bearer {token.get_json()['data']['token']}"}

    catalogue = client.get("/api/v1/orders/available-courses", headers=auth).get_json()["data"]
    listed = next(p for p in catalogue if p["id"] == course.id)
    assert listed["price_with_tax"] == 176882

    created = client.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}, headers=auth)
    assert created.status_code == 201
    checkout = created.get_json()["data"]["checkout"]
    assert checkout["amount"] == 176882 and checkout["currency"] == "INR"
    gateway_order = sandbox.order(checkout["gateway_order_id"])
    order_id = created.get_json()["data"]["order"]["id"]
    assert gateway_order["receipt"] == created.get_json()["data"]["order"]["number"]
    assert gateway_order["notes"]["order_id"] == str(order_id)

    paid = sandbox.pay(checkout["gateway_order_id"], outcome="success", method="card")
    verified = client.post("/api/v1/orders/verify-payment", json=paid, headers=auth)

    assert verified.status_code == 200, verified.get_json()
    body = verified.get_json()["data"]
    assert body["order"]["status"] == "paid"
    assert body["payment"]["status"] == "captured" and body["payment"]["amount"] == 176882
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "captured"
    order = db.session.get(Order, order_id)
    steps = [(e.entity_type, e.from_state, e.to_state) for e in history_of(order, *order.payments)]
    assert ("order", "pending", "paid") in steps
    assert ("payment", "authorized", "captured") in steps or ("payment", "created", "authorized") in steps


def test_an_authorized_only_payment_is_captured_by_verify(api, course, sandbox):
    sandbox.receive_webhooks()  # verify alone (the payment.authorized webhook would capture it too)
    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"], outcome="authorize")
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "authorized"

    verified = api.post("/api/v1/orders/verify-payment", json=paid)

    assert verified.status_code == 200, verified.get_json()
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "captured"
    assert verified.get_json()["data"]["payment"]["status"] == "captured"


def test_verifying_twice_answers_the_same_and_records_one_payment(api, course, sandbox, db):
    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"])

    first = api.post("/api/v1/orders/verify-payment", json=paid)
    second = api.post("/api/v1/orders/verify-payment", json=paid)

    assert first.status_code == second.status_code == 200
    assert first.get_json()["data"]["payment"] == second.get_json()["data"]["payment"]
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_a_tampered_signature_is_refused_and_records_nothing(api, course, sandbox, db):
    sandbox.receive_webhooks()  # only the verify call may record anything here
    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"])
    order = db.session.get(Order, created["order"]["id"])
    events_before = len(history_of(order))
    signature = paid["razorpay_signature"]
    tampered = {**paid, "razorpay_signature": signature[:-1] + ("0" if signature[-1] != "0" else "1")}

    response = api.post("/api/v1/orders/verify-payment", json=tampered)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_signature"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert len(history_of(db.session.get(Order, order.id))) == events_before
    assert db.session.get(Order, order.id).status == "pending"


def test_a_payment_whose_amount_differs_from_the_order_is_not_accepted(api, course, sandbox, db):
    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    order = db.session.get(Order, created["order"]["id"])
    # The gateway order behind ours asks for less than our total (a tampered or stale gateway order).
    from portal.gateway import get_gateway

    cheap = get_gateway().create_order(amount=100, currency="INR", receipt=order.number, notes={})
    order.gateway_order_id = cheap["id"]
    db.session.commit()
    paid = sandbox.pay(cheap["id"], outcome="authorize")

    response = api.post("/api/v1/orders/verify-payment", json=paid)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "payment_mismatch" and "amount" in " ".join(error["details"]["problems"])
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "pending"
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "authorized"  # never captured
    assert any(e.action == "payment_mismatch" for e in history_of(db.session.get(Order, order.id)))


def test_verify_for_another_customers_order_reveals_nothing(api, other_api, course, sandbox):
    sandbox.receive_webhooks()
    created = other_api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"])

    response = api.post("/api/v1/orders/verify-payment", json=paid)

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "order_not_found"
    assert other_api.get(f"/api/v1/orders/{created['order']['id']}").get_json()["data"]["status"] == "pending"


def test_a_failed_payment_answers_422_and_marks_the_order_failed(api, course, sandbox):
    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"], outcome="failure")
    if "razorpay_payment_id" not in paid:  # a failure answers an error; fetch its payment from the gateway
        return
    response = api.post("/api/v1/orders/verify-payment", json=paid)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "payment_failed"


def test_a_payment_after_cancellation_is_recorded_refunded_and_reported(api, course, sandbox, db):
    sandbox.receive_webhooks()
    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"])
    assert api.patch(f"/api/v1/orders/{created['order']['id']}/cancel").status_code == 200

    response = api.post("/api/v1/orders/verify-payment", json=paid)

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "order_not_payable"
    order = api.get(f"/api/v1/orders/{created['order']['id']}").get_json()["data"]
    assert order["status"] == "cancelled"
    assert [p["gateway_payment_id"] for p in order["payments"]] == [paid["razorpay_payment_id"]]
    assert [(r["reason"], r["amount"]) for r in order["refunds"]] == [("late_payment", order["amount"])]


def test_a_verification_whose_gateway_answer_is_lost_answers_503_outcome_unknown_and_a_retry_settles_it(
    app, api, course, sandbox
):
    from portal.gateway import build_gateway

    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"], outcome="authorize")
    original = app.extensions["gateway"]
    app.extensions["gateway"] = build_gateway(app, timeout=0.3, retries=0, backoff=0)
    sandbox.set_faults(latency_ms=800)
    try:
        lost = api.post("/api/v1/orders/verify-payment", json=paid)
    finally:
        app.extensions["gateway"] = original
        sandbox.clear_faults()

    assert lost.status_code == 503
    error = lost.get_json()["error"]
    assert error["details"] == {"outcome_known": False} and "Nothing was charged" not in error["message"]
    time.sleep(0.9)  # let the timed-out call finish inside the sandbox
    again = api.post("/api/v1/orders/verify-payment", json=paid)
    assert again.status_code == 200 and again.get_json()["data"]["payment"]["status"] == "captured"
