"""Read side of the admin refunds pages: filters, search, keyset pages, tab counts, CSV rows, detail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

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
from portal.payments.models import Payment
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus
from portal.vendors.scope import vendor_clause

STATUSES = [s.value for s in RefundStatus]
SORTS = {"created": Refund.created_at, "amount": Refund.amount}
SORT_LABELS = {"created": "Date", "amount": "Amount"}
CSV_HEADER = [
    "id",
    "created_at",
    "status",
    "gateway_refund_id",
    "gateway_payment_id",
    "order_number",
    "currency",
    "amount",
    "amount_minor",
    "reason",
    "processed_at",
    "failure_reason",
]


def parse_refund_args(args) -> ListArgs:
    """The refunds list's query string: q, status, from/to (dates), min/max (rupees), sort, pages."""
    return parse_list_args(args, statuses=STATUSES, sorts=SORTS, default_sort="created")


def search_arms(q: str) -> list | None:
    """What the search box finds (portal.search): refund, payment and order ids, order, invoice and
    credit-note numbers, the customer's name or email, an amount."""
    return search.arms(q, "refunds")


def filter_clauses(args: ListArgs, *, with_status: bool = True, with_search: bool = True) -> list:
    """Every WHERE clause the filter asks for; the search as one condition unless `with_search` is False
    (keyset pages and tab counts take its arms apart)."""
    clauses = [*date_range_clauses(Refund.created_at, args), *amount_range_clauses(Refund.amount, args)]
    if (own := vendor_clause(Refund.order_id)) is not None:  # a vendor's staff: refunds of its own orders only
        clauses.append(own)
    if with_status and args.status:
        clauses.append(Refund.status == args.status)
    if with_search and args.q and (found := search.clause(args.q, "refunds")) is not None:
        clauses.append(found)
    return clauses


def _searched(args: ListArgs):
    """The search of this request, probed once for the page and the tab counts (listing.searched)."""
    where = filter_clauses(args, with_status=False, with_search=False)
    return searched(args, Refund, Refund.status, where, "refunds")


def list_page(args: ListArgs):
    """One keyset page of refunds with their payment and order."""
    column = SORTS[args.sort]
    query = (
        select(Refund)
        .where(*filter_clauses(args, with_search=False))
        .options(joinedload(Refund.payment), joinedload(Refund.order), joinedload(Refund.initiated_by))
    )
    key = lambda r: (getattr(r, column.key), r.id)  # noqa: E731
    return keyset_page(query, column, Refund.id, args, key=key, search=_searched(args))


def tab_counts(args: ListArgs) -> dict:
    where = filter_clauses(args, with_status=False, with_search=False)
    return capped_counts(Refund, Refund.status, STATUSES, where, search=_searched(args), current=args.status)


def csv_rows(args: ListArgs):
    """Every refund the filter matches, streamed as CSV cells."""
    column = SORTS[args.sort]
    order = (column.desc(), Refund.id.desc()) if args.descending else (column.asc(), Refund.id.asc())
    statement = (
        select(
            Refund.id,
            Refund.created_at,
            Refund.status,
            Refund.gateway_refund_id,
            Payment.gateway_payment_id,
            Order.number,
            Refund.currency,
            Refund.amount,
            Refund.reason,
            Refund.processed_at,
            Refund.failure_reason,
        )
        .join(Payment, Payment.id == Refund.payment_id)
        .outerjoin(Order, Order.id == Refund.order_id)  # a checkout's full refund has no order
        .where(*filter_clauses(args))
        .order_by(*order)
    )
    for row in stream_rows(statement):
        yield (*row[:7], minor_to_decimal(row.amount), row.amount, row.reason, row.processed_at, row.failure_reason)


def refund_detail(refund_id: int) -> Refund | None:
    """The refund with its page's relations (a vendor's staff reach it only through routes.guard_objects)."""
    return db.session.scalar(
        select(Refund)
        .where(Refund.id == refund_id)
        .options(
            joinedload(Refund.payment),
            joinedload(Refund.order),
            joinedload(Refund.checkout),
            joinedload(Refund.initiated_by),
        )
    )


def refund_history(refund: Refund) -> list:
    return history_of(refund)
