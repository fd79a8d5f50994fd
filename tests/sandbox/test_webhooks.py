"""Webhook delivery: Razorpay's envelope, signed so the SDK's own check accepts it, retried on non-2xx."""

from __future__ import annotations

import json

import pytest
import razorpay
from razorpay.errors import SignatureVerificationError

from portal.gateway import get_gateway
from portal.sandbox.webhooks import backoff


def verify(app, body: str, signature: str) -> bool:
    return razorpay.Client(auth=("k", "s")).utility.verify_webhook_signature(
        body, signature, app.config["RAZORPAY_WEBHOOK_SECRET"]
    )


def new_order(amount=50000, **extra):
    return get_gateway().create_order(amount=amount, currency="INR", receipt="rcpt-1", notes={"k": "v"}, **extra)


def test_a_successful_payment_emits_authorized_captured_and_order_paid(app, sandbox):
    recorder = sandbox.receive_webhooks()
    order = new_order()
    sandbox.pay(order["id"])
    assert recorder.events() == ["payment.authorized", "payment.captured", "order.paid"]
    for received in recorder.received:
        headers = received["headers"]
        assert verify(app, received["body"], headers["X-Razorpay-Signature"]) is True
        assert len(headers["X-Razorpay-Event-Id"]) == 14
        assert headers["Content-Type"] == "application/json"
    paid = json.loads(recorder.received[2]["body"])
    assert paid["entity"] == "event" and paid["contains"] == ["payment", "order"]
    assert paid["payload"]["order"]["entity"]["status"] == "paid"
    assert paid["payload"]["payment"]["entity"]["status"] == "captured"


def test_payloads_are_snapshots_taken_when_the_event_happened(sandbox):
    recorder = sandbox.receive_webhooks()
    sandbox.pay(new_order()["id"])
    authorized = json.loads(recorder.received[0]["body"])
    assert authorized["payload"]["payment"]["entity"]["status"] == "authorized"


def test_a_tampered_body_fails_the_sdk_check(app, sandbox):
    recorder = sandbox.receive_webhooks()
    sandbox.pay(new_order()["id"])
    received = recorder.received[0]
    tampered = received["body"].replace('"amount": 50000', '"amount": 1')
    with pytest.raises(SignatureVerificationError):
        verify(app, tampered, received["headers"]["X-Razorpay-Signature"])


def test_a_failed_payment_emits_payment_failed(sandbox):
    recorder = sandbox.receive_webhooks()
    sandbox.pay(new_order()["id"], outcome="failure")
    assert recorder.events() == ["payment.failed"]
    payment = json.loads(recorder.received[0]["body"])["payload"]["payment"]["entity"]
    assert payment["error_reason"] == "incorrect_pin"  # the default method is UPI


def test_capture_through_the_gateway_emits_captured_and_order_paid(sandbox):
    recorder = sandbox.receive_webhooks()
    order = get_gateway().create_order(amount=50000, currency="INR", receipt="r", notes={})
    pay_id = sandbox.pay(order["id"], outcome="authorize")["razorpay_payment_id"]
    get_gateway().capture_payment(pay_id, 50000, "INR")
    # Caused inside a service call (the in-process API): held until the caller is done, then delivered.
    assert recorder.events() == ["payment.authorized"]
    sandbox.deliver()
    assert recorder.events() == ["payment.authorized", "payment.captured", "order.paid"]


def test_refund_emits_created_and_processed(sandbox):
    recorder = sandbox.receive_webhooks()
    pay_id = sandbox.pay(new_order()["id"])["razorpay_payment_id"]
    get_gateway().refund_payment(pay_id, amount=1000, idempotency_key="refund-key-0001")
    sandbox.deliver()
    assert recorder.events()[-2:] == ["refund.created", "refund.processed"]
    body = json.loads(recorder.received[-1]["body"])
    assert body["contains"] == ["refund", "payment"]
    assert body["payload"]["refund"]["entity"]["status"] == "processed"


def test_payment_link_paid_and_cancelled(sandbox):
    recorder = sandbox.receive_webhooks()
    gateway = get_gateway()
    link_args = {"currency": "INR", "description": "d", "customer": {}, "callback_url": "", "notes": {}}
    link_args["expire_by"] = None
    paid = gateway.create_payment_link(amount=20000, reference_id="REF-1", **link_args)
    sandbox.pay_link(paid["id"])
    assert recorder.events()[-1] == "payment_link.paid"
    body = json.loads(recorder.received[-1]["body"])
    assert body["contains"] == ["payment_link", "order", "payment"]
    other = gateway.create_payment_link(amount=20000, reference_id="REF-2", **link_args)
    gateway.cancel_payment_link(other["id"])
    sandbox.deliver()
    assert recorder.events()[-1] == "payment_link.cancelled"


def test_a_5xx_is_retried_with_backoff_until_a_2xx(sandbox):
    recorder = sandbox.receive_webhooks(statuses=[500, 503, 200])
    order = get_gateway().create_order(amount=50000, currency="INR", receipt="r", notes={})
    sandbox.pay(order["id"], outcome="authorize")  # one event: payment.authorized
    [delivery] = sandbox.deliveries()
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("pending", 1, 500)
    assert sandbox.advance(backoff(1) - 1) == 0  # not due yet
    assert sandbox.advance(backoff(1) + 1) == 1
    assert sandbox.advance(backoff(1) + backoff(2) + 2) == 1
    [delivery] = sandbox.deliveries()
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("delivered", 3, 200)
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 503, 200]
    assert sandbox.advance(10_000) == 0  # delivered: never again
    assert len(recorder.received) == 3
    ids = {r["headers"]["X-Razorpay-Event-Id"] for r in recorder.received}
    assert ids == {delivery["event_id"]}  # a retry is the same event


def test_backoff_grows_exponentially():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [5, 20, 80, 320]
    assert backoff(20) == 3600


def test_delivery_gives_up_after_24_hours(sandbox):
    sandbox.receive_webhooks(statuses=[500])
    sandbox.pay(new_order()["id"], outcome="failure")
    sandbox.advance(25 * 3600)
    [delivery] = sandbox.deliveries()
    assert delivery["status"] == "failed"
    assert sandbox.advance(50 * 3600) == 0


def test_a_delivery_to_a_missing_endpoint_is_logged_as_failed_attempt(sandbox):
    recorder = sandbox.receive_webhooks(statuses=[404])
    sandbox.pay(new_order()["id"], outcome="failure")
    [delivery] = sandbox.deliveries()
    assert (delivery["status"], delivery["last_status"]) == ("pending", 404)
    assert len(recorder.received) == 1


def test_deliveries_reach_the_portal_in_process_by_default(app, sandbox):
    """Default target: PUBLIC_BASE_URL/webhooks/razorpay through the portal's own WSGI app."""
    assert sandbox.sandbox.webhooks.url == app.config["PUBLIC_BASE_URL"] + "/webhooks/razorpay"
    sandbox.pay(new_order()["id"], outcome="failure")
    [delivery] = sandbox.deliveries()
    assert delivery["attempts"] == 1 and delivery["last_status"] is not None  # answered by the portal app
