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
from portal.orders.models import LineType, Order, OrderItem
from portal.orders.pricing import Quote, quote
from portal.orders.status import FULFILMENT, ORDER, FulfilmentStatus, OrderStatus
from portal.statemachine import IllegalTransition, transition
from portal.timeutil import utcnow

FULFILLABLE = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED})  # orders whose goods may move
CARRIER_MAX, TRACKING_MAX = 60, 80  # the columns' lengths
NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I confusion


class OrderNotFound(LookupError):
    pass


class TrackingRequired(IllegalTransition):
    """`shipped` without a carrier or a tracking number. An IllegalTransition (the move is refused), so
    callers that only know moves answer 409; the fulfilment panel answers 422, a form error."""

    def __init__(self, current: str, message: str):
        super().__init__("fulfilment", current, FulfilmentStatus.SHIPPED)
        self.args = (message,)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used with a different request body."""

    def __init__(self, order_id: int):
        super().__init__("This Idempotency-Key was already used for a different request.")
        self.order_id = order_id


def new_order_number() -> str:
    return "ORD-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


def billing_fields(customer) -> dict:
    """An order's billing snapshot of its customer (the invoice's buyer), taken when the order is made."""
    return {
        "billing_name": customer.name,
        "billing_email": customer.email,
        "billing_address": customer.billing_address,
        "billing_state": customer.billing_state,
        "billing_gstin": customer.gstin,
    }


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
        **billing_fields(customer),
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


def lock_products(ids) -> dict:
    """The products with these ids, row-locked in id order (two lockers never wait for each other in a cycle)."""
    from portal.catalog.models import Product

    ids = sorted(set(ids))
    if not ids:
        return {}
    query = for_update(select(Product).where(Product.id.in_(ids)).order_by(Product.id), of=Product)  # not the vendor
    return {p.id: p for p in db.session.scalars(query)}


def restock(order: Order, *, reason: str = "cancelled") -> None:
    """Give back what the order took and has not given back yet (no commit).

    Sold lines (`item`): stock += sold − already returned, under the products' row locks; unlimited stock
    stays None. Rentals never took stock: their booked dates are freed instead (committed reservations
    released with `reason`). Deposits and fees hold nothing."""
    sold = [i for i in order.items if i.line_type == LineType.ITEM and i.product_id]
    products = lock_products(i.product_id for i in sold)
    for item in sold:
        product = products.get(item.product_id)
        if product is not None and product.stock is not None:
            product.stock += item.quantity - item.returned_quantity
    rentals = [i.id for i in order.items if i.line_type == LineType.RENTAL]
    release_bookings(rentals, reason=reason)


def release_bookings(item_ids: list[int], *, reason: str) -> int:
    """Release the committed reservations of these order items (their dates no longer block); how many."""
    from portal.stock.models import Reservation, ReservationStatus

    if not item_ids:
        return 0
    query = select(Reservation).where(
        Reservation.order_item_id.in_(item_ids), Reservation.status == ReservationStatus.COMMITTED
    )
    released = 0
    for booking in db.session.scalars(for_update(query)):
        booking.status, booking.released_reason, booking.expires_at = ReservationStatus.RELEASED, reason, None
        released += 1
    return released


def change_status(order_id: int, target: str, *, actor: Actor, reason: str) -> Order:
    """Move an order to a legal next status (with a reason). Commits; IllegalTransition otherwise."""
    if not reason.strip():
        raise ValueError("A reason is required.")
    try:
        order = get_order_for_update(order_id)
        transition(order, ORDER, target, actor=actor, reason=reason)
        if target in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            restock(order, reason=str(target))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order


def cancel_order(order_id: int, *, actor: Actor, reason: str = "cancelled") -> Order:
    """Cancel an unpaid order. Raises IllegalTransition for any other state."""
    return change_status(order_id, OrderStatus.CANCELLED, actor=actor, reason=reason or "cancelled")


def move_fulfilment(
    order: Order, target: str, *, actor: Actor, reason: str = "", carrier=None, tracking_number=None
) -> Order:
    """The one place a fulfilment move is applied (to a locked order; no commit).

    Only paid (or partly refunded) orders move. `shipped` needs the carrier and the tracking number: both
    are stored on the order and recorded in the move's history row. Raises IllegalTransition (a refused
    move, 409) or TrackingRequired (missing input, 422)."""
    current = order.fulfilment_status
    if order.status not in FULFILLABLE or not FULFILMENT.can(current, target):
        raise IllegalTransition("fulfilment", current, target)
    changes = None
    if target == FulfilmentStatus.SHIPPED:
        carrier, number = _tracking(current, carrier, tracking_number)
        changes = {"carrier": [order.carrier, carrier], "tracking_number": [order.tracking_number, number]}
        order.carrier, order.tracking_number = carrier, number
        reason = reason or f"shipped with {carrier}, tracking number {number}"
    return transition(order, FULFILMENT, target, actor=actor, reason=reason or f"marked {target}", changes=changes)


def _tracking(current: str, carrier, tracking_number) -> tuple[str, str]:
    carrier, number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or not number:
        raise TrackingRequired(current, "Give the carrier and the tracking number to mark the order shipped.")
    if len(carrier) > CARRIER_MAX or len(number) > TRACKING_MAX:
        raise TrackingRequired(
            current, f"The carrier can be at most {CARRIER_MAX} characters, the number {TRACKING_MAX}."
        )
    return carrier, number


def advance_fulfilment(
    order_id: int, target: str, *, actor: Actor, reason: str = "", carrier=None, tracking_number=None
) -> Order:
    """Move a paid order's fulfilment one legal step (see `move_fulfilment`). Commits."""
    try:
        order = get_order_for_update(order_id)
        move_fulfilment(order, target, actor=actor, reason=reason, carrier=carrier, tracking_number=tracking_number)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order
