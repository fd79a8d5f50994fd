"""Read side of the admin orders pages: filters, search, keyset pages, tab counts, CSV rows, detail."""

from __future__ import annotations

import re

from sqlalchemy import false, func, or_, select, true, union
from sqlalchemy.orm import selectinload

from portal.catalog.models import Product
from portal.extensions import db
from portal.history.services import history_of
from portal.inputs import db_int
from portal.listing import (
    ListArgs,
    amount_range_clauses,
    capped_counts,
    date_range_clauses,
    keyset_page,
    minor_to_decimal,
    parse_id,
    parse_list_args,
    stream_rows,
)
from portal.orders.models import Order, OrderItem
from portal.orders.status import FulfilmentStatus, OrderStatus
from portal.payments.models import Payment
from portal.search import Term, any_of, classify, id_or_amount, starts_with

STATUSES = [s.value for s in OrderStatus]
FULFILMENT_STATUSES = [s.value for s in FulfilmentStatus]
SORTS = {"created": Order.created_at, "total": Order.total, "number": Order.number}
SORT_LABELS = {"created": "Date", "total": "Total", "number": "Order"}
GSTIN = re.compile(r"^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")

CSV_HEADER = [
    "number",
    "created_at",
    "status",
    "fulfilment_status",
    "customer_email",
    "customer_name",
    "currency",
    "subtotal",
    "tax",
    "total",
    "total_minor",
    "gateway_order_id",
    "paid_at",
]


def parse_order_args(args) -> ListArgs:
    """The orders list's query string: the common filters plus fulfilment, customer and product."""
    parsed = parse_list_args(args, statuses=STATUSES, sorts=SORTS, default_sort="created")
    fulfilment = args.get("fulfilment", "").strip()
    if fulfilment and fulfilment not in FULFILMENT_STATUSES:
        parsed.errors["fulfilment"] = "Unknown fulfilment status."
        fulfilment = ""
    parsed.extra = {
        "fulfilment": fulfilment,
        "customer": args.get("customer", "").strip()[:255],
        "product": parse_id(args.get("product", ""), "product", parsed.errors, "Unknown product."),
    }
    return parsed


def _name_or_email_starts(text: str):
    """The start of the customer's name (any case) or email: prefix matches, which an index serves (%x% cannot)."""
    clauses = [
        starts_with(func.lower(Order.billing_name), text),
        starts_with(Order.billing_email, text),
    ]
    if GSTIN.match(text.upper()):
        clauses.append(Order.billing_gstin == text.upper())
    return or_(*clauses)


def _document_orders(numbers: list[str]):
    """Orders whose invoice or credit note has one of these numbers (both unique indexes)."""
    from portal.invoices.models import CreditNote, Invoice

    by_invoice = select(Invoice.order_id).where(Invoice.number.in_(numbers))
    by_note = select(Invoice.order_id).join(CreditNote, CreditNote.invoice_id == Invoice.id)
    return union(by_invoice, by_note.where(CreditNote.number.in_(numbers)))


def _gateway_clause(text: str):
    from portal.refunds.models import Refund

    if text.startswith("pay_"):
        return Order.id.in_(select(Payment.order_id).where(Payment.gateway_payment_id == text))
    if text.startswith("rfnd_"):
        return Order.id.in_(select(Refund.order_id).where(Refund.gateway_refund_id == text))
    if text.startswith("plink_"):
        return Order.payment_link_id == text
    return Order.gateway_order_id == text


def order_condition(term: Term):
    """What a search Term says about the order (for this list, and for the lists that join orders), or None
    when it is about a row of another table only (a row id, an amount)."""
    if term.kind == "gateway":
        return _gateway_clause(term.text)
    if term.kind == "order_number":
        return Order.number == term.text
    if term.kind == "document_number":
        return Order.id.in_(_document_orders(term.document_numbers))
    if term.kind == "email":
        return Order.billing_email == term.text
    if term.kind == "text":
        clause = _name_or_email_starts(term.text)
        return or_(clause, Order.number == term.bare_order_number) if term.bare_order_number else clause
    return None


def search_clause(q: str):
    """What the search box finds, by the shape of what was typed (see portal.search); each shape has its index."""
    term = classify(q)
    if term is None:
        return true()
    if term.kind == "number":
        return id_or_amount(term, Order.id, Order.total)
    if term.kind == "amount":
        return Order.total == term.amount
    condition = order_condition(term)
    return false() if condition is None else condition


def belonging_search_clause(q: str, *, id_column, amount_column, order_column, own_condition):
    """The search of a list whose rows belong to an order (payments, refunds): an id or amount, the row's own
    identifiers (`own_condition(term)`), else the order's. A gateway id (pay_/rfnd_) names these rows, not the
    order's others. Own-row and order matches are one `id IN (… UNION …)` so each side uses its index, rather
    than an OR across the join."""
    term = classify(q)
    if term is None:
        return true()
    if term.kind == "number":
        return id_or_amount(term, id_column, amount_column)
    if term.kind == "amount":
        return amount_column == term.amount
    own = own_condition(term)
    if own is not None and term.kind == "gateway":
        return own
    on_order = order_condition(term)
    return any_of(id_column, own, None if on_order is None else order_column.in_(select(Order.id).where(on_order)))


def customer_clause(customer: str):
    from portal.auth.models import User

    if customer.isdigit():
        return Order.customer_id == (db_int(customer) or 0)  # an id past the column's range matches nothing
    return Order.customer_id.in_(select(User.id).where(User.email == customer.lower()))


def filter_clauses(args: ListArgs, *, with_status: bool = True) -> list:
    """Every WHERE clause the filter asks for (the status tab optional, for the tab counts)."""
    clauses = [*date_range_clauses(Order.created_at, args), *amount_range_clauses(Order.total, args)]
    if with_status and args.status:
        clauses.append(Order.status == args.status)
    if args.extra.get("fulfilment"):
        clauses.append(Order.fulfilment_status == args.extra["fulfilment"])
    if args.extra.get("customer"):
        clauses.append(customer_clause(args.extra["customer"]))
    if args.extra.get("product"):
        clauses.append(Order.id.in_(select(OrderItem.order_id).where(OrderItem.product_id == args.extra["product"])))
    if args.extra.get("ids"):
        clauses.append(Order.id.in_(args.extra["ids"]))
    if args.q:
        clauses.append(search_clause(args.q))
    return clauses


def list_page(args: ListArgs):
    """One keyset page of orders (customer joined in the same statement)."""
    column = SORTS[args.sort]
    query = select(Order).where(*filter_clauses(args))
    return keyset_page(query, column, Order.id, args, key=lambda o: (getattr(o, column.key), o.id))


def tab_counts(args: ListArgs) -> dict:
    """Capped counts per status tab under the current filter (one statement)."""
    return capped_counts(Order, Order.status, STATUSES, filter_clauses(args, with_status=False))


def product_choices() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Product.id, Product.title).order_by(Product.title)).tuples())


def csv_rows(args: ListArgs):
    """Every order the filter matches, newest first, as CSV cells (streamed, never all in memory)."""
    column = SORTS[args.sort]
    order = (column.desc(), Order.id.desc()) if args.descending else (column.asc(), Order.id.asc())
    statement = (
        select(
            Order.number,
            Order.created_at,
            Order.status,
            Order.fulfilment_status,
            Order.billing_email,
            Order.billing_name,
            Order.currency,
            Order.subtotal,
            Order.tax,
            Order.total,
            Order.gateway_order_id,
            Order.paid_at,
        )
        .where(*filter_clauses(args))
        .order_by(*order)
    )
    for row in stream_rows(statement):
        yield (
            *row[:7],
            minor_to_decimal(row.subtotal),
            minor_to_decimal(row.tax),
            minor_to_decimal(row.total),
            row.total,
            row.gateway_order_id,
            row.paid_at,
        )


def ids_matching(args: ListArgs, *, status: str | None = None, without_invoice: bool = False, limit: int):
    """Ids of orders the filter matches (optionally only in `status`, or only without an invoice), ≤ `limit`."""
    from portal.invoices.models import Invoice

    clauses = filter_clauses(args)
    if status:
        clauses.append(Order.status == status)
    if without_invoice:
        clauses.append(~select(Invoice.id).where(Invoice.order_id == Order.id).exists())
    return list(db.session.scalars(select(Order.id).where(*clauses).order_by(Order.id).limit(limit)))


def order_detail(order_id: int) -> Order | None:
    """The order with everything its page shows, loaded in a fixed number of statements."""
    return db.session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .options(
            selectinload(Order.items),
            selectinload(Order.payments).selectinload(Payment.disputes),
            selectinload(Order.refunds),
            selectinload(Order.invoices),
        )
    )


def timeline(order: Order) -> list:
    """History of the order, its payments, refunds and invoice, oldest first."""
    return history_of(order, *order.payments, *order.refunds, *order.invoices)
