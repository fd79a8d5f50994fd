"""Vendor approval and shipping: the fulfilment machine's services (returns are in returns.py).

An order of a vendor without auto-approve is paid and waits `awaiting_vendor`; the vendor (or an admin)
accepts it (→ `unfulfilled` when it has goods or rentals to ship, else `not_required`) or rejects it with a
reason (→ `rejected`: its stock returns and its share of the payment is refunded). Goods then move
processing → ready_for_shipment → shipped (carrier and tracking number) → in_transit → delivered, each one
move through `services.move_fulfilment`, the one place a fulfilment move is applied.

Each function owns its transaction: the order's row lock serialises concurrent clicks, and a move that
is no longer legal when the lock is granted raises IllegalTransition (409).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.catalog.models import SHIPPED_KINDS
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.orders.models import Order
from portal.orders.services import advance_fulfilment, get_order_for_update, move_fulfilment, restock
from portal.orders.status import FulfilmentStatus
from portal.refunds.errors import RefundError
from portal.refunds.services import create_refund
from portal.statemachine import IllegalTransition

REASON_MAX = 500


class FulfilmentError(ValueError):
    """Input a fulfilment step cannot take (a missing reason, a bad return): a form error, 422."""


@dataclass
class Outcome:
    """What a step did: the order, the refunds it created, and any refund the gateway refused or that
    could not be made (the step itself is committed either way; the problem is in the order's history)."""

    order: Order
    refunds: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def ships_goods(order: Order) -> bool:
    """Whether the order has goods or rentals to send (else accepting it leaves nothing to fulfil)."""
    return any(item.kind in SHIPPED_KINDS for item in order.items)


def accept_order(order_id: int, *, actor: Actor) -> Order:
    """Accept an order awaiting its vendor: `unfulfilled` (goods to ship) or `not_required`. Commits.

    Raises IllegalTransition when the order is not awaiting approval (already accepted, rejected …)."""
    try:
        order = get_order_for_update(order_id)
        if order.fulfilment_status != FulfilmentStatus.AWAITING_VENDOR:
            raise IllegalTransition("fulfilment", order.fulfilment_status, FulfilmentStatus.UNFULFILLED)
        target = FulfilmentStatus.UNFULFILLED if ships_goods(order) else FulfilmentStatus.NOT_REQUIRED
        move_fulfilment(order, target, actor=actor, reason="accepted")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return order


def reject_order(order_id: int, *, reason: str, actor: Actor) -> Outcome:
    """Reject an order awaiting its vendor: `rejected`, its stock back, its share of the payment refunded.

    The rejection and the restock commit together first; then each payment's share for this order is
    refunded (`create_refund(..., order_id=...)`, one refund per payment, each its own transaction and
    gateway call). A refund that cannot be made is recorded on the order and reported in the outcome —
    finance can make it from the order page — never undoing the rejection.
    Raises FulfilmentError (no reason) or IllegalTransition (not awaiting approval)."""
    reason = _reason(reason)
    try:
        order = get_order_for_update(order_id)
        move_fulfilment(order, FulfilmentStatus.REJECTED, actor=actor, reason=reason)
        restock(order, reason="rejected")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    outcome = Outcome(order)
    for payment in [p for p in order.payments if p.is_settled]:
        refund_share(outcome, payment.id, amount=None, notes=f"Rejected by the vendor: {reason}", actor=actor)
    return outcome


def advance(
    order_id: int,
    target: str,
    *,
    actor: Actor,
    carrier: str | None = None,
    tracking_number: str | None = None,
    reason: str = "",
) -> Order:
    """Move a paid order's goods one legal step (`shipped` needs carrier and tracking number). Commits.

    Approval has its own services (accept_order, reject_order: a rejection refunds) and so has the return
    (returns.record_return: it takes quantities). Raises IllegalTransition (409) or TrackingRequired (422)."""
    if target == FulfilmentStatus.RETURNED:
        raise FulfilmentError("Record a return with the quantities that came back.")
    if target == FulfilmentStatus.REJECTED:
        raise FulfilmentError("Reject the order with a reason (its share of the payment is refunded).")
    if target in (FulfilmentStatus.UNFULFILLED, FulfilmentStatus.NOT_REQUIRED):
        order = db.session.get(Order, order_id)
        if order is not None and order.fulfilment_status == FulfilmentStatus.AWAITING_VENDOR:
            return accept_order(order_id, actor=actor)
    reason = (reason or "").strip()[:REASON_MAX]
    return advance_fulfilment(
        order_id, target, actor=actor, reason=reason, carrier=carrier, tracking_number=tracking_number
    )


def refund_share(
    outcome: Outcome, payment_id: int, *, amount: int | None, notes: str, actor: Actor, lines=None
) -> None:
    """Refund `amount` (None: all of this order's share that remains, or the `lines`' worth) of one payment
    for outcome.order; a refusal is recorded on the order and kept in outcome.problems."""
    order = outcome.order
    try:
        refund = create_refund(
            payment_id, amount=amount, reason="other", notes=notes, actor=actor, lines=lines, order_id=order.id
        )
    except RefundError as exc:
        db.session.rollback()
        outcome.problems.append(str(exc))
        record_event(order, action="refund_not_created", actor=actor, reason=f"{notes}: {exc}"[:REASON_MAX])
        db.session.commit()
        return
    outcome.refunds.append(refund)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FulfilmentError("Give a reason: the customer is told why.")
    if len(reason) > REASON_MAX:
        raise FulfilmentError(f"The reason can be at most {REASON_MAX} characters.")
    return reason
