"""The message catalogue: every kind of message, its audience, whether it is transactional, what its templates
are given and what it attaches. Registered at import (rules.init_app imports this module).

Templates: templates/mail/<kind>.subject.txt, <kind>.txt and <kind>.html. The context is built at send time from
the rows the message links (order, payment, refund, customer) plus the JSON `context` written with it, so a
message renders the same wherever the worker runs. Attachments are loaded at send time too: a receipt whose
invoice is not issued yet issues it (as invoices/hooks.py would a moment later), and one that cannot have it
yet raises DocumentNotReady (a RetryLater): the send is retried later rather than sent without its invoice.

Transactional (always sent; no unsubscribe link): order placed, payment received, order cancelled / expired,
refund initiated / processed — they are records of money and of the contract, which a customer must get.
Non-transactional (a customer may opt out): shipped / delivered updates and payment-failed reminders — useful,
but the customer loses nothing they are owed without them. Staff alerts are operational and always go.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.kinds import Kind, RetryLater, register
from portal.notifications.models import Audience

PAY_SALT = "notifications.pay"


class DocumentNotReady(RetryLater):
    """The message's document (the receipt's invoice) is not issued yet: the send is retried with the outbox's
    backoff (then `failed` after OUTBOX_MAX_ATTEMPTS, and a resend once the document exists attaches it)."""


# ---------------------------------------------------------------- links


def link(endpoint: str, **values) -> str:
    """An absolute URL under PUBLIC_BASE_URL, built from the url_map (no request context needed in a job)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    return adapter.build(endpoint, values, force_external=True)


def pay_token(order_id: int) -> str:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=PAY_SALT).dumps(order_id)


def order_from_pay_token(token: str) -> int | None:
    from itsdangerous import BadSignature

    try:
        value = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=PAY_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def pay_url(order) -> str | None:
    """While the order is payable: our link that opens (or creates) its payment link at click time, so the
    message never carries a gateway link that has expired meanwhile."""
    if order is None or not order.is_payable:
        return None
    return link("notifications_links.pay", token=pay_token(order.id))


# ---------------------------------------------------------------- context


def _rows(message):
    from portal.auth.models import User
    from portal.orders.models import Order
    from portal.payments.models import Payment
    from portal.refunds.models import Refund

    def get(model, ident):
        return db.session.get(model, ident) if ident else None

    return (
        get(Order, message.order_id),
        get(Payment, message.payment_id),
        get(Refund, message.refund_id),
        get(User, message.customer_id),
    )


def _credit_note(refund):
    return _credit_note_of(refund.id) if refund is not None else None


def _dispute(context: dict):
    from portal.payments.models import Dispute

    return db.session.get(Dispute, context["dispute_id"]) if context.get("dispute_id") else None


def customer_context(message) -> dict:
    """What every customer template gets: the seller, the linked rows, the order's links."""
    from portal.notifications.preferences import unsubscribe_url

    order, payment, refund, customer = _rows(message)
    kind = KIND_BY_NAME.get(message.kind)
    transactional = kind.transactional if kind else True
    return {
        **(message.context or {}),
        "order": order,
        "payment": payment,
        "refund": refund,
        "customer": customer,
        "customer_name": (order.billing_name if order else None) or (customer.name if customer else "") or "",
        "invoice": order.invoice if order else None,
        "credit_note": _credit_note(refund),
        "pay_url": pay_url(order),
        "unsubscribe_url": unsubscribe_url(customer) if customer is not None and not transactional else None,
    }


def staff_context(message) -> dict:
    """Staff templates: the linked rows and links into the portal."""
    order, payment, refund, customer = _rows(message)
    context = {**(message.context or {}), "order": order, "payment": payment, "refund": refund}
    context["customer"] = customer or (order.customer if order else None)
    context["order_url"] = link("orders.order_detail", order_id=order.id) if order else None
    context["payment_url"] = link("payments.payment_detail", payment_id=payment.id) if payment else None
    context["refund_url"] = link("refunds.refund_detail", refund_id=refund.id) if refund else None
    context["webhooks_url"] = link("webhooks.list_events", status="failed")
    context["dispute"] = _dispute(context)
    return context


# ---------------------------------------------------------------- attachments

INVOICE_ACTOR_NAME = "auto-invoice"


def ensure_invoice(order_id: int | None) -> None:
    """Issue the paid order's invoice if AUTO_INVOICE is on and it has none yet.

    The hook invoices/hooks.auto_invoice issues it right after the payment's commit, which may come after this
    send starts (the send job is enqueued by that same commit); issuing it here is exactly what the hook would
    do a moment later, and the hook then finds it. Idempotent (an order has one current invoice)."""
    from portal.invoices.models import Invoice
    from portal.invoices.services import InvoiceExists, NotInvoiceable, issue_invoice

    if not order_id or not current_app.config.get("AUTO_INVOICE", True):
        return
    if db.session.scalar(select(Invoice.id).where(Invoice.order_id == order_id).limit(1)) is not None:
        return  # issued, a draft for finance, or voided: the hook would not issue one either
    try:
        issue_invoice(order_id, actor=_auto_actor(), reason="issued for the payment receipt")
    except (InvoiceExists, NotInvoiceable):
        db.session.rollback()  # issued meanwhile by the hook, or the order is not paid (any more)


def ensure_credit_note(refund_id: int | None, order_id: int | None) -> None:
    """Issue a processed refund's credit note if its order has an issued invoice and the note is missing
    (the hook invoices/hooks.credit_note_for_refund runs after the refund's commit). Idempotent."""
    from portal.invoices.credit_notes import CreditNoteNotAllowed, issue_credit_note

    if not refund_id or _credit_note_of(refund_id) is not None or not _has_issued_invoice(order_id):
        return
    try:
        issue_credit_note(refund_id, actor=_auto_actor())
    except CreditNoteNotAllowed:
        db.session.rollback()


def receipt_context(message) -> dict:
    ensure_invoice(message.order_id)
    return customer_context(message)


def refund_context(message) -> dict:
    ensure_credit_note(message.refund_id, message.order_id)
    return customer_context(message)


def invoice_attachment(message) -> list[tuple[str, bytes, str]]:
    """The paid order's invoice PDF (rendered and stored on first use by invoices.services.pdf_bytes).

    Without one (a draft waiting for finance): DocumentNotReady, retried with backoff until the invoice is
    issued — never a receipt silently without its invoice."""
    from portal.invoices.services import invoice_pdf_for_order

    if not message.order_id:
        return []
    ensure_invoice(message.order_id)
    found = invoice_pdf_for_order(message.order_id)
    if found is None:
        raise DocumentNotReady(f"the invoice of order {message.order_id} is not issued yet")
    filename, data = found
    return [(filename, data, "application/pdf")]


def credit_note_attachment(message) -> list[tuple[str, bytes, str]]:
    """The refund's credit note PDF; an order that was never invoiced has none, and the message goes without."""
    from portal.invoices.credit_notes import credit_note_pdf

    if not message.refund_id:
        return []
    ensure_credit_note(message.refund_id, message.order_id)
    note = _credit_note_of(message.refund_id)
    if note is None:
        return []
    filename, data, _ = credit_note_pdf(note.id)
    return [(filename, data, "application/pdf")]


def _auto_actor():
    from portal.history.services import Actor

    return Actor.system(INVOICE_ACTOR_NAME)


def _credit_note_of(refund_id: int):
    from portal.invoices.models import CreditNote

    return db.session.scalar(select(CreditNote).where(CreditNote.refund_id == refund_id))


def _has_issued_invoice(order_id: int | None) -> bool:
    from portal.invoices.models import Invoice
    from portal.invoices.status import InvoiceStatus

    query = select(Invoice.id).where(Invoice.order_id == order_id, Invoice.status == InvoiceStatus.ISSUED)
    return order_id is not None and db.session.scalar(query) is not None


# ---------------------------------------------------------------- the kinds

CUSTOMER, STAFF = Audience.CUSTOMER, Audience.STAFF


def _customer(name: str, label: str, *, transactional: bool = True, context=None, attachments=None) -> Kind:
    options = {"attachments": attachments} if attachments else {}
    return Kind(name, CUSTOMER, transactional, label, context=context or customer_context, **options)


def _staff(name: str, label: str) -> Kind:
    return Kind(name, STAFF, True, label, context=staff_context)


CATALOGUE = (
    _customer("order_placed", "Order placed (with the payment link while unpaid)"),
    _customer(
        "payment_received",
        "Payment received (invoice attached)",
        context=receipt_context,
        attachments=invoice_attachment,
    ),
    _customer("payment_failed", "Payment failed (with a retry link)", transactional=False),
    _customer("order_cancelled", "Order cancelled"),
    _customer("order_expired", "Order expired unpaid"),
    _customer("refund_initiated", "Refund initiated"),
    _customer(
        "refund_processed",
        "Refund processed (credit note attached)",
        context=refund_context,
        attachments=credit_note_attachment,
    ),
    _customer("order_shipped", "Order shipped", transactional=False),
    _customer("order_delivered", "Order delivered", transactional=False),
    _staff("staff_new_paid_order", "Staff: new paid order"),
    _staff("vendor_order_awaiting", "Vendor: a paid order awaits approval"),
    _staff("staff_dispute_opened", "Staff: dispute opened"),
    _staff("staff_refund_failed", "Staff: refund failed at the gateway"),
    _staff("staff_webhook_failures", "Staff: webhook failures above the threshold"),
)
KIND_BY_NAME = {kind.name: kind for kind in CATALOGUE}

for _kind in CATALOGUE:
    register(_kind)
