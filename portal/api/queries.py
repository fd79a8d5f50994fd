"""Read-only queries behind the customer API (always scoped to one customer)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.catalog.models import Product
from portal.extensions import db
from portal.orders.models import Order
from portal.orders.services import OrderNotFound
from portal.payments.models import Payment
from portal.payments.status import SETTLED

_DETAIL = (selectinload(Order.items), selectinload(Order.payments), selectinload(Order.refunds))


def available_products() -> list[Product]:
    query = select(Product).where(Product.active.is_(True)).order_by(Product.kind, Product.title, Product.id)
    return [p for p in db.session.scalars(query) if p.stock is None or p.stock > 0]


def customer_order(customer, order_id: int) -> Order:
    """The customer's order; OrderNotFound for an unknown id *and* for someone else's order."""
    order = db.session.scalar(
        select(Order).where(Order.id == order_id, Order.customer_id == customer.id).options(*_DETAIL)
    )
    if order is None:
        raise OrderNotFound(order_id)
    return order


def customer_order_by_gateway_id(customer, gateway_order_id: str) -> Order:
    order = db.session.scalar(
        select(Order).where(Order.gateway_order_id == gateway_order_id, Order.customer_id == customer.id)
    )
    if order is None:
        raise OrderNotFound(gateway_order_id)
    return order


def customer_orders(customer, page: int, per_page: int) -> tuple[list[Order], int]:
    """One page of the customer's orders, newest first, and the total count."""
    total = db.session.scalar(select(func.count(Order.id)).where(Order.customer_id == customer.id)) or 0
    query = (
        select(Order)
        .where(Order.customer_id == customer.id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .options(*_DETAIL)
    )
    return list(db.session.scalars(query)), total


def customer_statistics(customer) -> dict:
    """Counts and totals by status and currency, and what was spent (captured − refunded)."""
    rows = db.session.execute(
        select(Order.status, Order.currency, func.count(Order.id), func.coalesce(func.sum(Order.total), 0))
        .where(Order.customer_id == customer.id)
        .group_by(Order.status, Order.currency)
        .order_by(Order.status, Order.currency)
    ).all()
    spent = db.session.execute(
        select(Payment.currency, func.coalesce(func.sum(Payment.amount - Payment.amount_refunded), 0))
        .join(Order, Payment.order_id == Order.id)
        .where(Order.customer_id == customer.id, Payment.status.in_([str(s) for s in SETTLED]))
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
