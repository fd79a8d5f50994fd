"""Automatic documents: the invoice when an order becomes paid, the credit note when a refund is processed.

Both run after the payment's (or refund's) own commit, so a failure here can never undo a recorded payment:
it is logged, and `flask invoices generate --missing` (or finance) issues what is missing later. Issuing
commits the number only; the PDF is rendered by a job (portal/invoices/tasks.py) enqueued once it is issued.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import inspect, select

from portal.extensions import db
from portal.history.services import Actor
from portal.invoices.credit_notes import CreditNoteNotAllowed, issue_credit_note
from portal.invoices.models import Invoice
from portal.invoices.services import InvoiceExists, issue_invoice
from portal.invoices.tasks import render_credit_note_pdf, render_invoice_pdf
from portal.jobs import enqueue
from portal.refunds.status import RefundStatus

AUTO_ACTOR = Actor.system("auto-invoice")


def auto_invoice(outcome) -> None:
    """payment_hooks entry: issue the order's invoice once it is paid (AUTO_INVOICE, on by default).

    Only the number is allocated here; the PDF is rendered by the `render_invoice_pdf` job, so the webhook's
    response does not wait for the renderer (a lost enqueue: the first download renders it).
    """
    if not current_app.config.get("AUTO_INVOICE", True) or not outcome.order_paid:
        return
    order_id = outcome.order.id
    if db.session.scalar(select(Invoice.id).where(Invoice.order_id == order_id)) is not None:
        return
    try:
        invoice = issue_invoice(
            order_id, actor=AUTO_ACTOR, reason=f"payment {outcome.payment.gateway_payment_id} captured"
        )
        enqueue(render_invoice_pdf, committed_id(invoice))
    except InvoiceExists:
        pass  # a concurrent delivery of the same payment issued it
    except Exception:
        current_app.logger.exception("auto-invoice failed for order %s; `flask invoices generate` retries", order_id)


def credit_note_for_refund(refund) -> None:
    """refund_hooks entry: issue the credit note of a processed refund on an invoiced order."""
    if refund.status != RefundStatus.PROCESSED:
        return
    try:
        note = issue_credit_note(refund.id, actor=AUTO_ACTOR)
        if note is not None:
            enqueue(render_credit_note_pdf, committed_id(note))  # a note already rendered: the job does nothing
    except CreditNoteNotAllowed as exc:
        current_app.logger.info("no credit note for refund %s: %s", refund.id, exc)
    except Exception:
        current_app.logger.exception("credit note failed for refund %s", refund.id)


def committed_id(row) -> int:
    """The id of a row its service has just committed, read from its identity key: `row.id` would reload the
    expired row and so begin a transaction, which would hold the enqueue until some later commit."""
    return inspect(row).identity[0]


def register(app) -> None:
    """Add both hooks once (init_app may run again for a second app in the same process)."""
    for name, hook in (("payment_hooks", auto_invoice), ("refund_hooks", credit_note_for_refund)):
        hooks = app.extensions.setdefault(name, [])
        if hook not in hooks:
            hooks.append(hook)
