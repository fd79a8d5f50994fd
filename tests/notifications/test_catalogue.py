"""Every kind renders (subject, plain text, HTML) from the rows its rule wrote: the seller's name and GSTIN, money
through the money filter, links under PUBLIC_BASE_URL, an unsubscribe link exactly on the non-transactional ones."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.extensions import db
from portal.history.services import Actor
from portal.notifications.alerts import alert_on_webhook_failures
from portal.notifications.catalogue import CATALOGUE, KIND_BY_NAME, DocumentNotReady, invoice_attachment
from portal.notifications.kinds import KINDS
from portal.notifications.models import OutboxMessage
from portal.notifications.rendering import render
from portal.orders.models import Order
from portal.orders.services import advance_fulfilment, cancel_order, change_status
from portal.payments.disputes import apply_gateway_dispute
from portal.payments.services import apply_gateway_payment
from portal.refunds.services import create_refund
from portal.timeutil import utcnow
from portal.vendors.models import Vendor
from portal.webhooks.models import WebhookEvent, WebhookStatus
from tests.refunds.conftest import pay_through_sandbox
from tests.webhooks import payloads

ACTOR = Actor.system("test")
MONEY = re.compile(r"₹\d[\d,]*\.\d\d")


def receipts() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "payment_received")))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def failed_webhooks(count: int) -> None:
    now = utcnow()
    for n in range(count):
        db.session.add(
            WebhookEvent(
                event_id=f"evt_fail_{n}",
                event_type="payment.captured",
                status=WebhookStatus.FAILED,
                payload="{}",
                last_error="boom",
                received_at=now,
                processed_at=now,
            )
        )
    db.session.commit()


def vendor_with_email():
    vendor = Vendor(name="Clay Works", invoice_prefix="CLAY", email="orders@clay.example", auto_approve=False)
    db.session.add(vendor)
    db.session.commit()
    return vendor


@pytest.fixture
def every_kind(sandbox, make):
    """One row of every kind, each written by its rule from the real services (and the sandbox)."""
    make.staff("admin")
    goods = make.product(kind="good", price=250000, title="Ceramic mug")
    order, payment = pay_through_sandbox(sandbox, products=[goods])
    for step in ("processing", "shipped", "delivered"):
        tracking = {"carrier": "BlueDart", "tracking_number": "AWB99"} if step == "shipped" else {}
        advance_fulfilment(order.id, step, actor=ACTOR, reason="left with the porter" if tracking else "", **tracking)
    awaiting = make.order(products=[goods], vendor_id=vendor_with_email().id)
    awaiting.fulfilment_status = "awaiting_vendor"  # as the checkout writes a vendor's order without auto-approve
    apply_gateway_payment(make.payment_entity(awaiting), actor=ACTOR)
    create_refund(payment.id, amount=50000, reason="requested_by_customer", actor=ACTOR)
    sandbox.set_faults(fail_refunds=True)
    create_refund(payment.id, amount=10000, reason="requested_by_customer", actor=ACTOR)
    sandbox.deliver()
    sandbox.clear_faults()
    dispute = payloads.dispute({"id": payment.gateway_payment_id, "amount": 20000, "currency": "INR"})
    apply_gateway_dispute(dispute, actor=Actor.gateway())
    cancel_order(make.order().id, actor=ACTOR, reason="duplicate order")
    change_status(make.order().id, "expired", actor=ACTOR, reason="not paid in time")
    unpaid = make.order()
    apply_gateway_payment(make.payment_entity(unpaid, "failed", error_description="Card declined"), actor=ACTOR)
    failed_webhooks(5)
    alert_on_webhook_failures()
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    first = {}
    for row in rows:
        first.setdefault(row.kind, row)
    return first


def test_the_catalogue_is_registered_with_the_outbox():
    for kind in CATALOGUE:
        assert KINDS[kind.name] is kind


def test_every_kind_renders_with_the_seller_money_and_absolute_links(app, every_kind):
    assert set(every_kind) == set(KIND_BY_NAME), "a kind's rule wrote no row"
    base = app.config["PUBLIC_BASE_URL"]
    for name, message in every_kind.items():
        rendered = render(message)
        for body in (rendered.text, rendered.html):
            assert app.config["SELLER_NAME"] in body, name
            assert f"GSTIN {app.config['SELLER_GSTIN']}" in body, name
            assert "None" not in body, name
        if name != "staff_webhook_failures":  # a count, not an amount
            assert MONEY.search(rendered.text) and MONEY.search(rendered.html), name
        links = re.findall(r'href="([^"]+)"', rendered.html)
        assert all(link.startswith(base) for link in links), (name, links)
        transactional = KIND_BY_NAME[name].transactional
        assert ("/notifications/unsubscribe/" in rendered.html) is not transactional, name
        assert ("/notifications/unsubscribe/" in rendered.text) is not transactional, name
        assert rendered.subject and "\n" not in rendered.subject, name


def test_the_order_and_its_lines_are_in_customer_messages(every_kind):
    message = every_kind["payment_received"]
    rendered = render(message)
    number = db.session.get(Order, message.order_id).number
    assert number in rendered.subject and number in rendered.text and number in rendered.html
    assert "Ceramic mug" in rendered.text and "Ceramic mug" in rendered.html
    assert "₹2,500.00" in rendered.text  # the line's taxable amount, through the money filter
    assert "IST" in rendered.text  # times in the business's zone
    shipped = render(every_kind["order_shipped"]).text
    assert "Carrier: BlueDart, tracking number: AWB99" in shipped and "left with the porter" in shipped


def test_the_receipt_attaches_the_invoice_pdf_with_the_order_number(every_kind):
    message = every_kind["payment_received"]
    [(filename, data, mimetype)] = render(message).attachments
    assert mimetype == "application/pdf" and filename.startswith("INV-") and filename.endswith(".pdf")
    assert db.session.get(Order, message.order_id).number in pdf_text(data)


def test_the_processed_refund_attaches_its_credit_note(every_kind):
    [(filename, data, mimetype)] = render(every_kind["refund_processed"]).attachments
    assert mimetype == "application/pdf" and filename.startswith("CN-")
    assert "Credit Note" in pdf_text(data)


def test_a_receipt_sent_before_the_hook_issues_the_invoice_itself(app, make):
    """The send job can run before invoices/hooks.auto_invoice (both follow the payment's commit)."""
    app.extensions["payment_hooks"], hooks = [], app.extensions["payment_hooks"]
    try:
        order, _ = make.paid_order()
    finally:
        app.extensions["payment_hooks"] = hooks
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "payment_received"))
    [(_, data, _)] = render(message).attachments
    assert order.number in pdf_text(data)


def test_without_auto_invoice_the_receipt_waits_for_finance_to_issue_the_invoice(app, make):
    from portal.invoices.services import issue_invoice

    app.config["AUTO_INVOICE"] = False
    try:
        order, _ = make.paid_order()
        assert receipts() == []
        issue_invoice(order.id, actor=ACTOR)
    finally:
        app.config["AUTO_INVOICE"] = True
    [message] = receipts()
    assert message.status == "not_sent" and message.attachments[0]["filename"].startswith("INV-")


def test_a_receipt_whose_invoice_is_a_draft_waits_and_is_retried_not_sent_bare(app, make):
    from portal.invoices.services import create_invoice
    from portal.notifications.services import resend

    order, _ = make.paid_order()
    message = receipts()[0]
    invoice = order.invoice
    db.session.delete(invoice)  # as if finance had made a draft instead of the automatic invoice
    db.session.commit()
    create_invoice(order.id, actor=ACTOR, issue=False)
    with pytest.raises(DocumentNotReady):
        invoice_attachment(db.session.get(OutboxMessage, message.id))
    resend(message.id)  # the send job runs (immediate mode): a transient failure, retried with backoff
    db.session.expire_all()
    retried = db.session.get(OutboxMessage, message.id)
    assert retried.status == "queued" and retried.next_attempt_at and "not issued yet" in retried.last_error


def test_order_placed_carries_a_pay_link_while_unpaid_and_none_once_paid(app, make):
    order = make.order()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "order_placed"))
    rendered = render(message)
    assert f"{app.config['PUBLIC_BASE_URL']}/notifications/pay/" in rendered.text
    apply_gateway_payment(make.payment_entity(order), actor=ACTOR)
    db.session.expire_all()
    assert "/notifications/pay/" not in render(db.session.get(OutboxMessage, message.id)).text
