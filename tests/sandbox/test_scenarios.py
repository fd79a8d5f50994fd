"""What Razorpay does later, on its own time — late authorisation, pending refunds that complete or fail, a refund
whose speed changes — and the 504 GATEWAY_ERROR, seen through the unmodified SDK and the webhooks sent."""

from __future__ import annotations

import json

import pytest
from razorpay.errors import BadRequestError, GatewayError


def _order(rzp, **extra):
    return rzp.order.create({"amount": 50000, "currency": "INR", **extra})


def _paid(rzp, sandbox) -> str:
    return sandbox.pay(_order(rzp)["id"])["razorpay_payment_id"]


def test_late_authorisation_captures_a_failed_payment_and_pays_its_order(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    order = _order(rzp)
    failed = sandbox.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    assert rzp.payment.fetch(failed)["status"] == "failed"

    sandbox.late_authorize(failed)

    payment = rzp.payment.fetch(failed)
    assert (payment["status"], payment["captured"], payment["error_code"]) == ("captured", True, None)
    assert rzp.order.fetch(order["id"])["status"] == "paid"
    assert recorder.events() == ["payment.failed", "payment.authorized", "payment.captured", "order.paid"]


def test_late_authorisation_on_a_manual_capture_order_stops_at_authorized(rzp, sandbox):
    order = _order(rzp, payment_capture=0)
    failed = sandbox.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    sandbox.late_authorize(failed)
    assert rzp.payment.fetch(failed)["status"] == "authorized"
    assert rzp.order.fetch(order["id"])["status"] == "attempted"


def test_only_a_failed_payment_can_be_authorised_late(rzp, sandbox):
    from portal.sandbox.errors import ApiError

    with pytest.raises(ApiError, match="Only a failed payment"):
        sandbox.late_authorize(_paid(rzp, sandbox))


def test_a_pending_refund_stays_pending_until_processed(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    pay_id = _paid(rzp, sandbox)
    sandbox.set_faults(pending_refunds=True)
    refund = rzp.payment.refund(pay_id, {"amount": 1000})
    assert refund["status"] == "pending" and rzp.refund.fetch(refund["id"])["status"] == "pending"
    assert rzp.payment.fetch(pay_id)["amount_refunded"] == 1000  # counted while pending, as the doc samples show

    sandbox.process_refund(refund["id"])

    done = rzp.refund.fetch(refund["id"])
    assert done["status"] == "processed" and done["acquirer_data"]["arn"]
    assert recorder.events()[-2:] == ["refund.created", "refund.processed"]


def test_a_pending_refund_can_fail_later_and_gives_the_amount_back(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    pay_id = _paid(rzp, sandbox)
    sandbox.set_faults(pending_refunds=True)
    refund = rzp.payment.refund(pay_id, {"amount": 1000})
    sandbox.process_refund(refund["id"], "failed")
    assert rzp.refund.fetch(refund["id"])["status"] == "failed"
    assert rzp.payment.fetch(pay_id)["amount_refunded"] == 0
    assert recorder.events()[-1] == "refund.failed"
    with pytest.raises(Exception, match="already failed"):
        sandbox.process_refund(refund["id"])


def test_a_refund_falling_back_to_normal_speed_sends_refund_speed_changed(rzp, sandbox):
    recorder = sandbox.receive_webhooks()
    pay_id = _paid(rzp, sandbox)
    sandbox.set_faults(pending_refunds=True)
    refund = rzp.payment.refund(pay_id, {"amount": 1000, "speed": "optimum"})

    sandbox.change_refund_speed(refund["id"])
    sandbox.process_refund(refund["id"])

    assert recorder.events()[-3:] == ["refund.created", "refund.speed_changed", "refund.processed"]
    changed = json.loads(recorder.received[-2]["body"])
    assert changed["contains"] == ["refund", "payment"]
    entity = changed["payload"]["refund"]["entity"]
    assert (entity["speed_requested"], entity["speed_processed"], entity["status"]) == ("optimum", "normal", "pending")
    assert rzp.refund.fetch(refund["id"])["speed_processed"] == "normal"


def test_gateway_error_answers_504_after_doing_the_work(rzp, sandbox):
    """The SDK raises its GatewayError; the refund was made all the same, so the outcome is unknown to the caller."""
    pay_id = _paid(rzp, sandbox)
    sandbox.set_faults(gateway_error_rate=1.0)
    with pytest.raises(GatewayError, match="Payment processing failed due to error at bank/wallet gateway"):
        rzp.payment.refund(pay_id, {"amount": 1000}, headers={"X-Refund-Idempotency": "gw-error-000001"})
    sandbox.clear_faults()
    assert rzp.payment.fetch(pay_id)["amount_refunded"] == 1000
    replay = rzp.payment.refund(pay_id, {"amount": 1000}, headers={"X-Refund-Idempotency": "gw-error-000001"})
    assert rzp.payment.fetch_multiple_refund(pay_id, {})["items"][0]["id"] == replay["id"]


def test_gateway_error_also_answers_a_refused_call_504(rzp, sandbox):
    sandbox.set_faults(gateway_error_rate=1.0)
    with pytest.raises(GatewayError):
        rzp.order.fetch("order_DoesNotExist00")
    sandbox.clear_faults()
    with pytest.raises(BadRequestError):
        rzp.order.fetch("order_DoesNotExist00")


def test_scenario_commands(app, rzp, sandbox):
    runner = app.test_cli_runner()
    sandbox.receive_webhooks()
    order = _order(rzp)
    failed = sandbox.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    result = runner.invoke(args=["sandbox", "late-authorize", failed])
    assert result.exit_code == 0 and f"late authorisation: {failed} is now captured" in result.output
    sandbox.set_faults(pending_refunds=True)
    refund = rzp.payment.refund(failed, {"amount": 1000})
    result = runner.invoke(args=["sandbox", "refund-speed-changed", refund["id"]])
    assert result.exit_code == 0 and "speed changed" in result.output
    result = runner.invoke(args=["sandbox", "process-refund", refund["id"], "--failed"])
    assert result.exit_code == 0 and f"refund: {refund['id']} is now failed" in result.output
    again = runner.invoke(args=["sandbox", "process-refund", refund["id"]])
    assert again.exit_code == 1 and "already failed" in again.output
