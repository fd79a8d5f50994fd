"""Signed deliveries whose bodies are hostile: every one gets a deliberate answer, never a 500 that Razorpay
would retry for a day. Deep nesting is refused (400, counted); NUL characters are dropped and the event applied."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from portal.extensions import db
from portal.payments.models import Payment
from portal.webhooks.models import WebhookEvent, WebhookRejection
from tests.webhooks import payloads


def _rejections() -> dict[str, int]:
    return {r.reason: r.count for r in db.session.scalars(select(WebhookRejection))}


def test_a_signed_body_nested_5000_deep_is_refused_as_malformed_and_counted(deliver):
    body = b'{"event": "payment.captured", "payload": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = deliver.raw(body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed"
    assert "nested deeper" in response.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert _rejections() == {"malformed": 1}


def test_nesting_just_past_the_bound_is_refused_too(deliver):
    body = json.dumps({"event": "payment.captured", "payload": json.loads("[" * 40 + "]" * 40)}).encode()
    assert deliver.raw(body).status_code == 400


def test_a_signed_event_with_nul_characters_is_stored_and_applied_without_them(deliver, make):
    order = make.order()
    entity = payloads.payment(order, "captured", description="Order\u0000 X", email="a\u0000@x.in")
    envelope = payloads.envelope("payment.captured\u0000", payment=entity)
    body = payloads.body_of(envelope)
    assert b"\\u0000" in body  # valid JSON: the escape, not a raw NUL byte

    response = deliver.raw(body)

    assert response.status_code == 200 and response.get_json()["status"] == "processed"
    event = db.session.scalar(select(WebhookEvent))
    assert event.event_type == "payment.captured"
    assert event.payload == body.decode()  # the raw body is kept exactly as received
    assert db.session.scalar(select(Payment.status)) == "captured"


def test_an_event_id_header_with_control_characters_is_refused(deliver, make):
    order = make.order()
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order)))
    response = deliver.raw(body, event_id="Ev\x01\x02")
    assert response.status_code == 400 and _rejections() == {"malformed": 1}
