"""Read side of the admin payments pages: filters, search, keyset pages, tab counts, CSV rows, detail."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal import search
from portal.extensions import db
from portal.history.services import history_of
from portal.listing import (
    ListArgs,
    amount_range_clauses,
    capped_counts,
    date_range_clauses,
    keyset_page,
    minor_to_decimal,
    parse_list_args,
    searched,
    stream_rows,
)
from portal.orders.models import Order
from portal.payments.models import Payment, PaymentAllocation
from portal.payments.status import PaymentStatus
from portal.vendors import scope

STATUSES = [s.value for s in PaymentStatus]
METHODS = ["card", "upi", "netbanking", "wallet", "emi", "paylater", "bank_transfer"]
SORTS = {"created": Payment.created_at, "amount": Payment.amount}
CSV_HEADER = [
    "payment_id",
    "order_number",
    "gateway_order_id",
    "created_at",
    "status",
    "method",
    "email",
    "currency",
    "amount",
    "amount_minor",
    "amount_refunded",
    "fee",
    "error_code",
    "error_description",
    "captured_at",
]


def parse_payment_args(args) -> ListArgs:
    """The payments list's query string: the common filters plus the payment method."""
    parsed = parse_list_args(args, statuses=STATUSES, sorts=SORTS, default_sort="created")
    method = args.get("method", "").strip()
    if method and not re.fullmatch(r"[a-z_]{1,30}", method):
        parsed.errors["method"] = "Unknown method."
        method = ""
    parsed.extra = {"method": method}
    return parsed


def search_arms(q: str) -> list | None:
    """What the search box finds (portal.search): payment and order ids, order and invoice numbers, the
    customer's name or email, an amount. Several arms when both the payment's own email and its order's
    customer may match: the list reads each through its own index (listing.keyset_page)."""
    return search.arms(q, "payments")


def filter_clauses(args: ListArgs, *, with_status: bool = True, with_search: bool = True) -> list:
    """Every WHERE clause the filter asks for; the search as one condition unless `with_search` is False
    (keyset pages and tab counts take its arms apart)."""
    clauses = [*date_range_clauses(Payment.created_at, args), *amount_range_clauses(Payment.amount, args)]
    if (own := vendor_clause(Payment.id)) is not None:  # a vendor's staff: payments of its own orders only
        clauses.append(own)
    if with_status and args.status:
        clauses.append(Payment.status == args.status)
    if args.extra.get("method"):
        clauses.append(Payment.method == args.extra["method"])
    if with_search and args.q and (found := search.clause(args.q, "payments")) is not None:
        clauses.append(found)
    return clauses


def _searched(args: ListArgs):
    """The search of this request, probed once for the page and the tab counts (listing.searched)."""
    where = filter_clauses(args, with_status=False, with_search=False)
    return searched(args, Payment, Payment.status, where, "payments")


def list_page(args: ListArgs):
    """One keyset page of payments with their orders (and customers) joined: one statement. A checkout's
    payment has no order of its own (it pays one per vendor): its checkout is joined instead."""
    column = SORTS[args.sort]
    query = select(Payment).options(joinedload(Payment.order), joinedload(Payment.checkout))
    query = query.where(*filter_clauses(args, with_search=False))
    key = lambda p: (getattr(p, column.key), p.id)  # noqa: E731
    return keyset_page(query, column, Payment.id, args, key=key, search=_searched(args))


def tab_counts(args: ListArgs) -> dict:
    where = filter_clauses(args, with_status=False, with_search=False)
    return capped_counts(Payment, Payment.status, STATUSES, where, search=_searched(args), current=args.status)


def csv_rows(args: ListArgs):
    """Every payment the filter matches, as CSV cells, streamed from a server-side cursor."""
    column = SORTS[args.sort]
    order = (column.desc(), Payment.id.desc()) if args.descending else (column.asc(), Payment.id.asc())
    statement = (
        select(
            Payment.gateway_payment_id,
            Order.number,
            Order.gateway_order_id,
            Payment.created_at,
            Payment.status,
            Payment.method,
            Payment.email,
            Payment.currency,
            Payment.amount,
            Payment.amount_refunded,
            Payment.fee,
            Payment.error_code,
            Payment.error_description,
            Payment.captured_at,
        )
        .outerjoin(Order, Order.id == Payment.order_id)  # a checkout's payment has none of its own
        .where(*filter_clauses(args))
        .order_by(*order)
    )
    for row in stream_rows(statement):
        yield (
            *row[:8],
            minor_to_decimal(row.amount),
            row.amount,
            minor_to_decimal(row.amount_refunded),
            minor_to_decimal(row.fee),
            row.error_code,
            row.error_description,
            row.captured_at,
        )


def payment_order_ids(payment_id: int):
    """SELECT of the orders a payment paid: its own order and every order of its allocations (a checkout's)."""
    own = select(Payment.order_id).where(Payment.id == payment_id, Payment.order_id.is_not(None))
    return own.union(select(PaymentAllocation.order_id).where(PaymentAllocation.payment_id == payment_id))


def vendor_clause(payment_id_column):
    """For a vendor's staff: the payment paid (part of) one of its vendor's orders; None for everyone else."""
    if (order_clause := scope.vendor_clause(Payment.order_id)) is None:
        return None
    allocated = select(PaymentAllocation.payment_id).where(scope.vendor_clause(PaymentAllocation.order_id))
    return payment_id_column.in_(select(Payment.id).where(order_clause).union(allocated))


def payment_detail(payment_id: int) -> Payment | None:
    """The payment with its page's relations (a vendor's staff reach it only through routes.guard_objects)."""
    return db.session.scalar(
        select(Payment)
        .where(Payment.id == payment_id)
        .options(
            joinedload(Payment.order),
            joinedload(Payment.checkout),  # a checkout's payment: its allocations load only for it (the page)
            selectinload(Payment.refunds),
            selectinload(Payment.disputes),
        )
    )


def timeline(payment: Payment) -> list:
    return history_of(payment, *payment.refunds)
