"""Read-only queries behind the customer API (always scoped to one customer).

Every order the API answers is read with exactly what the serializer reads, in a constant number of
statements whatever the page size (tests/api/test_statements.py counts them): the order(s) with their items
and invoices joined (both few per order), then one query for their payments and one for their refunds.
Columns the serializer never reads — the gateway's JSON payloads, the invoice's snapshots — are left out.

The list (`customer_orders`, the API's hot path) reads plain rows, not ORM objects: building a hundred
orders' worth of mapped objects cost four times the SQL's own time. One order (`customer_order`) is read as
ORM objects, since the endpoints that act on it hand it on; a test checks that both answer alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from sqlalchemy import Integer, Row, bindparam, func, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from portal.catalog.models import Product
from portal.extensions import db
from portal.invoices.models import Invoice
from portal.orders.models import Order, OrderItem, current_invoice
from portal.orders.services import OrderNotFound
from portal.payments.models import Payment, PaymentAllocation
from portal.payments.status import SETTLED
from portal.refunds.models import Refund
from portal.vendors.models import Vendor

# The columns of a payment and of a refund the serializer reads (with the key the list groups them by).
_PAYMENT_COLUMNS = (
    Payment.order_id, Payment.id, Payment.status, Payment.amount, Payment.currency, Payment.method,
    Payment.gateway_payment_id, Payment.created_at, Payment.captured_at,
)  # fmt: skip
_REFUND_COLUMNS = (
    Refund.order_id, Refund.id, Refund.status, Refund.amount, Refund.currency, Refund.reason, Refund.created_at,
    Refund.processed_at,
)  # fmt: skip

# One statement for the order(s) with items and invoices, one each for payments and refunds.
_SERIALIZED = (
    joinedload(Order.items),
    joinedload(Order.vendor).load_only(Vendor.id, Vendor.name),
    joinedload(Order.invoices).load_only(Invoice.status, Invoice.number),
    selectinload(Order.payments).load_only(*_PAYMENT_COLUMNS),
    selectinload(Order.refunds).load_only(*_REFUND_COLUMNS),
)


class _VendorRow(NamedTuple):
    id: int
    name: str


class _InvoiceRow(NamedTuple):
    status: str
    number: str | None


# The count of all the customer's orders rides on the page query (its label must not clash with Order.total).
_TOTAL = func.count().over().label("orders_in_all_pages")


def available_products() -> list[Product]:
    query = select(Product).where(Product.active.is_(True)).order_by(Product.kind, Product.title, Product.id)
    return [p for p in db.session.scalars(query) if p.stock is None or p.stock > 0]


def customer_order(customer_id: int, order_id: int) -> Order:
    """The customer's order; OrderNotFound for an unknown id *and* for someone else's order."""
    params = {"order_id": order_id, "customer_id": customer_id}
    order = db.session.scalars(_STATEMENTS.detail, params).unique().one_or_none()
    if order is None:
        raise OrderNotFound(order_id)
    return order


def require_own_order(customer_id: int, order_id: int) -> int:
    """The order id when the order is the customer's (one indexed read); OrderNotFound otherwise.

    For the endpoints that act on an order and answer it afresh afterwards: no need to load it twice."""
    found = db.session.scalar(select(Order.id).where(Order.id == order_id, Order.customer_id == customer_id))
    if found is None:
        raise OrderNotFound(order_id)
    return found


def customer_order_by_gateway_id(customer_id: int, gateway_order_id: str) -> Order:
    order = db.session.scalar(
        select(Order).where(Order.gateway_order_id == gateway_order_id, Order.customer_id == customer_id)
    )
    if order is None:
        raise OrderNotFound(gateway_order_id)
    return order


@dataclass
class OrderRows:
    """One order of a list page as plain rows: its own columns, then its children oldest first."""

    order: Row
    items: list[Row] = field(default_factory=list)
    invoices: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    refunds: list[Row] = field(default_factory=list)

    @property
    def invoice(self) -> Row | None:
        return current_invoice(self.invoices)

    @property
    def vendor(self) -> _VendorRow | None:
        return _VendorRow(self.order.vendor_id, self.order.vendor_name) if self.order.vendor_id else None


# Named as the serializer reads them (children's columns that clash with the order's are prefixed).
_ORDER_COLUMNS = tuple(
    getattr(Order, name)
    for name in (
        "id", "number", "status", "total", "currency", "subtotal", "discount", "tax", "created_at", "expires_at",
        "paid_at", "gateway_order_id", "payment_link_url", "needs_refund", "fulfilment_status", "carrier",
        "tracking_number", "vendor_id",
    )
)  # fmt: skip
_ITEM_COLUMNS = (
    OrderItem.id.label("item_id"),
    OrderItem.product_id,
    OrderItem.sku,
    OrderItem.title,
    OrderItem.kind,
    OrderItem.unit_price,
    OrderItem.quantity,
    OrderItem.tax_rate_bp,
    OrderItem.taxable_amount,
    OrderItem.tax_amount,
    OrderItem.line_total.label("line_total"),
    OrderItem.line_type,
    OrderItem.rental_start,
    OrderItem.rental_end,
    OrderItem.returned_quantity,
)
_INVOICE_COLUMNS = (
    Invoice.id.label("invoice_id"),
    Invoice.status.label("invoice_status"),
    Invoice.number.label("invoice_number"),
)


def customer_orders(customer_id: int, page: int, per_page: int) -> tuple[list[OrderRows], int]:
    """One page of the customer's orders, newest first, and the total count: three statements."""
    params = {"customer_id": customer_id, "offset": (page - 1) * per_page, "limit": per_page}
    rows = db.session.execute(_STATEMENTS.page, params).all()
    if not rows:
        # Past the last page the window has no row to ride on: count on its own (rare, still one statement).
        return [], db.session.scalar(_STATEMENTS.count, {"customer_id": customer_id}) or 0
    orders = _group(rows)
    _attach(orders, "payments", _STATEMENTS.payments)
    _attach(orders, "refunds", _STATEMENTS.refunds)
    return list(orders.values()), rows[0].orders_in_all_pages


class _Statements:
    """The detail's statement and the list's four, built once per process with bound parameters, not once per request.

    Building them cost about as much CPU as executing them from SQLAlchemy's compiled cache (the
    subquery's column collection, the joins, the operators); their values are passed at execution."""

    @cached_property
    def detail(self):
        owned = (Order.id == bindparam("order_id")) & (Order.customer_id == bindparam("customer_id"))
        return select(Order).where(owned).options(*_SERIALIZED)

    @cached_property
    def page(self):
        one_page = (
            select(*_ORDER_COLUMNS, Vendor.name.label("vendor_name"), _TOTAL)
            .outerjoin(Vendor, Vendor.id == Order.vendor_id)
            .where(Order.customer_id == bindparam("customer_id"))
            .order_by(Order.created_at.desc(), Order.id.desc())
            .offset(bindparam("offset", type_=Integer))
            .limit(bindparam("limit", type_=Integer))
            .subquery("page")
        )
        return (
            select(one_page, *_ITEM_COLUMNS, *_INVOICE_COLUMNS)
            .outerjoin(OrderItem, OrderItem.order_id == one_page.c.id)
            .outerjoin(Invoice, Invoice.order_id == one_page.c.id)
            .order_by(one_page.c.created_at.desc(), one_page.c.id.desc(), OrderItem.id, Invoice.id)
        )

    @cached_property
    def count(self):
        return select(func.count(Order.id)).where(Order.customer_id == bindparam("customer_id"))

    @cached_property
    def payments(self):
        # Through the allocations: a checkout's one payment shows on every vendor order it paid.
        ids = bindparam("order_ids", expanding=True)
        columns = (PaymentAllocation.order_id.label("order_id"), *_PAYMENT_COLUMNS[1:])
        return (
            select(*columns)
            .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
            .where(PaymentAllocation.order_id.in_(ids))
            .order_by(Payment.id)
        )

    @cached_property
    def refunds(self):
        ids = bindparam("order_ids", expanding=True)
        return select(*_REFUND_COLUMNS).where(Refund.order_id.in_(ids)).order_by(Refund.id)


_STATEMENTS = _Statements()


def _group(rows) -> dict[int, OrderRows]:
    """The joined rows (one per item × invoice) folded back into orders, in page order."""
    orders: dict[int, OrderRows] = {}
    seen: set[tuple[str, int]] = set()
    for row in rows:
        order = orders.get(row.id) or orders.setdefault(row.id, OrderRows(row))
        if row.item_id is not None and ("item", row.item_id) not in seen:
            seen.add(("item", row.item_id))
            order.items.append(row)
        if row.invoice_id is not None and ("invoice", row.invoice_id) not in seen:
            seen.add(("invoice", row.invoice_id))
            order.invoices.append(_InvoiceRow(row.invoice_status, row.invoice_number))
    return orders


def _attach(orders: dict[int, OrderRows], children: str, query) -> None:
    for row in db.session.execute(query, {"order_ids": list(orders)}):
        getattr(orders[row.order_id], children).append(row)


def _spent(customer_id: int) -> list[tuple[str, int]]:
    """Captured − refunded per currency, by each order's share of its payments (a checkout's payment is split
    across its vendor orders by allocation rows): one statement."""
    paid = (
        select(PaymentAllocation.currency.label("currency"), PaymentAllocation.amount.label("amount"))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .join(Order, Order.id == PaymentAllocation.order_id)
        .where(Order.customer_id == customer_id, Payment.status.in_([str(s) for s in SETTLED]))
    )
    refunded = (
        select(Refund.currency.label("currency"), (-Refund.amount).label("amount"))
        .join(Order, Order.id == Refund.order_id)
        .where(Order.customer_id == customer_id, Refund.status == "processed")
    )
    both = union_all(paid, refunded).subquery("money")
    rows = db.session.execute(
        select(both.c.currency, func.sum(both.c.amount)).group_by(both.c.currency).order_by(both.c.currency)
    ).all()
    return [(currency, int(amount)) for currency, amount in rows]


def customer_statistics(customer_id: int) -> dict:
    """Counts and totals by status and currency, and what was spent (captured − refunded)."""
    rows = db.session.execute(
        select(Order.status, Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.customer_id == customer_id)
        .group_by(Order.status, Order.currency)
        .order_by(Order.status, Order.currency)
    ).all()
    spent = _spent(customer_id)
    return {
        "orders": sum(row[2] for row in rows),
        "by_status": [
            {"status": str(status), "currency": cur, "count": n, "amount": int(amount)}
            for status, cur, n, amount in rows
        ],
        "spent": [{"currency": cur, "amount": int(amount)} for cur, amount in spent],
    }
