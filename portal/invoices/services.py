"""Invoices: issuing (with a gapless number), billing edits, PDFs, voiding and draft deletion.

Every public function owns its transaction: it commits on success and rolls back on failure. Lock order is
always order → invoice → document sequence, so two issuers can never wait on each other in a cycle.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.dbutil import for_update
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.invoices.documents import invoice_figures, render_invoice
from portal.invoices.models import Invoice
from portal.invoices.numbering import document_series, financial_year, format_number, next_sequence
from portal.invoices.pdf import sha256
from portal.invoices.status import INVOICE, InvoiceStatus
from portal.orders.models import Order
from portal.orders.services import find_order_locked
from portal.orders.status import OrderStatus
from portal.statemachine import IllegalTransition, transition
from portal.timeutil import local_date, utcnow

INVOICEABLE = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED})
GSTIN_RE = re.compile(r"^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BUYER_FIELDS = ("name", "email", "address", "state", "gstin")
BUYER_LIMITS = {"name": 120, "email": 255, "address": 500, "state": 60, "gstin": 15}


class InvoiceError(Exception):
    """Base of the refusals below; `status` is the HTTP status a view answers with."""

    status = 409


class InvoiceNotFound(InvoiceError, LookupError):
    status = 404


class InvoiceExists(InvoiceError):
    """The order already has its current (draft or issued) invoice; a void one does not count."""


class NotInvoiceable(InvoiceError):
    """The order is not paid (or its figures do not add up), so no invoice can be issued."""


class InvalidBillingDetails(InvoiceError, ValueError):
    status = 422

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))


def seller_snapshot(order: Order | None = None) -> dict:
    """The issuer of `order`'s invoice as it is now, frozen into the invoice at creation: the order's vendor
    (legal name, address, GSTIN, state — the seller state of the CGST/SGST vs IGST split — and its brand
    colour), or the house as configured (SELLER_*)."""
    vendor = order.vendor if order is not None and order.vendor_id else None
    if vendor is not None:
        return {
            "name": vendor.legal_name or vendor.name,
            "trade_name": vendor.name,
            "address": vendor.address,
            "gstin": vendor.gstin or "",
            "state": vendor.state or "",
            "vendor_id": vendor.id,
            "brand_colour": vendor.brand_colour or "",
        }
    config = current_app.config
    return {
        "name": config["SELLER_NAME"],
        "address": config["SELLER_ADDRESS"],
        "gstin": config["SELLER_GSTIN"],
        "state": config["SELLER_STATE"],
    }


def buyer_from_order(order: Order) -> dict:
    customer = order.customer
    return {
        "name": order.billing_name or customer.name or customer.email,
        "email": order.billing_email or customer.email,
        "address": order.billing_address or customer.billing_address or "",
        "state": order.billing_state or customer.billing_state or "",
        "gstin": (order.billing_gstin or customer.gstin or "").upper(),
    }


def _payment_reference(order: Order) -> str | None:
    settled = [p for p in order.payments if p.is_settled]
    return settled[-1].gateway_payment_id if settled else None


def get_invoice(invoice_id: int, *, lock: bool = False) -> Invoice:
    query = select(Invoice).where(Invoice.id == invoice_id)
    invoice = db.session.scalar(for_update(query, of=Invoice) if lock else query)
    if invoice is None:
        raise InvoiceNotFound(f"Invoice {invoice_id} does not exist.")
    return invoice


def _lock_order(order_id: int) -> Order:
    order = find_order_locked(Order.id == order_id)
    if order is None:
        raise NotInvoiceable(f"Order {order_id} does not exist.")
    return order


def _apply_figures(invoice: Invoice, order: Order) -> None:
    """Copy the order's own line figures; refuse rather than print a total that differs from the order's."""
    figures = invoice_figures(invoice)
    if figures.total != order.total or figures.subtotal != order.subtotal or figures.tax != order.tax:
        raise NotInvoiceable(
            f"Order {order.number}: its lines add up to {figures.total}, not its total {order.total}; "
            "no invoice was issued."
        )
    split = figures.split
    invoice.subtotal, invoice.tax, invoice.total = figures.subtotal, figures.tax, figures.total
    invoice.cgst, invoice.sgst, invoice.igst = split.cgst, split.sgst, split.igst


def _new_invoice(order: Order) -> Invoice:
    buyer = buyer_from_order(order)
    invoice = Invoice(
        order=order,
        status=InvoiceStatus.DRAFT,
        currency=order.currency,
        seller=seller_snapshot(order),
        buyer=buyer,
        place_of_supply=buyer["state"] or None,
        payment_reference=_payment_reference(order),
    )
    db.session.add(invoice)  # before reading order.items: autoflush must see the invoice in the session
    _apply_figures(invoice, order)
    return invoice


def _allocate_number(invoice: Invoice, actor: Actor, reason: str, issued_at: datetime | None = None) -> None:
    """Draft → issued with the next number of its financial year (the sequence row stays locked to commit).

    The financial year is that of the business's local date (TIMEZONE) at `issued_at` (default: now)."""
    now = issued_at or utcnow()
    fy = financial_year(local_date(now))
    series, prefix = document_series(invoice.order, "invoice")  # the house's, or the vendor's own
    format_number(prefix, fy, 1)  # a bad prefix fails here, before a number is taken
    sequence_no = next_sequence(series, fy)
    invoice.number = format_number(prefix, fy, sequence_no)
    invoice.series, invoice.financial_year, invoice.sequence_no, invoice.issued_at = series, fy, sequence_no, now
    transition(invoice, INVOICE, InvoiceStatus.ISSUED, actor=actor, reason=reason or f"issued {invoice.number}")


def current_invoice_id(order_id: int) -> int | None:
    """The order's draft or issued invoice, if any (a void one has been replaced or may be)."""
    return db.session.scalar(
        select(Invoice.id).where(Invoice.order_id == order_id, Invoice.status != InvoiceStatus.VOID)
    )


def create_invoice(
    order_id: int, *, actor: Actor, issue: bool = True, reason: str = "", issued_at: datetime | None = None
) -> Invoice:
    """Create the invoice of a paid order — issued with its number, or a draft when `issue` is False.

    An order has one current invoice; after a void a new one may be created (with a new number; the void
    one is kept). `issued_at` (naive UTC, default now) dates an invoice issued late, e.g. on the order's
    paid date by the demo seed; its financial year and number follow that date.
    Raises InvoiceExists when the order has a draft or issued invoice (a partial unique index on
    order_id settles races), NotInvoiceable when the order is not paid, NumberFormatError when
    INVOICE_PREFIX is unusable.
    """
    try:
        order = _lock_order(order_id)
        if current_invoice_id(order.id) is not None:
            raise InvoiceExists(f"Order {order.number} already has an invoice.")
        if order.status not in INVOICEABLE:
            raise NotInvoiceable(f"Order {order.number} is {order.status}; only paid orders are invoiced.")
        invoice = _new_invoice(order)
        db.session.flush()
        record_event(invoice, action="create", actor=actor, to_state=InvoiceStatus.DRAFT, reason=reason)
        if issue:
            _allocate_number(invoice, actor, reason, issued_at)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise InvoiceExists(f"Order {order_id} already has an invoice.") from exc
    except Exception:
        db.session.rollback()
        raise
    return invoice


def issue_invoice(order_id: int, *, actor: Actor, reason: str = "", issued_at: datetime | None = None) -> Invoice:
    """Issue the invoice of a paid order, now or at `issued_at` (see create_invoice)."""
    return create_invoice(order_id, actor=actor, issue=True, reason=reason, issued_at=issued_at)


def issue_draft(invoice_id: int, *, actor: Actor, reason: str = "") -> Invoice:
    """Give a draft its number and issue it. IllegalTransition unless it is a draft."""
    try:
        invoice = get_invoice(invoice_id, lock=True)
        if invoice.status != InvoiceStatus.DRAFT:
            raise IllegalTransition(INVOICE.name, invoice.status, InvoiceStatus.ISSUED)
        _apply_figures(invoice, invoice.order)
        _allocate_number(invoice, actor, reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return invoice


def _clean_buyer(values: dict) -> dict:
    buyer = {name: (values.get(name) or "").strip() for name in BUYER_FIELDS}
    buyer["gstin"] = buyer["gstin"].upper()
    errors = {name: f"at most {limit} characters" for name, limit in BUYER_LIMITS.items() if len(buyer[name]) > limit}
    if not buyer["name"]:
        errors["name"] = "the buyer's name is required"
    if not buyer["state"]:
        errors["state"] = "the state (place of supply) is required"
    if buyer["gstin"] and not GSTIN_RE.match(buyer["gstin"]):
        errors.setdefault("gstin", "not a valid GSTIN (15 characters, e.g. 29ABCDE1234F1Z5)")
    if buyer["email"] and not EMAIL_RE.match(buyer["email"]):
        errors.setdefault("email", "not an email address")
    if errors:
        raise InvalidBillingDetails(errors)
    return buyer


def edit_billing(invoice_id: int, values: dict, *, actor: Actor, reason: str = "") -> Invoice:
    """Change the buyer block (name, email, address, state, GSTIN) of a draft or issued invoice.

    A new state may change the tax split (CGST+SGST ↔ IGST); the totals never change. The stored PDF is
    then out of date until regenerated. Writes an `edit` history row with what changed.
    """
    buyer = _clean_buyer(values)
    try:
        invoice = get_invoice(invoice_id, lock=True)
        if invoice.status == InvoiceStatus.VOID:
            raise IllegalTransition(INVOICE.name, invoice.status, "edited")
        before = dict(invoice.buyer or {})
        changes = {f"buyer.{k}": [before.get(k), v] for k, v in buyer.items() if (before.get(k) or "") != v}
        if changes:
            invoice.buyer = buyer  # a new dict: JSON columns only notice reassignment
            invoice.place_of_supply = buyer["state"]
            _apply_figures(invoice, invoice.order)
            invoice.billing_edited_at = utcnow()
            record_event(invoice, action="edit", actor=actor, reason=reason or "billing details", changes=changes)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return invoice


def _put_pdf(invoice: Invoice, data: bytes, actor: Actor, action: str, reason: str = "") -> None:
    old = invoice.pdf_sha256
    invoice.pdf, invoice.pdf_sha256, invoice.pdf_generated_at = data, sha256(data), utcnow()
    record_event(invoice, action=action, actor=actor, reason=reason, changes={"pdf_sha256": [old, invoice.pdf_sha256]})


def _store_pdf(invoice: Invoice, actor: Actor, action: str, reason: str = "") -> None:
    _put_pdf(invoice, render_invoice(invoice), actor, action, reason)


def store_rendered_pdf(invoice_id: int, data: bytes, *, actor: Actor, reason: str = "") -> Invoice:
    """Store a PDF rendered elsewhere (the bulk CLI's worker processes) with its checksum. Commits."""
    try:
        invoice = get_invoice(invoice_id, lock=True)
        if invoice.status == InvoiceStatus.DRAFT:
            raise IllegalTransition(INVOICE.name, invoice.status, "regenerated")
        _put_pdf(invoice, data, actor, "regenerate_pdf", reason or "PDF regenerated in bulk")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return invoice


def store_rendered_pdfs(pdfs: dict[int, bytes], *, actor: Actor, reason: str = "") -> None:
    """Store several PDFs rendered elsewhere (a bulk worker's batch) in one transaction, each with its checksum and
    history row: one lock statement and one commit for the batch instead of one each. All or nothing: a draft or
    an unknown id among them stores none (the caller then stores the batch one by one to isolate it). Commits."""
    try:
        query = select(Invoice).where(Invoice.id.in_(pdfs)).order_by(Invoice.id)  # one lock order: no deadlock
        invoices = list(db.session.scalars(for_update(query, of=Invoice)))
        if len(invoices) != len(pdfs):
            raise InvoiceNotFound(f"Some of invoices {sorted(pdfs)} do not exist.")
        for invoice in invoices:
            if invoice.status == InvoiceStatus.DRAFT:
                raise IllegalTransition(INVOICE.name, invoice.status, "regenerated")
            _put_pdf(invoice, pdfs[invoice.id], actor, "regenerate_pdf", reason or "PDF regenerated in bulk")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def regenerate_pdf(invoice_id: int, *, actor: Actor, reason: str = "") -> Invoice:
    """Render an issued (or void) invoice's PDF again and store it with its checksum. Drafts have none."""
    try:
        invoice = get_invoice(invoice_id, lock=True)
        if invoice.status == InvoiceStatus.DRAFT:
            raise IllegalTransition(INVOICE.name, invoice.status, "regenerated")
        _store_pdf(invoice, actor, "regenerate_pdf", reason or "PDF regenerated")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return invoice


def pdf_is_outdated(invoice: Invoice) -> bool:
    if invoice.pdf_generated_at is None:
        return invoice.status != InvoiceStatus.DRAFT
    return invoice.billing_edited_at is not None and invoice.billing_edited_at > invoice.pdf_generated_at


def pdf_bytes(invoice_id: int) -> tuple[str, bytes, str | None]:
    """(filename, PDF, sha256) of an invoice. Issued/void ones are rendered once and stored (lazily, on first
    request: issuing does not wait for the renderer); a draft is rendered on the fly and never stored."""
    invoice = get_invoice(invoice_id)
    if invoice.status == InvoiceStatus.DRAFT:
        return f"draft-invoice-{invoice.id}.pdf", render_invoice(invoice), None
    if invoice.pdf_sha256 is None:
        try:
            invoice = get_invoice(invoice_id, lock=True)
            if invoice.pdf_sha256 is None:  # another request may have stored it while we waited
                _store_pdf(invoice, Actor.system("invoice-pdf"), "render_pdf", "first rendering")
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    return pdf_filename(invoice), invoice.pdf, invoice.pdf_sha256


def pdf_filename(invoice: Invoice) -> str:
    return (invoice.number or f"invoice-{invoice.id}").replace("/", "-") + ".pdf"


def invoice_pdf_for_order(order_id: int) -> tuple[str, bytes] | None:
    """For the customer API: (filename, PDF) of the order's issued or void invoice; None when there is none."""
    # The issued invoice when there is one, else the last voided one (its PDF says VOID).
    invoice_id = db.session.scalar(
        select(Invoice.id)
        .where(Invoice.order_id == order_id, Invoice.status != InvoiceStatus.DRAFT)
        .order_by((Invoice.status == InvoiceStatus.VOID).asc(), Invoice.id.desc())
        .limit(1)
    )
    if invoice_id is None:
        return None
    filename, data, _ = pdf_bytes(invoice_id)
    return filename, data


def void_invoice(invoice_id: int, *, actor: Actor, reason: str) -> Invoice:
    """Void an issued invoice (its number stays used, never reissued) and re-render its PDF with a VOID stamp.

    The order may then be invoiced again: the new invoice gets the next number of its financial year."""
    if not (reason or "").strip():
        raise InvalidBillingDetails({"reason": "a reason is required to void an invoice"})
    try:
        invoice = get_invoice(invoice_id, lock=True)
        transition(invoice, INVOICE, InvoiceStatus.VOID, actor=actor, reason=reason.strip())
        invoice.voided_at, invoice.void_reason = utcnow(), reason.strip()[:255]
        _store_pdf(invoice, actor, "regenerate_pdf", "stamped VOID")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return invoice


def delete_draft(invoice_id: int, *, actor: Actor, reason: str = "") -> int:
    """Delete a draft (it never had a number). An issued invoice is never deleted: void it instead."""
    try:
        invoice = get_invoice(invoice_id, lock=True)
        if invoice.status != InvoiceStatus.DRAFT:
            raise IllegalTransition(INVOICE.name, invoice.status, "deleted")
        order_id = invoice.order_id
        record_event(invoice, action="delete", actor=actor, from_state=invoice.status, reason=reason or "draft deleted")
        db.session.delete(invoice)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order_id
