"""The message catalogue: every kind of message, its audience, whether it is transactional, what its templates
are given and what it attaches. Registered at import (rules.init_app imports this module).

Templates: templates/mail/<kind>.subject.txt, <kind>.txt and <kind>.html. The context is built at send time from
the rows the message links (order, payment, refund, customer) plus the JSON `context` written with it, so a
message renders the same wherever the worker runs. Attachments are loaded at send time too: a receipt whose
invoice is not issued yet raises DocumentNotReady, and the send is retried later rather than sent without it.

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
from portal.notifications.kinds import Kind, register
from portal.notifications.models import Audience

PAY_SALT = "notifications.pay"


class DocumentNotReady(RuntimeError):
    """The message's document (invoice, credit note) is not issued yet: retry the send later."""


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


def seller() -> dict:
    config = current_app.config
    return {"name": config["SELLER_NAME"], "gstin": config["SELLER_GSTIN"], "address": config["SELLER_ADDRESS"]}


def _credit_note(refund):
    from portal.invoices.models import CreditNote

    if refund is None:
        return None
    return db.session.scalar(select(CreditNote).where(CreditNote.refund_id == refund.id))


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
        "seller": seller(),
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
    context = {**(message.context or {}), "seller": seller(), "order": order, "payment": payment, "refund": refund}
    context["customer"] = customer or (order.customer if order else None)
    context["order_url"] = link("orders.order_detail", order_id=order.id) if order else None
    context["payment_url"] = link("payments.payment_detail", payment_id=payment.id) if payment else None
    context["refund_url"] = link("refunds.refund_detail", refund_id=refund.id) if refund else None
    context["webhooks_url"] = link("webhooks.list_events", status="failed")
    context["dispute"] = _dispute(context)
    return context


# ---------------------------------------------------------------- attachments


def invoice_attachment(message) -> list[tuple[str, bytes, str]]:
    """The paid order's invoice PDF; DocumentNotReady until it is issued (auto-invoice runs after the payment's
    commit), unless invoicing is off (AUTO_INVOICE=0): then the receipt goes without it."""
    from portal.invoices.services import invoice_pdf_for_order

    found = invoice_pdf_for_order(message.order_id) if message.order_id else None
    if found is None:
        if not current_app.config.get("AUTO_INVOICE", True):
            return []
        raise DocumentNotReady(f"the invoice of order {message.order_id} is not issued yet")
    filename, data = found
    return [(filename, data, "application/pdf")]


def credit_note_attachment(message) -> list[tuple[str, bytes, str]]:
    """The refund's credit note PDF when there is one. An invoiced order's processed refund gets one right after
    its commit (invoices/hooks.py): until then DocumentNotReady. An order never invoiced gets none."""
    from portal.invoices.credit_notes import credit_note_pdf
    from portal.invoices.models import CreditNote, Invoice
    from portal.invoices.status import InvoiceStatus

    if not message.refund_id:
        return []
    note_id = db.session.scalar(select(CreditNote.id).where(CreditNote.refund_id == message.refund_id))
    if note_id is not None:
        filename, data, _ = credit_note_pdf(note_id)
        return [(filename, data, "application/pdf")]
    invoiced = db.session.scalar(
        select(Invoice.id).where(Invoice.order_id == message.order_id, Invoice.status == InvoiceStatus.ISSUED)
    )
    if invoiced is not None and current_app.config.get("AUTO_INVOICE", True):
        raise DocumentNotReady(f"the credit note of refund {message.refund_id} is not issued yet")
    return []


# ---------------------------------------------------------------- the kinds

CUSTOMER, STAFF = Audience.CUSTOMER, Audience.STAFF


def _customer(name: str, label: str, *, transactional: bool = True, attachments=None) -> Kind:
    options = {"attachments": attachments} if attachments else {}
    return Kind(name, CUSTOMER, transactional, label, context=customer_context, **options)


def _staff(name: str, label: str) -> Kind:
    return Kind(name, STAFF, True, label, context=staff_context)


CATALOGUE = (
    _customer("order_placed", "Order placed (with the payment link while unpaid)"),
    _customer("payment_received", "Payment received (invoice attached)", attachments=invoice_attachment),
    _customer("payment_failed", "Payment failed (with a retry link)", transactional=False),
    _customer("order_cancelled", "Order cancelled"),
    _customer("order_expired", "Order expired unpaid"),
    _customer("refund_initiated", "Refund initiated"),
    _customer("refund_processed", "Refund processed (credit note attached)", attachments=credit_note_attachment),
    _customer("order_shipped", "Order shipped", transactional=False),
    _customer("order_delivered", "Order delivered", transactional=False),
    _staff("staff_new_paid_order", "Staff: new paid order"),
    _staff("staff_dispute_opened", "Staff: dispute opened"),
    _staff("staff_refund_failed", "Staff: refund failed at the gateway"),
    _staff("staff_webhook_failures", "Staff: webhook failures above the threshold"),
)
KIND_BY_NAME = {kind.name: kind for kind in CATALOGUE}

for _kind in CATALOGUE:
    register(_kind)
