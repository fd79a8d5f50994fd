"""Read-only queries behind the customer API (always scoped to one customer).

Every order the API answers is loaded with exactly what `serializers.order` reads, in a constant number of
statements whatever the page size (tests/api/test_statements.py counts them): the page itself with its
items and invoices joined (both few per order) and the total count as a window column, then one query for
the page's payments and one for its refunds. Columns the serializer never reads — the gateway's JSON
payloads, the invoice's snapshots — are left out.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from portal.catalog.models import Product
from portal.extensions import db
from portal.invoices.models import Invoice
from portal.orders.models import Order
from portal.orders.services import OrderNotFound
from portal.payments.models import Payment
from portal.payments.status import SETTLED
from portal.refunds.models import Refund

# One statement for the order(s) with items and invoices, one each for payments and refunds.
_SERIALIZED = (
    joinedload(Order.items),
    joinedload(Order.invoices).load_only(Invoice.status, Invoice.number),
    selectinload(Order.payments).load_only(
        Payment.status,
        Payment.amount,
        Payment.currency,
        Payment.method,
        Payment.gateway_payment_id,
        Payment.created_at,
        Payment.captured_at,
    ),
    selectinload(Order.refunds).load_only(
        Refund.status, Refund.amount, Refund.currency, Refund.reason, Refund.created_at, Refund.processed_at
    ),
)
# The count of all the customer's orders rides on the page query (its label must not clash with Order.total).
_TOTAL = func.count().over().label("orders_in_all_pages")


def available_products() -> list[Product]:
    query = select(Product).where(Product.active.is_(True)).order_by(Product.kind, Product.title, Product.id)
    return [p for p in db.session.scalars(query) if p.stock is None or p.stock > 0]


def customer_order(customer_id: int, order_id: int) -> Order:
    """The customer's order; OrderNotFound for an unknown id *and* for someone else's order."""
    query = select(Order).where(Order.id == order_id, Order.customer_id == customer_id).options(*_SERIALIZED)
    order = db.session.scalars(query).unique().one_or_none()
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


def customer_orders(customer_id: int, page: int, per_page: int) -> tuple[list[Order], int]:
    """One page of the customer's orders, newest first, and the total count."""
    query = (
        select(Order, _TOTAL)
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(*_SERIALIZED, lazyload(Order.customer))  # a list never reads the customer (it is the caller)
    )
    rows = db.session.execute(query).unique().all()
    if rows:
        return [order for order, _total in rows], rows[0][1]
    # Past the last page the window has no row to ride on: count on its own (rare, and still one statement).
    total = db.session.scalar(select(func.count(Order.id)).where(Order.customer_id == customer_id)) or 0
    return [], total


def customer_statistics(customer_id: int) -> dict:
    """Counts and totals by status and currency, and what was spent (captured − refunded)."""
    rows = db.session.execute(
        select(Order.status, Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.customer_id == customer_id)
        .group_by(Order.status, Order.currency)
        .order_by(Order.status, Order.currency)
    ).all()
    spent = db.session.execute(
        select(Payment.currency, func.coalesce(func.sum(Payment.amount - Payment.amount_refunded), 0))
        .join(Order, Payment.order_id == Order.id)
        .where(Order.customer_id == customer_id, Payment.status.in_([str(s) for s in SETTLED]))
        .group_by(Payment.currency)
        .order_by(Payment.currency)
    ).all()
    return {
        "orders": sum(row[2] for row in rows),
        "by_status": [
            {"status": str(status), "currency": cur, "count": n, "amount": int(amount)}
            for status, cur, n, amount in rows
        ],
        "spent": [{"currency": cur, "amount": int(amount)} for cur, amount in spent],
    }
