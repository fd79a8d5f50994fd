"""Never more refunded than captured: a gateway refund that would break it is refused, logged at error,
recorded on the payment and listed on the dashboard's needs-attention panel — never silently stored."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from portal.admin.services import attention
from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.payments.models import Payment
from portal.payments.services import apply_gateway_payment
from portal.refunds.invariants import REFUSED_ACTION, exceeds_captured, over_refunded_payments
from portal.refunds.models import Refund
from portal.webhooks.models import WebhookEvent
from tests.webhooks import payloads


def deliver(app, client, event: str, **entities) -> int:
    body = payloads.body_of(payloads.envelope(event, **entities))
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"]),
        "X-Razorpay-Event-Id": payloads.new_event_id(),
    }
    return client.post("/webhooks/razorpay", data=body, headers=headers).status_code


def test_the_predicate_says_refunded_beyond_captured():
    assert exceeds_captured(176882, 246880) and not exceeds_captured(176882, 176882)


def test_a_gateway_refund_beyond_the_capture_is_refused_logged_and_needs_attention(app, client, make, caplog):
    order = make.order()
    paid = payloads.payment(order, "captured")
    payment = apply_gateway_payment(paid, actor=Actor.gateway()).payment
    first = payloads.refund(paid, "processed", amount=paid["amount"] * 2 // 3)
    over = payloads.refund(paid, "processed", amount=paid["amount"] * 2 // 3)  # the sandbox's lost update
    caplog.set_level(logging.ERROR, "portal.refunds")

    assert deliver(app, client, "refund.processed", refund=first, payment=paid) == 200
    assert deliver(app, client, "refund.processed", refund=over, payment=paid) == 200  # stored, then refused

    db.session.expire_all()
    assert db.session.scalars(select(Refund.gateway_refund_id)).all() == [first["id"]]
    stored = db.session.get(Payment, payment.id)
    assert stored.amount_refunded == first["amount"] <= stored.amount
    assert db.session.scalar(select(func.count()).where(WebhookEvent.status == "failed")) == 1
    [flag] = db.session.scalars(select(HistoryEvent).where(HistoryEvent.action == REFUSED_ACTION)).all()
    assert flag.entity_id == payment.id and over["id"] in flag.reason
    assert any(over["id"] in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    panel = attention()["over_refunded"]
    assert panel["count"] == 1 and panel["rows"][0].id == payment.id


def test_refunds_stored_beyond_the_capture_before_the_guard_are_listed_too(make):
    order = make.order()
    payment = apply_gateway_payment(payloads.payment(order, "captured"), actor=Actor.gateway()).payment
    payment.status, payment.amount_refunded = "refunded", 246880 if payment.amount < 246880 else payment.amount + 1
    db.session.commit()

    assert db.session.scalars(over_refunded_payments()).all() == [payment]
    assert attention()["over_refunded"]["count"] == 1


def test_the_dashboard_shows_the_over_refunded_payment(app, auth, client, make):
    test_refunds_stored_beyond_the_capture_before_the_guard_are_listed_too(make)
    auth.login_as("viewer")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="attention-over-refunded"' in page and "Refunds exceeding the capture" in page
    assert "the gateway reported more: check it there" in page
