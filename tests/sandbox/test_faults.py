"""Each fault knob changes the sandbox's behaviour as described, seen through the SDK and the delivery log."""

from __future__ import annotations

import json
import time

import pytest
import requests
from razorpay.errors import ServerError

from portal.gateway import get_gateway


def new_order(rzp, amount=50000):
    return rzp.order.create({"amount": amount, "currency": "INR"})


def test_no_faults_by_default(sandbox):
    assert sandbox.faults() == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "down": False,
        "duplicate_webhooks": False,
        "out_of_order_webhooks": False,
        "fail_refunds": False,
        "drop_webhooks": False,
        "pending_refunds": False,
        "gateway_error_rate": 0.0,
        "rate_limit_per_second": 0,
    }


def test_unknown_knob_is_refused(sandbox):
    with pytest.raises(ValueError, match="unknown fault"):
        sandbox.set_faults(explode=True)


def test_latency_delays_every_answer(rzp, sandbox):
    order = new_order(rzp)
    sandbox.set_faults(latency_ms=300)
    started = time.monotonic()
    rzp.order.fetch(order["id"])
    assert time.monotonic() - started >= 0.3


def test_latency_beyond_the_timeout_is_a_read_timeout(rzp, sandbox):
    rzp.session.default_timeout = 0.1
    sandbox.set_faults(latency_ms=400)
    with pytest.raises(requests.exceptions.ReadTimeout):
        new_order(rzp)


def test_error_rate_one_answers_500_server_error_and_changes_nothing(rzp, sandbox):
    sandbox.set_faults(error_rate=1.0)
    with pytest.raises(ServerError, match="The server encountered an error"):
        new_order(rzp)
    sandbox.clear_faults()
    assert sandbox.sandbox.store.latest("order") == []


def test_error_rate_zero_answers_normally(rzp, sandbox):
    sandbox.set_faults(error_rate=0.0)
    assert new_order(rzp)["status"] == "created"


def test_down_answers_503_with_an_html_page(rzp, sandbox):
    sandbox.set_faults(down=True)
    with pytest.raises(requests.exceptions.JSONDecodeError):  # what the SDK does with a non-JSON error body
        new_order(rzp)


def test_duplicate_webhooks_delivers_each_event_twice_with_the_same_id(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    sandbox.set_faults(duplicate_webhooks=True)
    sandbox.pay(new_order(rzp)["id"], outcome="failure")
    assert recorder.events() == ["payment.failed", "payment.failed"]
    ids = [r["headers"]["X-Razorpay-Event-Id"] for r in recorder.received]
    assert ids[0] == ids[1]


def test_out_of_order_webhooks_delivers_the_newest_first(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    sandbox.set_faults(out_of_order_webhooks=True)
    sandbox.pay(new_order(rzp)["id"])
    assert recorder.events() == ["order.paid", "payment.captured", "payment.authorized"]


def test_drop_webhooks_never_delivers(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    sandbox.set_faults(drop_webhooks=True)
    sandbox.pay(new_order(rzp)["id"])
    sandbox.advance(48 * 3600)
    assert recorder.received == []
    assert {d["status"] for d in sandbox.deliveries()} == {"dropped"}
    assert (
        rzp.order.fetch(sandbox.deliveries()[0]["payload"]["payload"]["payment"]["entity"]["order_id"])["status"]
        == "paid"
    )  # the state changed; only the news of it was lost


def test_fail_refunds_accepts_the_refund_then_fails_it(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    pay_id = sandbox.pay(new_order(rzp)["id"])["razorpay_payment_id"]
    sandbox.set_faults(fail_refunds=True)
    refund = rzp.payment.refund(pay_id, {"amount": 1000})
    assert refund["status"] == "pending"
    assert rzp.refund.fetch(refund["id"])["status"] == "failed"
    payment = rzp.payment.fetch(pay_id)
    assert (payment["amount_refunded"], payment["refund_status"], payment["status"]) == (0, None, "captured")
    sandbox.deliver()
    assert recorder.events()[-2:] == ["refund.created", "refund.failed"]
    failed = json.loads(recorder.received[-1]["body"])["payload"]["refund"]["entity"]
    assert failed["status"] == "failed"


def test_faults_persist_in_the_store(app, sandbox):
    from portal.sandbox.server import build_sandbox

    sandbox.set_faults(down=True)
    assert build_sandbox(app.config, background=False).faults()["down"] is True


def test_the_gateway_turns_every_fault_into_rejected_or_unavailable(app, sandbox):
    from portal.gateway import GatewayUnavailable, build_gateway

    gateway = build_gateway(app, timeout=0.1, retries=1, backoff=0)
    for knobs in ({"latency_ms": 300}, {"error_rate": 1.0}, {"down": True}):
        sandbox.clear_faults()
        sandbox.set_faults(**knobs)
        with pytest.raises(GatewayUnavailable):
            gateway.create_order(amount=50000, currency="INR", receipt="r", notes={})
        with pytest.raises(GatewayUnavailable):
            gateway.fetch_order("order_DoesNotExist00")
    sandbox.clear_faults()
    time.sleep(0.35)  # let the timed-out calls finish inside the sandbox before the test's reset
    assert get_gateway().fetch_order_payments(new_order_via(get_gateway())["id"]) == []


def new_order_via(gateway):
    return gateway.create_order(amount=50000, currency="INR", receipt="r", notes={})
