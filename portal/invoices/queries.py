"""Reading invoices: the filtered list (shared by the page, its HTMX partial and the CSV export)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from portal import search
from portal.auth.models import User
from portal.extensions import db
from portal.invoices.models import Invoice
from portal.invoices.status import InvoiceStatus
from portal.listing import day_range_clauses, lenient_date, narrowed, page_number
from portal.orders.models import Order
from portal.timeutil import local_date
from portal.vendors.scope import scope_orders

PER_PAGE = 50
CSV_COLUMNS = (
    "number", "date", "status", "order", "buyer", "buyer_gstin", "place_of_supply",
    "currency", "taxable", "cgst", "sgst", "igst", "total",
)  # fmt: skip


@dataclass(frozen=True)
class InvoiceFilter:
    q: str = ""
    status: str = ""
    customer: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args) -> InvoiceFilter:
        """Lenient: an unparseable date or page is ignored rather than refused (the URL is shareable)."""
        status = args.get("status", "")
        return cls(
            q=args.get("q", "").strip()[:100],
            status=status if status in {s.value for s in InvoiceStatus} else "",
            customer=args.get("customer", "").strip()[:255],
            date_from=lenient_date(args.get("from")),
            date_to=lenient_date(args.get("to")),
            page=page_number(args.get("page")),
        )

    def args(self, **override) -> dict:
        values = {
            "q": self.q,
            "status": self.status,
            "customer": self.customer,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        values.update(override)
        return {k: v for k, v in values.items() if v}


def search_clause(q: str):
    """What the search box finds (portal.search): invoice and credit-note numbers (exactly, or a part such as
    `INV/25-26`), order number and gateway ids, the customer's name, email or GSTIN, an amount (the invoice
    total); each through its own index."""
    return search.clause(q, "invoices")


def _filtered(f: InvoiceFilter):
    query = select(Invoice).join(Invoice.order).join(Order.customer).options(contains_eager(Invoice.order))
    query = scope_orders(query, Invoice.order_id)  # a vendor's staff: invoices of its own orders only
    if f.status:
        query = query.where(Invoice.status == f.status)
    query = query.where(*day_range_clauses(Invoice.issued_at, f.date_from, f.date_to))
    if f.q:  # before the customer filter: the search's probe reads invoices alone (listing.narrowed)
        query = narrowed(query, Invoice.id, search.arms(f.q, "invoices"), prefix=search.prefix_arms(f.q, "invoices"))
    if f.customer:
        query = query.where(or_(User.email.ilike(f"%{f.customer}%"), Order.billing_email.ilike(f"%{f.customer}%")))
    return query


def list_invoices(f: InvoiceFilter) -> tuple[list[Invoice], bool]:
    """One page of invoices, newest first; the flag says whether a next page exists."""
    query = _filtered(f).order_by(Invoice.issued_at.desc().nulls_first(), Invoice.id.desc())
    rows = db.session.scalars(query.offset((f.page - 1) * PER_PAGE).limit(PER_PAGE + 1)).unique().all()
    return list(rows[:PER_PAGE]), len(rows) > PER_PAGE


def _decimal(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def invoices_csv(f: InvoiceFilter) -> str:
    """Every invoice the filter shows, as CSV with amounts in major units (e.g. 1180.00)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    query = _filtered(f).order_by(Invoice.issued_at, Invoice.id)
    for inv in db.session.scalars(query).unique():
        buyer = inv.buyer or {}
        day = local_date(inv.issued_at).isoformat() if inv.issued_at else ""
        amounts = [_decimal(a) for a in (inv.subtotal, inv.cgst, inv.sgst, inv.igst, inv.total)]
        writer.writerow(
            [inv.number or "", day, inv.status, inv.order.number, buyer.get("name", ""), buyer.get("gstin", ""),
             inv.place_of_supply or "", inv.currency, *amounts]
        )  # fmt: skip
    return out.getvalue()
