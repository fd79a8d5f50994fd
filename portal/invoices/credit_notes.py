"""Credit notes: one per processed refund on an invoiced order, in their own gapless series."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.dbutil import for_update
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.invoices.documents import credit_note_tax, render_credit_note
from portal.invoices.models import CreditNote, Invoice
from portal.invoices.numbering import document_series, financial_year, format_number, next_sequence
from portal.invoices.pdf import sha256
from portal.invoices.services import InvoiceError
from portal.invoices.status import InvoiceStatus
from portal.money import format_money
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus
from portal.timeutil import local_date, utcnow


class CreditNoteNotAllowed(InvoiceError):
    """The refund is not processed, or its order has no issued invoice to credit."""


class CreditNoteNotFound(InvoiceError, LookupError):
    status = 404


def _lock_refund(refund_id: int) -> Refund:
    refund = db.session.scalar(for_update(select(Refund).where(Refund.id == refund_id), of=Refund))
    if refund is None:
        raise CreditNoteNotAllowed(f"Refund {refund_id} does not exist.")
    return refund


def _existing(refund_id: int) -> CreditNote | None:
    return db.session.scalar(select(CreditNote).where(CreditNote.refund_id == refund_id))


def _credited_so_far(invoice: Invoice) -> tuple[int, int]:
    amount, tax = db.session.execute(
        select(func.coalesce(func.sum(CreditNote.amount), 0), func.coalesce(func.sum(CreditNote.tax), 0)).where(
            CreditNote.invoice_id == invoice.id
        )
    ).one()
    return int(amount), int(tax)


def _invoice_to_credit(refund: Refund) -> Invoice:
    # The current invoice (issued or draft); after a void-and-reissue the void one is never credited.
    query = (
        select(Invoice)
        .where(Invoice.order_id == refund.order_id)
        .order_by((Invoice.status == InvoiceStatus.VOID).asc(), Invoice.id.desc())
    )
    invoice = db.session.scalar(for_update(query.limit(1), of=Invoice))
    if invoice is None or invoice.status != InvoiceStatus.ISSUED:
        state = "no invoice" if invoice is None else f"a {invoice.status} invoice"
        raise CreditNoteNotAllowed(f"The refund's order has {state}; there is nothing to credit.")
    return invoice


def _build(refund: Refund, invoice: Invoice) -> CreditNote:
    credited, credited_tax = _credited_so_far(invoice)
    if credited + refund.amount > invoice.total:
        raise CreditNoteNotAllowed(
            f"Crediting {format_money(refund.amount, refund.currency)} would exceed the invoice total "
            f"{format_money(invoice.total, invoice.currency)}."
        )
    now = utcnow()
    fy = financial_year(local_date(now))
    series, prefix = document_series(invoice.order, "credit_note")  # the house's, or the invoice's vendor's
    format_number(prefix, fy, 1)  # a bad prefix fails before a number is taken
    sequence_no = next_sequence(series, fy)
    return CreditNote(
        invoice=invoice,
        refund=refund,
        number=format_number(prefix, fy, sequence_no),
        series=series,
        financial_year=fy,
        sequence_no=sequence_no,
        issued_at=now,
        currency=refund.currency,
        amount=refund.amount,
        tax=credit_note_tax(invoice, credited, credited_tax, refund.amount),
    )


def issue_credit_note(refund_id: int, *, actor: Actor) -> CreditNote:
    """Issue the credit note of a processed refund against its order's issued invoice. Commits.

    Idempotent: a refund that already has its credit note returns it. Raises CreditNoteNotAllowed when the
    refund is not processed or the order has no issued invoice.
    """
    try:
        refund = _lock_refund(refund_id)
        note = _existing(refund_id)
        if note is None:
            if refund.status != RefundStatus.PROCESSED:
                raise CreditNoteNotAllowed(f"Refund {refund_id} is {refund.status}; only processed ones are credited.")
            note = _build(refund, _invoice_to_credit(refund))
            db.session.add(note)
            db.session.flush()
            record_event(note, action="create", actor=actor, reason=f"refund {refund.id} against {note.invoice.number}")
            record_event(note.invoice, action="credit_note", actor=actor, reason=f"credit note {note.number}")
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # a concurrent caller issued it first
        return _existing(refund_id)
    except Exception:
        db.session.rollback()
        raise
    return note


def get_credit_note(note_id: int, *, lock: bool = False) -> CreditNote:
    query = select(CreditNote).where(CreditNote.id == note_id)
    note = db.session.scalar(for_update(query, of=CreditNote) if lock else query)
    if note is None:
        raise CreditNoteNotFound(f"Credit note {note_id} does not exist.")
    return note


def credit_note_pdf(note_id: int) -> tuple[str, bytes, str]:
    """(filename, PDF, sha256) of a credit note, rendered and stored on first request."""
    note = get_credit_note(note_id)
    if note.pdf_sha256 is None:
        try:
            note = get_credit_note(note_id, lock=True)
            if note.pdf_sha256 is None:
                note.pdf = render_credit_note(note)
                note.pdf_sha256 = sha256(note.pdf)
                record_event(note, action="render_pdf", actor=Actor.system("invoice-pdf"), reason="first rendering")
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return note.number.replace("/", "-") + ".pdf", note.pdf, note.pdf_sha256
