"""Read side of the admin orders pages: filters, search, keyset pages, tab counts, CSV rows, detail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import search
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
    searched,
    stream_rows,
)
from portal.orders.models import Order, OrderItem
from portal.orders.status import FulfilmentStatus, OrderStatus
from portal.payments.models import Payment
from portal.vendors.models import Vendor
from portal.vendors.scope import current_vendor_id, scope_orders, vendor_clause

STATUSES = [s.value for s in OrderStatus]
FULFILMENT_STATUSES = [s.value for s in FulfilmentStatus]
SORTS = {"created": Order.created_at, "total": Order.total, "number": Order.number}
SORT_LABELS = {"created": "Date", "total": "Total", "number": "Order"}

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
        "vendor": parse_id(args.get("vendor", ""), "vendor", parsed.errors, "Unknown vendor."),
    }
    return parsed


def search_clause(q: str):
    """What the search box finds, by the shape of what was typed (portal.search, the one search of every list)."""
    return search.clause(q, "orders")


def customer_clause(customer: str):
    from portal.auth.models import User

    if customer.isdigit():
        return Order.customer_id == (db_int(customer) or 0)  # an id past the column's range matches nothing
    return Order.customer_id.in_(select(User.id).where(User.email == customer.lower()))


def filter_clauses(args: ListArgs, *, with_status: bool = True, with_search: bool = True) -> list:
    """Every WHERE clause the filter asks for (the status tab and the search optional, for the tab counts)."""
    clauses = [*date_range_clauses(Order.created_at, args), *amount_range_clauses(Order.total, args)]
    if (own := vendor_clause()) is not None:  # a vendor's staff: its own orders, whatever else is asked
        clauses.append(own)
    if with_status and args.status:
        clauses.append(Order.status == args.status)
    if args.extra.get("vendor"):
        clauses.append(Order.vendor_id == args.extra["vendor"])
    if args.extra.get("fulfilment"):
        clauses.append(Order.fulfilment_status == args.extra["fulfilment"])
    if args.extra.get("customer"):
        clauses.append(customer_clause(args.extra["customer"]))
    if args.extra.get("product"):
        clauses.append(Order.id.in_(select(OrderItem.order_id).where(OrderItem.product_id == args.extra["product"])))
    if args.extra.get("ids"):
        clauses.append(Order.id.in_(args.extra["ids"]))
    if with_search and args.q and (found := search_clause(args.q)) is not None:
        clauses.append(found)
    return clauses


def _searched(args: ListArgs):
    """The search of this request, probed once for the page and the tab counts (listing.searched)."""
    where = filter_clauses(args, with_status=False, with_search=False)
    return searched(args, Order, Order.status, where, "orders")


def list_page(args: ListArgs):
    """One keyset page of orders (customer joined in the same statement)."""
    column = SORTS[args.sort]
    query = select(Order).where(*filter_clauses(args, with_search=False))
    key = lambda o: (getattr(o, column.key), o.id)  # noqa: E731
    return keyset_page(query, column, Order.id, args, key=key, search=_searched(args))


def tab_counts(args: ListArgs) -> dict:
    """Capped counts per status tab under the current filter (one statement)."""
    where = filter_clauses(args, with_status=False, with_search=False)
    return capped_counts(Order, Order.status, STATUSES, where, search=_searched(args), current=args.status)


def product_choices() -> list[tuple[int, str]]:
    """Products for the filter: a vendor's staff see only their vendor's."""
    query = select(Product.id, Product.title).order_by(Product.title)
    if (vendor_id := current_vendor_id()) is not None:
        query = query.where(Product.vendor_id == vendor_id)
    return list(db.session.execute(query).tuples())


def vendor_choices() -> list[tuple[int, str]]:
    """Vendors for the filter (none for a vendor's staff: they see their own orders only)."""
    if current_vendor_id() is not None:
        return []
    return list(db.session.execute(select(Vendor.id, Vendor.name).order_by(Vendor.name)).tuples())


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
    query = scope_orders(select(Order).where(Order.id == order_id))  # another vendor's: None, so 404
    return db.session.scalar(
        query.options(
            selectinload(Order.items),
            selectinload(Order.payments).selectinload(Payment.disputes),
            selectinload(Order.refunds),
            selectinload(Order.invoices),
        )
    )


def timeline(order: Order) -> list:
    """History of the order, its payments, refunds and invoice, oldest first."""
    return history_of(order, *order.payments, *order.refunds, *order.invoices)
