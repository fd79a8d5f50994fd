"""What goes on the page: the render context of an invoice or a credit note, and the rendering itself."""

from __future__ import annotations

import base64
import re

from portal.extensions import db
from portal.invoices.figures import amount_in_words, figures_for_items, proportional_tax, same_state, split_tax
from portal.invoices.models import CreditNote, Invoice
from portal.invoices.pdf import render_pdf
from portal.invoices.status import InvoiceStatus
from portal.timeutil import local_date


def tax_rate(basis_points: int) -> str:
    """1800 → '18%', 250 → '2.5%' (integers only; no float formatting)."""
    whole, fraction = divmod(basis_points, 100)
    return f"{whole}.{fraction:02d}".rstrip("0").rstrip(".") + "%"


def invoice_figures(invoice: Invoice):
    """Lines and tax split of an invoice, from its order's stored line figures and its place of supply."""
    intra = same_state(invoice.place_of_supply, (invoice.seller or {}).get("state"))
    return figures_for_items(invoice.order.items, intra)


def _stamp(invoice: Invoice) -> str:
    if invoice.status == InvoiceStatus.VOID:
        return f"VOID — {invoice.void_reason or 'cancelled'}"
    if invoice.status == InvoiceStatus.DRAFT:
        return "DRAFT — not a tax invoice"
    return ""


_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def branding(invoice: Invoice) -> dict:
    """A vendor's invoice branding: its colour (from the seller snapshot) and its logo as a data: URI (read
    now: the logo is not part of the snapshot). The house's documents have neither."""
    from portal.vendors.models import Vendor

    seller = invoice.seller or {}
    colour = seller.get("brand_colour") or ""
    vendor = db.session.get(Vendor, seller["vendor_id"]) if seller.get("vendor_id") else None
    logo = None
    if vendor is not None and vendor.logo and vendor.logo_type in ("image/png", "image/jpeg"):
        logo = f"data:{vendor.logo_type};base64,{base64.b64encode(vendor.logo).decode()}"
    return {"brand_colour": colour if _COLOUR_RE.match(colour) else "", "logo_uri": logo}


def invoice_context(invoice: Invoice) -> dict:
    figures = invoice_figures(invoice)
    return {
        **branding(invoice),
        "title": "Tax Invoice",
        "number_label": "Invoice no.",
        "number": invoice.number,
        "document_date": local_date(invoice.issued_at).strftime("%d %b %Y") if invoice.issued_at else "—",
        "stamp": _stamp(invoice),
        "seller": invoice.seller or {},
        "buyer": invoice.buyer or {},
        "place_of_supply": invoice.place_of_supply,
        "intra_state": figures.intra_state,
        "order_number": invoice.order.number,
        "payment_reference": invoice.payment_reference,
        "figures": figures,
        "total": invoice.total,
        "currency": invoice.currency,
        "words": amount_in_words(invoice.total, invoice.currency),
        "rate": tax_rate,
    }


def render_invoice(invoice: Invoice) -> bytes:
    return render_pdf("invoices/pdf/invoice.html", **invoice_context(invoice))


def credit_note_tax(invoice: Invoice, already_amount: int, already_tax: int, amount: int) -> int:
    """Tax inside a credit of `amount`, computed on the running total so that crediting the whole invoice in
    several notes credits exactly the invoice's tax (no paisa lost or gained to rounding)."""
    return proportional_tax(already_amount + amount, invoice.tax, invoice.total) - already_tax


def credit_note_context(note: CreditNote) -> dict:
    invoice = note.invoice
    intra = same_state(invoice.place_of_supply, (invoice.seller or {}).get("state"))
    return {
        **branding(invoice),
        "title": "Credit Note",
        "number_label": "Credit note no.",
        "number": note.number,
        "document_date": local_date(note.issued_at).strftime("%d %b %Y"),
        "stamp": "",
        "seller": invoice.seller or {},
        "buyer": invoice.buyer or {},
        "place_of_supply": invoice.place_of_supply,
        "intra_state": intra,
        "invoice_number": invoice.number,
        "invoice_date": local_date(invoice.issued_at).strftime("%d %b %Y"),
        "order_number": invoice.order.number,
        "refund_reference": note.refund.gateway_refund_id or note.refund.offline_reference,
        "description": f"Refund against invoice {invoice.number}",
        "taxable": note.amount - note.tax,
        "split": split_tax(note.tax, intra),
        "total": note.amount,
        "currency": note.currency,
        "words": amount_in_words(note.amount, note.currency),
    }


def render_credit_note(note: CreditNote) -> bytes:
    return render_pdf("invoices/pdf/credit_note.html", **credit_note_context(note))
