"""Read side of the admin checkouts pages: filters, search, keyset pages, tab counts, CSV rows, detail."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.auth.models import User
from portal.cart.models import Checkout
from portal.cart.status import ABANDONED, CheckoutStatus
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
    stream_rows,
)
from portal.orders.models import Order
from portal.payments.models import Payment

ABANDONED_TAB = "abandoned"  # expired or cancelled: the cart was frozen, the customer never paid
TABS = ["pending", "paid", "failed", ABANDONED_TAB, "refunded"]
STATUSES = [*TABS, *sorted(ABANDONED)]  # the tab, or one of its two statuses, in a shared URL
SORTS = {"created": Checkout.created_at, "amount": Checkout.amount}
CSV_HEADER = [
    "id",
    "number",
    "created_at",
    "status",
    "customer_email",
    "currency",
    "amount",
    "amount_minor",
    "gateway_order_id",
    "orders",
    "expires_at",
    "paid_at",
    "failure_reason",
]


def parse_checkout_args(args) -> ListArgs:
    """The checkouts list's query string: q, status (a tab), from/to (dates), min/max (rupees), sort, pages."""
    return parse_list_args(args, statuses=STATUSES, sorts=SORTS, default_sort="created")


def _status_clause(status: str):
    if status == ABANDONED_TAB:
        return Checkout.status.in_([str(s) for s in ABANDONED])
    return Checkout.status == status


def _search_clause(q: str):
    """A checkout number or gateway order id (exact, any case), or the customer's email (its prefix)."""
    text = q.strip()
    by_customer = Checkout.customer_id.in_(select(User.id).where(User.email.ilike(text.lower() + "%")))
    return or_(Checkout.number == text.upper(), Checkout.gateway_order_id == text, by_customer)


def filter_clauses(args: ListArgs, *, with_status: bool = True) -> list:
    """Every WHERE clause the filter asks for."""
    clauses = [*date_range_clauses(Checkout.created_at, args), *amount_range_clauses(Checkout.amount, args)]
    if with_status and args.status:
        clauses.append(_status_clause(args.status))
    if args.q:
        clauses.append(_search_clause(args.q))
    return clauses


def list_page(args: ListArgs):
    """One keyset page of checkouts with their customer and orders."""
    column = SORTS[args.sort]
    query = (
        select(Checkout)
        .where(*filter_clauses(args))
        .options(joinedload(Checkout.customer), selectinload(Checkout.orders).joinedload(Order.vendor))
    )
    key = lambda c: (getattr(c, column.key), c.id)  # noqa: E731
    return keyset_page(query, column, Checkout.id, args, key=key)


def tab_counts(args: ListArgs) -> dict:
    """Capped counts per tab; `abandoned` adds its two statuses' (each capped) counts."""
    where = filter_clauses(args, with_status=False)
    counts = capped_counts(Checkout, Checkout.status, [str(s) for s in CheckoutStatus], where)
    counts[ABANDONED_TAB] = sum(counts.get(str(s), 0) for s in ABANDONED)
    return counts


def csv_rows(args: ListArgs):
    """Every checkout the filter matches, streamed as CSV cells (its orders' numbers joined by spaces)."""
    column = SORTS[args.sort]
    order = (column.desc(), Checkout.id.desc()) if args.descending else (column.asc(), Checkout.id.asc())
    statement = (
        select(Checkout)
        .where(*filter_clauses(args))
        .order_by(*order)
        .options(joinedload(Checkout.customer), selectinload(Checkout.orders))
    )
    for (checkout,) in stream_rows(statement):
        numbers = " ".join(o.number for o in checkout.orders)
        yield (
            checkout.id,
            checkout.number,
            checkout.created_at,
            checkout.status,
            checkout.customer.email,
            checkout.currency,
            minor_to_decimal(checkout.amount),
            checkout.amount,
            checkout.gateway_order_id,
            numbers,
            checkout.expires_at,
            checkout.paid_at,
            checkout.failure_reason,
        )


def checkout_detail(checkout_id: int) -> Checkout | None:
    return db.session.scalar(
        select(Checkout)
        .where(Checkout.id == checkout_id)
        .options(
            joinedload(Checkout.customer),
            selectinload(Checkout.orders).joinedload(Order.vendor),
            selectinload(Checkout.reservations),
        )
    )


def checkout_payments(checkout: Checkout) -> list[Payment]:
    """The checkout's gateway payment(s): normally one; a retry after a failure adds another."""
    query = select(Payment).where(Payment.checkout_id == checkout.id).order_by(Payment.id)
    return list(db.session.scalars(query.options(selectinload(Payment.allocations))))


def checkout_history(checkout: Checkout, payments: list[Payment]) -> list:
    """The checkout's events with its payments' and orders', oldest first (one timeline)."""
    return history_of(checkout, *payments, *checkout.orders)


def priced_lines(checkout: Checkout) -> list[dict]:
    """The checkout's frozen lines (`Checkout.lines`) with each product's title and vendor's name added,
    for display: the snapshot is what was charged, the names only label it."""
    from portal.catalog.models import Product
    from portal.vendors.models import Vendor

    lines = [dict(line) for line in checkout.lines or []]
    products = _by_id(Product, {line.get("product_id") for line in lines})
    vendors = _by_id(Vendor, {line.get("vendor_id") for line in lines})
    for line in lines:
        for name in ("rental_start", "rental_end", "unit_price", "deposit", "line_total", "quantity"):
            line.setdefault(name, None)
        product = products.get(line.get("product_id"))
        vendor = vendors.get(line.get("vendor_id"))
        line.setdefault("title", product.title if product else f"product {line.get('product_id')}")
        line["vendor_name"] = vendor.name if vendor else "House"
        line["option_labels"] = [
            o.get("label", o.get("code")) if isinstance(o, dict) else o for o in line.get("options") or []
        ]
    return lines


def _by_id(model, ids: set) -> dict:
    ids = {i for i in ids if isinstance(i, int)}
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
