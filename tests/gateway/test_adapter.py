"""The Razorpay adapter, through the real SDK, against the sandbox: results, the two failures, retries,
idempotent refunds, signatures, logging."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from werkzeug.serving import make_server

from portal.gateway import GatewayOutcomeUnknown, GatewayRejected, GatewayUnavailable, build_gateway, get_gateway
from portal.gateway.adapter import RazorpayGateway
from portal.gateway.transport import TimeoutSession


@pytest.fixture
def gateway(app, sandbox):
    return build_gateway(app, backoff=0)


def order(gateway, amount=50000):
    return gateway.create_order(amount=amount, currency="INR", receipt="rcpt-1", notes={"order": "1"})


def paid(gateway, sandbox, amount=50000):
    return sandbox.pay(order(gateway, amount)["id"])["razorpay_payment_id"]


def test_get_gateway_is_the_razorpay_adapter(app):
    assert isinstance(get_gateway(), RazorpayGateway)
    assert get_gateway().key_id == app.config["RAZORPAY_KEY_ID"]


def test_order_lifecycle(gateway, sandbox):
    created = order(gateway)
    assert created["id"].startswith("order_") and created["status"] == "created"
    sandbox.pay(created["id"])
    assert gateway.fetch_order(created["id"])["status"] == "paid"
    [payment] = gateway.fetch_order_payments(created["id"])
    assert payment["status"] == "captured" and payment["amount"] == 50000
    assert gateway.fetch_payment(payment["id"]) == payment


def test_capture_of_an_authorized_payment(gateway, sandbox):
    pay_id = sandbox.pay(order(gateway)["id"], outcome="authorize")["razorpay_payment_id"]
    assert gateway.capture_payment(pay_id, 50000, "INR")["status"] == "captured"


def test_refunds(gateway, sandbox):
    pay_id = paid(gateway, sandbox)
    refund = gateway.refund_payment(pay_id, amount=1500, idempotency_key="rfk_0000000001", notes={"why": "test"})
    assert (refund["status"], refund["amount"], refund["notes"]) == ("processed", 1500, {"why": "test"})
    assert gateway.fetch_refund(refund["id"]) == refund
    assert [r["id"] for r in gateway.fetch_payment_refunds(pay_id)] == [refund["id"]]


def test_refund_sends_the_idempotency_key(gateway, sandbox):
    pay_id = paid(gateway, sandbox)
    first = gateway.refund_payment(pay_id, amount=1500, idempotency_key="rfk_0000000002")
    again = gateway.refund_payment(pay_id, amount=1500, idempotency_key="rfk_0000000002")
    assert again["id"] == first["id"]
    assert sandbox.payment(pay_id)["amount_refunded"] == 1500
    with pytest.raises(GatewayRejected, match="Different request with the same idempotency key"):
        gateway.refund_payment(pay_id, amount=999, idempotency_key="rfk_0000000002")


def test_a_refund_that_timed_out_is_retried_safely_with_its_key(app, gateway, sandbox):
    pay_id = paid(gateway, sandbox)
    slow = build_gateway(app, timeout=0.1, retries=0)
    sandbox.set_faults(latency_ms=300)
    with pytest.raises(GatewayUnavailable, match="timed out"):
        slow.refund_payment(pay_id, amount=1500, idempotency_key="rfk_0000000003")
    time.sleep(0.4)  # meanwhile the gateway did make the refund: the outcome was unknown, not failed
    sandbox.clear_faults()
    retried = gateway.refund_payment(pay_id, amount=1500, idempotency_key="rfk_0000000003")
    assert [r["id"] for r in gateway.fetch_payment_refunds(pay_id)] == [retried["id"]]
    assert sandbox.payment(pay_id)["amount_refunded"] == 1500


def test_payment_links(gateway, sandbox):
    link = gateway.create_payment_link(
        amount=20000,
        currency="INR",
        reference_id="ORD-77",
        description="Course",
        customer={"email": "a@example.com"},
        callback_url="http://127.0.0.1:5000/payments/razorpay/callback",
        expire_by=int(time.time()) + 3600,
        notes={"order": "77"},
    )
    assert link["id"].startswith("plink_") and link["status"] == "created"
    assert gateway.fetch_payment_link(link["id"])["reference_id"] == "ORD-77"
    assert gateway.cancel_payment_link(link["id"])["status"] == "cancelled"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda g: g.create_order(amount=99, currency="INR", receipt="r", notes={}), "at least INR 1.00"),
        (lambda g: g.fetch_order("order_DoesNotExist00"), "does not exist"),
        (lambda g: g.fetch_payment("pay_DoesNotExist000"), "does not exist"),
        (lambda g: g.fetch_refund("rfnd_DoesNotExist00"), "does not exist"),
        (lambda g: g.cancel_payment_link("plink_DoesNotExist0"), "does not exist"),
    ],
)
def test_a_no_from_the_gateway_is_rejected(gateway, call, message):
    with pytest.raises(GatewayRejected, match=message):
        call(gateway)


def test_rejections_are_not_retried(gateway, caplog):
    caplog.set_level(logging.INFO, "portal.gateway")
    with pytest.raises(GatewayRejected):
        gateway.fetch_order("order_DoesNotExist00")
    assert len([r for r in caplog.records if "fetch_order" in r.getMessage()]) == 1


def test_reads_are_retried_when_unavailable(app, sandbox, caplog):
    caplog.set_level(logging.INFO, "portal.gateway")
    sandbox.set_faults(error_rate=1.0)
    with pytest.raises(GatewayUnavailable):
        build_gateway(app, retries=2, backoff=0).fetch_payment("pay_DoesNotExist000")
    attempts = [r for r in caplog.records if "fetch_payment" in r.getMessage()]
    assert len(attempts) == 3 and all(r.gateway_outcome == "GatewayOutcomeUnknown" for r in attempts)


def test_order_creation_and_capture_are_never_retried(app, sandbox, caplog):
    caplog.set_level(logging.INFO, "portal.gateway")
    sandbox.set_faults(error_rate=1.0)
    g = build_gateway(app, retries=5, backoff=0)
    with pytest.raises(GatewayUnavailable):
        order(g)
    with pytest.raises(GatewayUnavailable):
        g.capture_payment("pay_DoesNotExist000", 100, "INR")
    names = [r.gateway_operation for r in caplog.records if hasattr(r, "gateway_operation")]
    assert names == ["create_order", "capture_payment"]


def test_connection_refused_is_unavailable(app):
    dead = RazorpayGateway(
        key_id="k",
        key_secret="s",
        webhook_secret="w",
        base_url="http://127.0.0.1:9",
        session=TimeoutSession(1),
        backoff=0,
    )
    with pytest.raises(GatewayUnavailable):
        dead.fetch_order("order_x")
    with pytest.raises(GatewayUnavailable):
        dead.create_order(amount=100, currency="INR", receipt="r", notes={})


def test_every_call_is_logged_with_duration_and_outcome(gateway, caplog):
    caplog.set_level(logging.INFO, "portal.gateway")
    order(gateway)
    [record] = [r for r in caplog.records if getattr(r, "gateway_operation", None) == "create_order"]
    assert record.gateway_outcome == "ok" and record.duration_ms >= 0
    assert "duration_ms=" in record.getMessage()


def test_checkout_signature(gateway, sandbox):
    o = order(gateway)
    params = sandbox.pay(o["id"])
    assert gateway.verify_payment_signature(o["id"], params["razorpay_payment_id"], params["razorpay_signature"])
    assert not gateway.verify_payment_signature(o["id"], params["razorpay_payment_id"], "0" * 64)
    assert not gateway.verify_payment_signature(o["id"], "pay_Other000000000", params["razorpay_signature"])


def test_payment_link_signature(gateway, sandbox):
    link = gateway.create_payment_link(
        amount=20000, currency="INR", reference_id="", description="d", customer={}, callback_url="",
        expire_by=None, notes={},
    )  # fmt: skip
    p = sandbox.pay_link(link["id"])
    args = (p["razorpay_payment_link_id"], p["razorpay_payment_link_reference_id"], p["razorpay_payment_link_status"])
    assert gateway.verify_payment_link_signature(*args, p["razorpay_payment_id"], p["razorpay_signature"])
    assert not gateway.verify_payment_link_signature(args[0], args[1], "cancelled", p["razorpay_payment_id"],
                                                     p["razorpay_signature"])  # fmt: skip


def test_webhook_signature(gateway, sandbox):
    recorder = sandbox.receive_webhooks()
    sandbox.pay(order(gateway)["id"], outcome="failure")
    body = recorder.received[0]["body"].encode()
    signature = recorder.received[0]["headers"]["X-Razorpay-Signature"]
    assert gateway.verify_webhook_signature(body, signature)
    assert not gateway.verify_webhook_signature(body + b" ", signature)
    assert not gateway.verify_webhook_signature(body, "")
    assert not gateway.verify_webhook_signature(b"\xff\xfe", signature)


def test_webhook_signature_of_the_sdks_own_fixture(app):
    from pathlib import Path

    body = Path("/work/shared/fixtures/razorpay-sdk/fake_payment_authorized_webhook.json").read_bytes()
    g = RazorpayGateway(
        key_id="k", key_secret="s", webhook_secret="key_secret", base_url="http://x", session=TimeoutSession()
    )
    assert g.verify_webhook_signature(body, "d60e67fd884556c045e9be7dad57903e33efc7172c17c6e3ef77db42d2b366e9")
    assert not g.verify_webhook_signature(body[:-1], "d60e67fd884556c045e9be7dad57903e33efc7172c17c6e3ef77db42d2b366e9")


def test_checkout_url_points_at_the_sandbox_page(app, gateway):
    assert gateway.checkout_url("order_X") == app.config["PUBLIC_BASE_URL"] + "/sandbox/checkout/order_X"


def test_checkout_url_is_none_for_real_razorpay(app):
    from flask import Flask

    real = Flask("real")
    real.config.update(app.config, PAYMENT_GATEWAY="razorpay", RAZORPAY_BASE_URL="https://api.razorpay.com")
    assert build_gateway(real).checkout_url("order_X") is None


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_the_adapter_talks_http_to_a_standalone_sandbox(app, sandbox, suffix):
    """What `flask sandbox serve` runs, over a real socket, with RAZORPAY_BASE_URL pointing at it (a base URL
    ending in /v1 set straight in app.config is normalised too: the sandbox no longer answers /v1/v1)."""
    from flask import Flask

    from portal.sandbox.server import create_sandbox_app

    server = make_server("127.0.0.1", 0, create_sandbox_app(app.extensions["sandbox"]), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        remote = Flask("remote")
        remote.config.update(app.config, RAZORPAY_BASE_URL=f"http://127.0.0.1:{server.server_port}{suffix}")
        g = build_gateway(remote)
        created = order(g)
        assert g.fetch_order(created["id"])["id"] == created["id"]
        with pytest.raises(GatewayRejected):
            g.fetch_order("order_DoesNotExist00")
    finally:
        server.shutdown()


def test_a_payment_link_for_a_customer_without_a_phone_sends_no_empty_contact(sandbox, make):
    """The link's customer is what the portal knows: an unknown contact is left out, never sent as ""."""
    from portal.orders.checkout import ensure_payment_link
    from portal.orders.services import place_order

    customer = make.customer(name="Asha Rao")
    assert not customer.phone
    order = place_order(customer, [{"product_id": make.product().id}])
    order = ensure_payment_link(order.id, callback_url="http://127.0.0.1:5000/payments/razorpay/callback")
    assert sandbox.payment_link(order.payment_link_id)["customer"] == {"name": "Asha Rao", "email": customer.email}


def test_a_timeout_after_sending_is_outcome_unknown_and_a_refused_connection_is_not_sent(app, sandbox):
    dead = RazorpayGateway(
        key_id="k", key_secret="s", webhook_secret="w", base_url="http://127.0.0.1:9", session=TimeoutSession(1)
    )
    with pytest.raises(GatewayUnavailable) as refused:
        dead.capture_payment("pay_x", 100, "INR")
    assert not isinstance(refused.value, GatewayOutcomeUnknown)
    sandbox.set_faults(latency_ms=400)
    with pytest.raises(GatewayOutcomeUnknown):
        build_gateway(app, timeout=0.1, retries=0).capture_payment("pay_x", 100, "INR")
    sandbox.clear_faults()
    sandbox.set_faults(error_rate=1.0)
    with pytest.raises(GatewayOutcomeUnknown):  # a 5xx: the gateway may have acted before failing
        build_gateway(app, retries=0).capture_payment("pay_x", 100, "INR")
    sandbox.clear_faults()
    time.sleep(0.45)  # let the timed-out call finish inside the sandbox before the test's reset


def test_retries_stay_inside_the_calls_timeout_budget(app, sandbox, caplog):
    caplog.set_level(logging.INFO, "portal.gateway")
    sandbox.set_faults(latency_ms=400)
    with pytest.raises(GatewayOutcomeUnknown):
        build_gateway(app, timeout=0.2, retries=2, backoff=0.05).fetch_payment("pay_DoesNotExist000")
    attempts = [r for r in caplog.records if getattr(r, "gateway_operation", None) == "fetch_payment"]
    assert len(attempts) == 1  # the first attempt spent the budget: no retry makes the caller wait longer
    sandbox.clear_faults()
    time.sleep(0.45)
