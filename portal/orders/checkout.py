"""Customer checkout: idempotent order placing, gateway orders, payment links, cancel and expiry.

Every function owns its transaction. Only `open_gateway_order` holds a row lock (the one order's) across
gateway calls, because nothing else makes a gateway order exactly-once; elsewhere the database work
before and after a call are separate short transactions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.gateway import GatewayError, get_gateway
from portal.history.models import HistoryEvent
from portal.history.services import Actor, record_event
from portal.orders.models import CaptureMode, Order
from portal.orders.services import (
    IdempotencyConflict,
    OrderNotFound,
    cancel_order,
    get_order_for_update,
    place_order,
    restock,
)
from portal.orders.status import ORDER, OrderStatus
from portal.payments.models import Payment
from portal.payments.status import PaymentStatus
from portal.statemachine import IllegalTransition, transition
from portal.timeutil import utcnow


def request_fingerprint(body: dict) -> str:
    """A stable hash of a validated request body (key order and whitespace do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _order_for_key(customer_id: int, key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == key))


def _replay(order: Order, request_hash: str | None) -> Order:
    if order.request_hash != request_hash:
        raise IdempotencyConflict(order.id)
    return order


def place_order_once(customer, items: list[dict], *, idempotency_key=None, request_hash=None) -> tuple[Order, bool]:
    """Place an order, or replay the one already placed with this Idempotency-Key. Commits.

    Returns (order, replayed). Two concurrent requests with one key create one order: the unique
    (customer_id, idempotency_key) constraint makes the loser fail, and it replays the winner's order.
    Raises IdempotencyConflict when the key was used with a different body.
    """
    if idempotency_key:
        existing = _order_for_key(customer.id, idempotency_key)
        if existing is not None:
            return _replay(existing, request_hash), True
    try:
        order = place_order(customer, items, idempotency_key=idempotency_key, request_hash=request_hash)
    except IntegrityError:
        existing = _order_for_key(customer.id, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replay(existing, request_hash), True
    return order, False


def _require_payable(order: Order) -> None:
    if not order.is_payable:
        raise IllegalTransition("order", order.status, OrderStatus.PAID)


def _record_gateway_trouble(order_id: int, what: str, error: Exception) -> None:
    order = get_order_for_update(order_id)
    record_event(order, action="gateway_error", actor=Actor.system("checkout"), reason=f"{what}: {error}"[:500])
    db.session.commit()


def open_gateway_order(order_id: int) -> Order:
    """Make sure a payable order has its gateway order (created on first need, exactly once). Commits.

    Razorpay has no idempotency header for orders, but the receipt is ours (the order number): under
    the order's row lock — so concurrent requests for one order wait here instead of creating their own —
    an existing gateway order with our receipt (left by a create that timed out) is adopted, and only
    when there is none is one created. The lock is held across at most two bounded gateway calls, and
    only this order's requests wait for it. A gateway failure leaves the order pending with no gateway
    order, records it in the history and re-raises GatewayUnavailable / GatewayRejected (a timed-out
    create is found by its receipt on the next request).
    """
    order = db.session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    if order.gateway_order_id:
        return order
    try:
        order = get_order_for_update(order_id)
        if order.gateway_order_id is None:
            _require_payable(order)
            _attach_gateway_order(order)
        db.session.commit()
    except GatewayError as exc:
        db.session.rollback()
        what = "gateway order not created"
        if not getattr(exc, "outcome_known", True):  # it may exist at the gateway: the next request adopts it
            what = "gateway order outcome unknown (the next request adopts it by its receipt)"
        _record_gateway_trouble(order_id, what, exc)
        raise
    except Exception:
        db.session.rollback()
        raise
    return order


def _attach_gateway_order(order: Order) -> None:
    """Adopt the gateway order carrying this order's receipt, or create it; record which (and any extras)."""
    gateway = get_gateway()
    found = [g for g in gateway.find_orders_by_receipt(order.receipt) if _is_ours(g, order)]
    if found:
        chosen = _preferred(found)
        note = f"{chosen['id']} adopted (found by receipt {order.receipt})"
        extras = [g["id"] for g in found if g is not chosen]
        if extras:
            note += f"; unused gateway orders with the same receipt: {', '.join(extras)}"
    else:
        chosen = gateway.create_order(
            amount=order.total,
            currency=order.currency,
            receipt=order.receipt,
            notes={"order_id": str(order.id), "order_number": order.number},
            payment_capture=order.capture_mode == CaptureMode.AUTO,  # manual: the gateway only authorizes
        )
        note = f"{chosen['id']} created"
    order.gateway_order_id = chosen["id"]
    record_event(order, action="gateway_order", actor=Actor.system("checkout"), reason=note[:500])


def _is_ours(entity: dict, order: Order) -> bool:
    notes = entity.get("notes") if isinstance(entity.get("notes"), dict) else {}
    return (
        entity.get("amount") == order.total
        and entity.get("currency") == order.currency
        and str(notes.get("order_id", order.id)) == str(order.id)
    )


def _preferred(found: list[dict]) -> dict:
    """One a customer already tried to pay, else the oldest (answers are newest first)."""
    return next((g for g in found if g.get("attempts") or g.get("status") != "created"), found[-1])


def _link_expiry(order: Order) -> int:
    # Razorpay wants expire_by at least 15 minutes ahead; the link never outlives the order by much.
    earliest = utcnow() + timedelta(minutes=16)
    moment = max(order.expires_at or earliest, earliest)
    return int(moment.replace(tzinfo=UTC).timestamp())


def _link_is_open(plink_id: str) -> bool:
    """Whether the gateway still takes payments on this link (when it cannot say, assume it does)."""
    try:
        return get_gateway().fetch_payment_link(plink_id).get("status") in ("created", "partially_paid")
    except GatewayError:
        return True


def _link_reference(order: Order) -> str:
    """The order number for its first link; `ORD-…-2`, `-3` … for links replacing expired or cancelled ones
    (Razorpay refuses a reference_id it has seen)."""
    earlier = db.session.scalar(
        select(func.count())
        .select_from(HistoryEvent)
        .where(
            HistoryEvent.entity_type == "order",
            HistoryEvent.entity_id == order.id,
            HistoryEvent.action == "payment_link",
        )
    )
    return order.number if not earlier else f"{order.number}-{earlier + 1}"


def ensure_payment_link(order_id: int, *, callback_url: str) -> Order:
    """A payment link for a payable order: the stored one while the gateway keeps it open, else a new one.

    The reference_id derives from the order number, so a link created by a request that timed out can
    never be doubled at the gateway. Commits. Raises IllegalTransition, GatewayUnavailable, GatewayRejected.
    """
    order = db.session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(order_id)
    _require_payable(order)
    stale_link = order.payment_link_id
    if stale_link and _link_is_open(stale_link):
        return order
    customer = order.customer
    params = {
        "amount": order.total,
        "currency": order.currency,
        "reference_id": _link_reference(order),
        "description": f"Order {order.number}",
        "customer": {"name": customer.name, "email": customer.email, "contact": customer.phone or ""},
        "callback_url": callback_url,
        "expire_by": _link_expiry(order),
        "notes": {"order_id": str(order.id), "order_number": order.number},
    }
    db.session.commit()
    try:
        link = get_gateway().create_payment_link(**params)
    except GatewayError as exc:
        _record_gateway_trouble(order_id, "payment link not created", exc)
        raise
    return _store_payment_link(order_id, link, replacing=stale_link)


def _store_payment_link(order_id: int, link: dict, replacing: str | None = None) -> Order:
    try:
        order = get_order_for_update(order_id)
        if order.payment_link_id == replacing:  # not already replaced by a concurrent request
            order.payment_link_id, order.payment_link_url = link["id"], link.get("short_url")
            note = f"{link['id']} created" + (f", replacing {replacing} (no longer open)" if replacing else "")
            record_event(order, action="payment_link", actor=Actor.system("checkout"), reason=note)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order


def release_payment_link(order: Order, actor: Actor) -> bool | None:
    """Cancel the order's payment link at the gateway (best effort, after the order left `pending`).

    Returns True when cancelled, None when there is none, False when the gateway refused or was down
    (the link still expires on its own, and a late payment is refunded).
    """
    if not order.payment_link_id:
        return None
    try:
        get_gateway().cancel_payment_link(order.payment_link_id)
    except GatewayError as exc:
        record_event(order, action="gateway_error", actor=actor, reason=f"payment link not cancelled: {exc}"[:500])
        db.session.commit()
        return False
    record_event(order, action="payment_link_cancelled", actor=actor, reason=f"{order.payment_link_id} cancelled")
    db.session.commit()
    return True


def cancel_unpaid_order(order_id: int, *, actor: Actor, reason: str = "cancelled by the customer") -> Order:
    """Cancel an unpaid order and its payment link. Raises IllegalTransition once paid, expired, ...

    Razorpay has no API to cancel an order; a payment that still lands on it is kept and refunded.
    """
    order = cancel_order(order_id, actor=actor, reason=reason)
    release_payment_link(order, actor)
    return order


@dataclass
class ExpirySummary:
    expired: list[str] = field(default_factory=list)
    links_cancelled: int = 0
    links_failed: int = 0

    def line(self, dry_run: bool) -> str:
        if dry_run:
            names = ", ".join(self.expired) or "none"
            return f"would expire {len(self.expired)} order(s): {names}"
        return f"expired {len(self.expired)} order(s); cancelled {self.links_cancelled} payment link(s)" + (
            f"; {self.links_failed} link(s) could not be cancelled and will lapse" if self.links_failed else ""
        )


EXPIRABLE = (OrderStatus.PENDING, OrderStatus.FAILED)  # unpaid: a failed payment's order keeps stock until it lapses


def overdue_order_ids(now=None) -> list[int]:
    """Unpaid (pending or failed) orders past their TTL — except those holding an authorized payment: that money is the
    customer's, held for us (a manual-capture order waiting for finance's Capture), and expiring the order
    would make the capture impossible while leaving the hold in place until the gateway drops it."""
    now = now or utcnow()
    query = (
        select(Order.id)
        .where(Order.status.in_(EXPIRABLE), Order.expires_at <= now)
        .where(~Order.payments.any(Payment.status == PaymentStatus.AUTHORIZED))
        .order_by(Order.id)
    )
    return list(db.session.scalars(query))


def expire_overdue_orders(
    *, dry_run: bool = False, now=None, order_ids: list[int] | None = None, on_each=None
) -> ExpirySummary:
    """Unpaid orders past ORDER_PAYMENT_TTL_MINUTES become `expired` (stock returned, links cancelled).

    The `expire_unpaid_orders` schedule (portal/orders/tasks.py) runs it every minute; `flask orders expire`
    by hand. Idempotent: each order is locked and re-checked, so a payment racing the job wins or is refunded,
    and two runs at once expire each order once. `on_each` is called after each order (a progress bar).
    """
    now = now or utcnow()
    summary = ExpirySummary()
    actor = Actor.system("orders expire")
    for order_id in overdue_order_ids(now) if order_ids is None else order_ids:
        if on_each:
            on_each()
        order = db.session.get(Order, order_id)
        if dry_run:
            summary.expired.append(order.number)
            continue
        order = _expire_one(order_id, now, actor)
        if order is None:
            continue
        summary.expired.append(order.number)
        released = release_payment_link(order, actor)
        summary.links_cancelled += released is True
        summary.links_failed += released is False
    return summary


def _expire_one(order_id: int, now, actor: Actor) -> Order | None:
    try:
        order = get_order_for_update(order_id)
        overdue = order.status in EXPIRABLE and order.expires_at is not None and order.expires_at <= now
        held = any(p.status == PaymentStatus.AUTHORIZED for p in order.payments)  # authorized since the listing
        if not overdue or held:
            db.session.rollback()
            return None
        transition(order, ORDER, OrderStatus.EXPIRED, actor=actor, reason="not paid in time")
        restock(order, reason="expired")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order
