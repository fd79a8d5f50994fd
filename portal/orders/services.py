"""Orders: placing, cancelling and moving them through their state machines (checkout is in checkout.py).

Every function here owns its transaction: it commits on success and rolls back on failure.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal.dbutil import for_update
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.orders.models import Order, OrderItem
from portal.orders.pricing import Quote, quote
from portal.orders.status import FULFILMENT, ORDER, FulfilmentStatus, OrderStatus
from portal.statemachine import IllegalTransition, transition
from portal.timeutil import utcnow

NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I confusion


class OrderNotFound(LookupError):
    pass


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used with a different request body."""

    def __init__(self, order_id: int):
        super().__init__("This Idempotency-Key was already used for a different request.")
        self.order_id = order_id


def new_order_number() -> str:
    return "ORD-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


def build_order(customer, priced: Quote, *, created_at=None, **fields) -> Order:
    """A pending order (not yet committed) with item snapshots; stock is taken here. Its capture mode is
    PAYMENT_CAPTURE unless `fields` names one (`capture_mode=CaptureMode.MANUAL`)."""
    now = created_at or utcnow()
    ttl = timedelta(minutes=current_app.config["ORDER_PAYMENT_TTL_MINUTES"])
    order = Order(
        number=new_order_number(),
        customer=customer,
        currency=priced.currency,
        subtotal=priced.subtotal,
        discount=0,
        tax=priced.tax,
        total=priced.total,
        status=OrderStatus.PENDING,
        created_at=now,
        updated_at=now,
        expires_at=now + ttl,
        fulfilment_status=FulfilmentStatus.UNFULFILLED if priced.has_physical else FulfilmentStatus.NOT_REQUIRED,
        billing_name=customer.name,
        billing_email=customer.email,
        billing_address=customer.billing_address,
        billing_state=customer.billing_state,
        billing_gstin=customer.gstin,
        **{"capture_mode": current_app.config["PAYMENT_CAPTURE"], **fields},
    )
    order.receipt = order.number
    for line in priced.lines:
        product = line.product
        if product.stock is not None:
            product.stock -= line.quantity
        order.items.append(
            OrderItem(
                product_id=product.id,
                sku=product.sku,
                title=product.title,
                kind=product.kind,
                hsn_sac=product.hsn_sac,
                unit_price=product.price,
                quantity=line.quantity,
                tax_rate_bp=product.tax_rate_bp,
                taxable_amount=line.taxable,
                tax_amount=line.tax,
            )
        )
    db.session.add(order)
    record_event(
        order,
        action="create",
        actor=Actor.user(customer),
        to_state=OrderStatus.PENDING,
        reason=f"{len(priced.lines)} item(s)",
        changes={"total": [None, order.total], "currency": [None, order.currency]},  # shown with the money filter
    )
    return order


def place_order(customer, items: list[dict], **fields) -> Order:
    """Price `items` from the catalogue and create a pending order. Commits."""
    try:
        order = build_order(customer, quote(items, lock_stock=True), **fields)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order


def find_order_locked(*criteria) -> Order | None:
    """The order matching `criteria`, row-locked and refreshed. `of=Order`: the customer is joined
    eagerly, and a bare FOR UPDATE would lock the customer's row too, serialising all their orders."""
    return db.session.scalar(for_update(select(Order).where(*criteria), of=Order))


def get_order_for_update(order_id: int) -> Order:
    order = find_order_locked(Order.id == order_id)
    if order is None:
        raise OrderNotFound(order_id)
    return order


def restock(order: Order) -> None:
    from portal.catalog.models import Product

    # The order's products in one query (not one per line), so the flush sends their updates together.
    ids = sorted({item.product_id for item in order.items if item.product_id})
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}
    for item in order.items:
        product = products.get(item.product_id)
        if product is not None and product.stock is not None:
            product.stock += item.quantity


def change_status(order_id: int, target: str, *, actor: Actor, reason: str) -> Order:
    """Move an order to a legal next status (with a reason). Commits; IllegalTransition otherwise."""
    if not reason.strip():
        raise ValueError("A reason is required.")
    try:
        order = get_order_for_update(order_id)
        transition(order, ORDER, target, actor=actor, reason=reason)
        if target in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            restock(order)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order


def cancel_order(order_id: int, *, actor: Actor, reason: str = "cancelled") -> Order:
    """Cancel an unpaid order. Raises IllegalTransition for any other state."""
    return change_status(order_id, OrderStatus.CANCELLED, actor=actor, reason=reason or "cancelled")


def advance_fulfilment(order_id: int, target: str, *, actor: Actor, reason: str = "") -> Order:
    try:
        order = get_order_for_update(order_id)
        if order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
            raise IllegalTransition("fulfilment", order.fulfilment_status, target)
        transition(order, FULFILMENT, target, actor=actor, reason=reason or f"marked {target}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order
