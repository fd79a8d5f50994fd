"""One small handler per Razorpay event, each idempotent and monotonic.

Handlers never write the webhook row: they apply the event through the services that own the money
state (payments, refunds, disputes), each of which locks, commits and refuses to move backwards, and
return what they touched so the pipeline can link the event to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from portal.cart.completion import apply_checkout_payment, checkout_by_gateway_order
from portal.extensions import db
from portal.gateway import GatewayRejected, get_gateway
from portal.history.models import HistoryEvent
from portal.history.services import Actor, entity_type_of, record_event
from portal.orders.models import Order
from portal.payments.disputes import apply_gateway_dispute
from portal.payments.models import Payment
from portal.payments.services import UnknownGatewayOrder, apply_gateway_payment, settle_payment, should_auto_capture
from portal.payments.status import PaymentStatus
from portal.refunds.errors import UnknownGatewayPayment
from portal.refunds.models import Refund
from portal.refunds.settlement import apply_gateway_refund
from portal.refunds.status import RefundStatus


class MalformedEvent(ValueError):
    """The event lacks the entity its type promises."""


@dataclass
class Event:
    event_id: str
    type: str
    body: dict = field(default_factory=dict)

    def entity(self, name: str) -> dict | None:
        payload = self.body.get("payload") or {}
        wrapper = payload.get(name) if isinstance(payload, dict) else None
        entity = wrapper.get("entity") if isinstance(wrapper, dict) else None
        return entity if isinstance(entity, dict) else None

    def require(self, name: str) -> dict:
        entity = self.entity(name)
        if entity is None or not entity.get("id"):
            raise MalformedEvent(f"{self.type} without a {name} entity")
        return entity

    @property
    def reason(self) -> str:
        return f"webhook {self.type} ({self.event_id})"


@dataclass
class Handled:
    ignored: bool = False
    order_id: int | None = None
    payment_id: int | None = None
    note: str = ""


ACTOR = Actor.gateway("razorpay webhook")


def _apply_checkout_payment(event: Event, entity: dict) -> Handled:
    """A payment of a checkout's gateway order: the checkout's path (orders per vendor, or a full refund)."""
    outcome = apply_checkout_payment(entity, actor=ACTOR, reason=event.reason)
    orders = outcome.orders
    note = f"checkout {outcome.checkout.number} {outcome.state}: payment {outcome.payment.status}"
    if orders:
        note += f", {len(orders)} order(s)"
    if outcome.message and outcome.state != "paid":
        note += f"; {outcome.message}"
    return Handled(order_id=orders[0].id if orders else None, payment_id=outcome.payment.id, note=note)


def _apply_payment(event: Event, entity: dict, order_id: int | None = None) -> Handled:
    if order_id is None and checkout_by_gateway_order(entity.get("order_id") or "") is not None:
        return _apply_checkout_payment(event, entity)
    try:
        outcome = apply_gateway_payment(entity, actor=ACTOR, reason=event.reason, order_id=order_id)
    except UnknownGatewayOrder:
        return Handled(ignored=True, note=f"gateway order {entity.get('order_id')} is not one of ours")
    if outcome.stale:
        note = f"stale: payment is already {outcome.payment.status}"
    elif outcome.changed:
        note = f"payment {outcome.payment.status}, order {outcome.order.status}"
    else:
        note = f"no change: payment already {outcome.payment.status}"
    if outcome.problems:
        note += "; " + "; ".join(outcome.problems)
    return Handled(order_id=outcome.order.id, payment_id=outcome.payment.id, note=note)


def handle_payment(event: Event) -> Handled:
    """payment.captured / payment.failed (and order.paid, which carries the payment)."""
    return _apply_payment(event, event.require("payment"))


def handle_payment_authorized(event: Event) -> Handled:
    """payment.authorized: recorded; then, on an auto-capture order, captured unless the gateway already did
    (it does for payment_capture=1, so its state is asked first). A manual order's payment waits for finance."""
    handled = _apply_payment(event, event.require("payment"))
    payment = db.session.get(Payment, handled.payment_id) if handled.payment_id else None
    if payment is None or payment.order is None:  # a checkout's payment: its path already captured it
        return handled
    if payment.status != PaymentStatus.AUTHORIZED or not should_auto_capture(payment.order):
        return handled
    try:
        outcome = settle_payment(get_gateway().fetch_payment(payment.gateway_payment_id), actor=ACTOR)
    except GatewayRejected as exc:  # the gateway will not: the payment stays authorized (Capture, or its refund)
        return Handled(
            order_id=handled.order_id, payment_id=handled.payment_id, note=f"{handled.note}; not captured: {exc}"
        )
    # GatewayUnavailable propagates: the event is marked failed and its retry captures.
    return Handled(
        order_id=outcome.order.id, payment_id=outcome.payment.id, note=f"{handled.note}; {outcome.payment.status}"
    )


def _stale_refund(entity: dict) -> Refund | None:
    """A gateway `pending` for a refund we already hold as failed is older news, not a retry."""
    refund = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == entity["id"]))
    if refund is not None and refund.status == RefundStatus.FAILED and entity.get("status") == RefundStatus.PENDING:
        return refund
    return None


def handle_refund(event: Event) -> Handled:
    """refund.created / refund.processed / refund.failed: the payment is recorded first if we never saw it."""
    entity = event.require("refund")
    stale = _stale_refund(entity)
    if stale is not None:
        return Handled(order_id=stale.order_id, payment_id=stale.payment_id, note="stale: refund is already failed")
    try:
        refund = apply_gateway_refund(entity, actor=ACTOR, reason=event.reason)
    except UnknownGatewayPayment:
        payment = event.entity("payment")
        if payment is None:
            raise
        handled = _apply_payment(event, payment)
        if handled.ignored:
            return handled
        refund = apply_gateway_refund(entity, actor=ACTOR, reason=event.reason)
    note = f"refund {refund.status}" + ("" if refund.status == entity.get("status") else " (stale event skipped)")
    return Handled(order_id=refund.order_id, payment_id=refund.payment_id, note=note)


def _noted_once(entity, action: str, reason: str) -> None:
    """Write one history note of `action` on `entity`, unless it already has one (events may be redelivered)."""
    seen = db.session.scalar(
        select(HistoryEvent.id).where(
            HistoryEvent.entity_type == entity_type_of(entity),
            HistoryEvent.entity_id == entity.id,
            HistoryEvent.action == action,
        )
    )
    if seen is None:
        record_event(entity, action=action, actor=ACTOR, reason=reason)
        db.session.commit()


def handle_refund_speed_changed(event: Event) -> Handled:
    """refund.speed_changed: an instant refund fell back to normal speed. Applied like any refund event (its
    status does not move; an unseen refund is recorded), and the change noted in the refund's history, once."""
    handled = handle_refund(event)
    if handled.ignored:
        return handled
    entity = event.require("refund")
    refund = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == entity["id"]))
    if refund is None:
        return handled
    speed, asked = entity.get("speed_processed") or "normal", entity.get("speed_requested") or "normal"
    _noted_once(refund, "speed_changed", f"refund speed changed to {speed} (requested {asked}); {event.reason}")
    handled.note += f"; speed now {speed}"
    return handled


def _order_of_link(link: dict) -> Order | None:
    return db.session.scalar(select(Order).where(Order.payment_link_id == link["id"]))


def handle_payment_link_paid(event: Event) -> Handled:
    """The link's payment carries the link's own gateway order: match our order by the link id."""
    link, payment = event.require("payment_link"), event.require("payment")
    order = _order_of_link(link)
    return _apply_payment(event, payment, order_id=order.id if order else None)


def handle_payment_link_closed(event: Event) -> Handled:
    """payment_link.expired / .cancelled: noted on the order (once); the order itself stays payable."""
    link = event.require("payment_link")
    order = _order_of_link(link)
    if order is None:
        return Handled(ignored=True, note=f"payment link {link['id']} is not one of ours")
    action = event.type.replace(".", "_")  # payment_link_expired / payment_link_cancelled
    _noted_once(order, action, f"payment link {link['id']} {link.get('status')}")
    return Handled(order_id=order.id, note=f"payment link {link.get('status') or action}")


def handle_dispute(event: Event) -> Handled:
    """payment.dispute.*: a dispute record on the payment (the payment is recorded first if unseen)."""
    entity = event.require("dispute")
    try:
        dispute, stale = apply_gateway_dispute(entity, actor=ACTOR, reason=event.reason)
    except UnknownGatewayPayment:
        payment = event.entity("payment")
        if payment is None:
            raise
        handled = _apply_payment(event, payment)
        if handled.ignored:
            return handled
        dispute, stale = apply_gateway_dispute(entity, actor=ACTOR, reason=event.reason)
    note = f"dispute {dispute.status}" + (" (stale event skipped)" if stale else "")
    return Handled(order_id=dispute.payment.order_id, payment_id=dispute.payment_id, note=note)


HANDLERS = {
    "payment.authorized": handle_payment_authorized,
    "payment.captured": handle_payment,
    "payment.failed": handle_payment,
    "order.paid": handle_payment,
    "refund.created": handle_refund,
    "refund.processed": handle_refund,
    "refund.failed": handle_refund,
    "refund.speed_changed": handle_refund_speed_changed,
    "payment_link.paid": handle_payment_link_paid,
    "payment_link.expired": handle_payment_link_closed,
    "payment_link.cancelled": handle_payment_link_closed,
    "payment.dispute.created": handle_dispute,
    "payment.dispute.won": handle_dispute,
    "payment.dispute.lost": handle_dispute,
    "payment.dispute.closed": handle_dispute,
}


def dispatch(event: Event) -> Handled:
    """Run the event's handler; anything we do not handle is ignored (and answered 2xx)."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return Handled(ignored=True, note=f"no handler for {event.type}")
    return handler(event)
