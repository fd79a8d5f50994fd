"""The portal against what Razorpay does on its own time, each scenario played by the sandbox and reaching the
portal through the real SDK and real webhook deliveries: late authorisation, a refund pending then processed or
failed, refund.speed_changed, and a 504 GATEWAY_ERROR whose outcome the caller cannot know."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.gateway import GatewayUnavailable, get_gateway
from portal.history.services import Actor, history_of
from portal.orders.checkout import cancel_unpaid_order, open_gateway_order
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.refunds.models import Refund
from portal.refunds.services import create_refund
from portal.webhooks.models import WebhookEvent

ACTOR = Actor.system("test")


def _open(make) -> Order:
    """An order placed by a customer, with its gateway order opened at the sandbox (as the API does)."""
    from portal.orders.services import place_order

    order = place_order(make.customer(), [{"product_id": make.product().id}])
    return open_gateway_order(order.id)


def _reload(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def _paid_payment(make, sandbox) -> Payment:
    order = _open(make)
    sandbox.pay(order.gateway_order_id)
    return db.session.scalars(select(Payment).where(Payment.order_id == order.id)).one()


def _outcomes(event_type: str) -> list[str]:
    return list(db.session.scalars(select(WebhookEvent.outcome).where(WebhookEvent.event_type == event_type)))


# --- late authorisation -------------------------------------------------------------------------------------


def test_a_late_capture_after_payment_failed_marks_the_order_paid(make, sandbox):
    order = _open(make)
    failed = sandbox.pay(order.gateway_order_id, outcome="failure")["error"]["metadata"]["payment_id"]
    assert _reload(Order, order.id).status == "failed"

    sandbox.late_authorize(failed)

    order = _reload(Order, order.id)
    payment = db.session.scalars(select(Payment).where(Payment.gateway_payment_id == failed)).one()
    assert (order.status, payment.status) == ("paid", "captured")
    assert sandbox.events()[-4:] == ["payment.failed", "payment.authorized", "payment.captured", "order.paid"]


def test_a_late_capture_on_a_cancelled_order_is_refunded_automatically(make, sandbox):
    order = _open(make)
    failed = sandbox.pay(order.gateway_order_id, outcome="failure")["error"]["metadata"]["payment_id"]
    cancel_unpaid_order(order.id, actor=ACTOR)

    sandbox.late_authorize(failed)
    sandbox.deliver()  # the auto-refund's own webhooks

    order = _reload(Order, order.id)
    assert order.status == "cancelled"
    refund = db.session.scalars(select(Refund).where(Refund.order_id == order.id)).one()
    assert (refund.amount, refund.reason, refund.status) == (order.total, "late_payment", "processed")
    assert sandbox.payment(failed)["status"] == "refunded"


# --- refunds that complete later ----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["processed", "failed"])
def test_a_pending_refund_moves_when_the_gateway_completes_it(make, sandbox, outcome):
    payment = _paid_payment(make, sandbox)
    sandbox.set_faults(pending_refunds=True)
    refund = create_refund(payment.id, amount=1000, reason="goodwill", actor=ACTOR)
    sandbox.deliver()
    refund = _reload(Refund, refund.id)
    assert refund.status == "pending" and refund.gateway_refund_id

    sandbox.process_refund(refund.gateway_refund_id, outcome)

    refund = _reload(Refund, refund.id)
    assert refund.status == outcome
    expected_payment = "partially_refunded" if outcome == "processed" else "captured"
    assert db.session.get(Payment, payment.id).status == expected_payment


def test_refund_speed_changed_is_recorded_on_the_refund_once(make, sandbox):
    payment = _paid_payment(make, sandbox)
    sandbox.set_faults(pending_refunds=True, duplicate_webhooks=True)
    refund = create_refund(payment.id, amount=1000, reason="goodwill", actor=ACTOR)
    sandbox.deliver()

    sandbox.change_refund_speed(_reload(Refund, refund.id).gateway_refund_id)

    refund = _reload(Refund, refund.id)
    notes = [e for e in history_of(refund) if e.action == "speed_changed"]
    assert len(notes) == 1 and "normal" in notes[0].reason
    assert refund.status == "pending"
    assert _outcomes("refund.speed_changed")  # processed, not "no handler"
    assert all("no handler" not in (o or "") for o in _outcomes("refund.speed_changed"))


# --- 504 GATEWAY_ERROR --------------------------------------------------------------------------------------


def test_a_504_gateway_error_is_gateway_unavailable(make, sandbox):
    sandbox.set_faults(gateway_error_rate=1.0)
    with pytest.raises(GatewayUnavailable, match="bank/wallet gateway"):
        get_gateway().fetch_order("order_DoesNotExist00")


def test_a_refund_answered_504_stays_pending_and_is_settled_by_its_webhooks(make, sandbox):
    """The outcome is unknown when the answer is a 504: the refund is kept pending (not failed), and the gateway's
    webhooks, matched by the idempotency key, tell what happened."""
    payment = _paid_payment(make, sandbox)
    sandbox.set_faults(gateway_error_rate=1.0)
    refund = create_refund(payment.id, amount=1000, reason="goodwill", actor=ACTOR)
    refund = _reload(Refund, refund.id)
    assert refund.status == "pending" and refund.gateway_refund_id is None
    assert any(e.action == "send_failed" for e in history_of(refund))
    sandbox.clear_faults()

    sandbox.deliver()

    refund = _reload(Refund, refund.id)
    assert refund.status == "processed" and refund.gateway_refund_id
    assert db.session.get(Payment, payment.id).status == "partially_refunded"


def test_an_order_placed_while_the_gateway_answers_504_is_kept_unpaid_and_payable_later(make, sandbox, client):
    from portal.auth.services import issue_token

    token, _ = issue_token(make.customer())
    headers = {"Authorization": f"Bearer {token}"}
    sandbox.set_faults(gateway_error_rate=1.0)
    placed = client.post("/api/v1/orders", json={"items": [{"product_id": make.product().id}]}, headers=headers)
    assert placed.status_code == 201 and placed.json["data"]["payment_ready"] is False
    order_id = placed.json["data"]["order"]["id"]
    assert "gateway error" in history_of(_reload(Order, order_id))[-1].reason
    sandbox.clear_faults()

    again = client.post(f"/api/v1/orders/{order_id}/pay", headers=headers)

    assert again.status_code == 200 and again.json["data"]["payment_ready"] is True
