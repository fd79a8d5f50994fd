"""End to end: the sandbox pays, our endpoints apply it, the outbox sends to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import io
import threading

from pypdf import PdfReader
from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor
from portal.notifications.models import OutboxMessage
from portal.orders.models import Order
from portal.orders.services import advance_fulfilment
from portal.payments.services import confirm_checkout_payment
from portal.refunds.services import create_refund
from tests.webhooks import payloads


def order_at_gateway(make, **fields) -> Order:
    order = make.order(**fields)
    gateway_order = get_gateway().create_order(
        amount=order.total, currency=order.currency, receipt=order.number, notes={"order_id": str(order.id)}
    )
    order.gateway_order_id = gateway_order["id"]
    db.session.commit()
    return order


def received(smtp_server, subject_part: str) -> list:
    return [m for m in smtp_server.messages if subject_part in m["Subject"]]


def pdf_attachments(message) -> list[bytes]:
    return [part.get_content() for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]


def test_paying_through_the_sandbox_delivers_exactly_one_receipt_with_the_invoice(smtp_server, sandbox, make):
    order = order_at_gateway(make)
    answer = sandbox.pay(order.gateway_order_id)
    # The customer's browser comes back with the signed parameters and the webhooks arrive too: both apply it.
    confirm_checkout_payment(
        answer["razorpay_order_id"],
        answer["razorpay_payment_id"],
        answer["razorpay_signature"],
        actor=Actor.gateway("checkout callback"),
    )
    sandbox.deliver()
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"
    [receipt] = received(smtp_server, "Payment received")
    assert receipt["To"] == order.billing_email
    [pdf] = pdf_attachments(receipt)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert order.number in text
    assert order.number in receipt.get_body(("plain",)).get_content()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "payment_received"))
    assert row.status == "sent" and row.attachments[0]["mimetype"] == "application/pdf"


def test_twenty_concurrent_duplicate_webhooks_send_one_receipt(postgres, app, smtp_server, make):
    order = make.order()
    body = payloads.body_of(payloads.envelope("payment.captured", payment=payloads.payment(order, "captured")))
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": payloads.sign(body, app.config["RAZORPAY_WEBHOOK_SECRET"]),
        "X-Razorpay-Event-Id": "EvReceipt20",
    }
    barrier, codes = threading.Barrier(20), []

    def deliver():
        with app.app_context():
            barrier.wait()
            codes.append(app.test_client().post("/webhooks/razorpay", data=body, headers=headers).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert codes == [200] * 20
    db.session.expire_all()
    count = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "payment_received")
    assert db.session.scalar(count) == 1
    assert len(received(smtp_server, "Payment received")) == 1


def test_twenty_concurrent_captures_of_one_payment_through_the_service_write_one_receipt(postgres, app, make):
    """The raced path without HTTP: verify-payment and webhooks both end in apply_gateway_payment."""
    from portal.payments.services import apply_gateway_payment

    order = make.order()
    entity = make.payment_entity(order)
    barrier, errors = threading.Barrier(20), []

    def apply():
        with app.app_context():
            barrier.wait()
            try:
                apply_gateway_payment(entity, actor=Actor.gateway())
            except Exception as exc:  # a crash is a result the test asserts on
                errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    db.session.expire_all()
    keys = list(db.session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.order_id == order.id)))
    assert keys.count(f"payment_received:order:{order.id}") == 1


def test_a_refund_delivers_initiated_and_processed_with_the_credit_note(smtp_server, sandbox, make):
    order = order_at_gateway(make)
    sandbox.pay(order.gateway_order_id)
    sandbox.deliver()
    payment = db.session.get(Order, order.id).payments[0]
    create_refund(payment.id, amount=10000, reason="requested_by_customer", actor=Actor.system("test"))
    sandbox.deliver()
    assert len(received(smtp_server, "started for order")) == 1
    [processed] = received(smtp_server, "processed for order")
    [pdf] = pdf_attachments(processed)
    assert "Credit Note" in "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_an_opted_out_customer_gets_receipts_but_no_shipping_updates(smtp_server, make):
    from portal.notifications.preferences import set_updates

    goods = make.product(kind="good")
    customer = make.customer()
    set_updates(customer.id, False)
    order, _ = make.paid_order(customer_user=customer, products=[goods])
    for step in ("processing", "shipped", "delivered"):
        tracking = {"carrier": "BlueDart", "tracking_number": "AWB1"} if step == "shipped" else {}
        advance_fulfilment(order.id, step, actor=Actor.system("test"), **tracking)
    subjects = [m["Subject"] for m in smtp_server.messages if m["To"] == customer.email]
    assert any("Payment received" in s for s in subjects)
    assert not any("shipped" in s or "delivered" in s for s in subjects)
    kinds = set(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.customer_id == customer.id)))
    assert kinds == {"order_placed", "payment_received"}
