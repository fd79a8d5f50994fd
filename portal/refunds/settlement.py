"""Settling refunds: what the gateway says about a refund (webhooks, reconciliation, our own sends),
and the amounts the money rule is computed from.

`apply_gateway_refund` is idempotent and monotonic like `apply_gateway_payment`; a processed refund
moves its payment and order to partially_refunded / refunded through the state machines.

The captured amount of a settled payment is `payment.amount`: Razorpay only captures the full
authorised amount, so a captured payment's amount is what was captured.
"""

from __future__ import annotations

import logging
import secrets

from flask import current_app
from sqlalchemy import func, select

from portal.dbutil import for_update
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.orders.models import Order
from portal.orders.services import find_order_locked
from portal.orders.status import ORDER, OrderStatus
from portal.payments.models import Payment
from portal.payments.status import PAYMENT, PaymentStatus
from portal.refunds.amounts import (  # noqa: F401  (re-exported: services, forms and views read them here)
    allocated_amount,
    order_for_refund,
    order_paid_and_refunded,
    refundable_amount,
    refundable_amounts,
    refunded_total,
)
from portal.refunds.errors import RefundExceedsCaptured, RefundNotFound, UnknownGatewayPayment
from portal.refunds.invariants import REFUSED_ACTION, exceeds_captured
from portal.refunds.models import Refund
from portal.refunds.status import REFUND, RefundStatus
from portal.statemachine import advance_to
from portal.timeutil import from_unix, utcnow

log = logging.getLogger("portal.refunds")


def new_idempotency_key() -> str:
    """Stable per refund, sent as X-Refund-Idempotency (≥ 10 chars of [A-Za-z0-9_-])."""
    return "rfk_" + secrets.token_hex(12)


# ---------------------------------------------------------------- amounts (portal/refunds/amounts.py)


def pending_and_failed_counts() -> dict[str, int]:
    """{"pending": n, "failed": n} for the dashboard."""
    rows = dict(
        db.session.execute(
            select(Refund.status, func.count())
            .where(Refund.status.in_([RefundStatus.PENDING.value, RefundStatus.FAILED.value]))
            .group_by(Refund.status)
        ).all()
    )
    return {"pending": int(rows.get("pending", 0)), "failed": int(rows.get("failed", 0))}


# ---------------------------------------------------------------- settling


def settle_payment_and_order(payment: Payment, actor: Actor, reason: str, order: Order | None = None) -> None:
    """After a refund is processed: the payment moves by its total refunded, and `order` (the refund's; the
    payment's own order by default) by its own share: its paid share is the sum of its allocations of settled
    payments, its refunded share the processed refunds of that order."""
    payment.amount_refunded = refunded_total(payment)
    if payment.amount_refunded <= 0:
        return
    full = payment.amount_refunded >= payment.amount
    target_payment = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    advance_to(payment, PAYMENT, target_payment, actor=actor, reason=reason)
    order = order if order is not None else payment.order
    if order is not None:
        _settle_order(order, actor, reason)


def _settle_order(order: Order, actor: Actor, reason: str) -> None:
    paid_total, refunded = order_paid_and_refunded(order)
    if refunded <= 0:
        return
    if order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        target_order = OrderStatus.REFUNDED if refunded >= paid_total else OrderStatus.PARTIALLY_REFUNDED
        advance_to(order, ORDER, target_order, actor=actor, reason=reason)
    if order.needs_refund and refunded >= paid_total:
        order.needs_refund = False  # a late payment on a cancelled/expired order is now fully returned
        record_event(order, action="late_payment_refunded", actor=actor, reason=reason)


def lock_order_then_payment(payment_id: int, order_id: int | None = None) -> Payment:
    """Row locks in the one order every money path uses (the refund's order — or, for a checkout payment
    that paid no order, its checkout — then the payment): no deadlocks."""
    from portal.cart.models import Checkout  # the checkout sits above refunds: imported where needed

    found = db.session.execute(select(Payment.order_id, Payment.checkout_id).where(Payment.id == payment_id)).first()
    if found is None:
        raise RefundNotFound(f"There is no payment {payment_id}.")
    if order_id is not None:
        find_order_locked(Order.id == order_id)
    elif found.order_id is not None:
        find_order_locked(Order.id == found.order_id)
    else:
        db.session.scalar(for_update(select(Checkout).where(Checkout.id == found.checkout_id), of=Checkout))
    return db.session.scalar(for_update(select(Payment).where(Payment.id == payment_id), of=Payment))


def _lock_payment(gateway_payment_id: str, order_id: int | None = None) -> Payment:
    payment_id = db.session.scalar(select(Payment.id).where(Payment.gateway_payment_id == gateway_payment_id))
    if payment_id is None:
        raise UnknownGatewayPayment(gateway_payment_id)
    return lock_order_then_payment(payment_id, order_id)


def _order_of_gateway_refund(entity: dict) -> int | None:
    """Before locking: the order of the refund we know for this entity, else (a refund made at the gateway)
    the first order of the payment whose share still covers it."""
    payment = db.session.scalar(select(Payment).where(Payment.gateway_payment_id == entity["payment_id"]))
    if payment is None:
        raise UnknownGatewayPayment(entity["payment_id"])
    known = _find_refund(entity, payment)
    if known is not None:
        return known.order_id
    if payment.order_id is not None:
        return payment.order_id
    for allocation in payment.allocations:
        if refundable_amount(payment, allocation.order_id) >= int(entity["amount"]):
            return allocation.order_id
    return payment.allocations[0].order_id if payment.allocations else None


def _find_refund(entity: dict, payment: Payment) -> Refund | None:
    refund = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == entity["id"]))
    if refund is None:
        key = (entity.get("notes") or {}).get("idempotency_key") if isinstance(entity.get("notes"), dict) else None
        if key:
            refund = db.session.scalar(select(Refund).where(Refund.idempotency_key == key))
    return refund


def _record_unknown(entity: dict, payment: Payment, order_id: int | None, actor: Actor, reason: str) -> Refund:
    """A refund made at the gateway (its dashboard, an auto-refund) that we did not start."""
    refund = Refund(
        payment=payment,
        order_id=order_id,
        checkout_id=payment.checkout_id if order_id is None else None,
        amount=int(entity["amount"]),
        currency=entity["currency"],
        status=RefundStatus.PENDING,
        idempotency_key=new_idempotency_key(),
        reason="gateway",
        created_at=from_unix(entity.get("created_at")) or utcnow(),
        sent_at=utcnow(),
    )
    db.session.add(refund)
    record_event(
        refund,
        action="create",
        actor=actor,
        to_state=RefundStatus.PENDING,
        reason=reason or "refund seen at the gateway",
    )
    return refund


def _is_stale(refund: Refund, target: str) -> bool:
    # failed → pending is our own retry (process), never something the gateway does to a failed refund.
    return refund.status == RefundStatus.FAILED and target == RefundStatus.PENDING


def _check_within_captured(payment: Payment, refund: Refund | None, entity: dict) -> None:
    """Refuse a gateway refund that would take refunds past the capture (a gateway that lost an update
    and accepted an over-refund): processed and pending refunds other than this one, plus this one."""
    if entity.get("status") == RefundStatus.FAILED:
        return
    others = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id,
        Refund.status.in_([RefundStatus.PROCESSED.value, RefundStatus.PENDING.value]),
    )
    if refund is not None and refund.id is not None:
        others = others.where(Refund.id != refund.id)
    total = int(db.session.scalar(others)) + int(entity["amount"])
    if exceeds_captured(payment.amount, total):
        raise RefundExceedsCaptured(
            f"Gateway refund {entity['id']} of {entity['amount']} would make {total} refunded on payment "
            f"{payment.gateway_payment_id}, which captured {payment.amount}: refused, not recorded."
        )


def _flag_over_refund(gateway_payment_id: str, error: RefundExceedsCaptured, actor: Actor) -> None:
    """Record the refusal on the payment (the dashboard and reconcile list it) and log it at error."""
    log.error("refund invariant broken: %s", error)
    payment = _lock_payment(gateway_payment_id)
    record_event(payment, action=REFUSED_ACTION, actor=actor, reason=str(error)[:500])
    db.session.commit()


def apply_gateway_refund(entity: dict, *, actor: Actor, reason: str = "") -> Refund:
    """Record or update a refund from a gateway refund entity; settle payment and order. Commits.

    Idempotent and monotonic like `apply_gateway_payment`. A refund that would make the payment's refunds
    exceed its capture is refused: nothing of it is stored, the refusal is recorded on the payment and
    logged at error, and RefundExceedsCaptured is raised (a webhook carrying it fails, visibly).
    """
    try:
        return _apply_refund(entity, actor, reason)
    except RefundExceedsCaptured as exc:
        _flag_over_refund(entity["payment_id"], exc, actor)
        raise


def _apply_refund(entity: dict, actor: Actor, reason: str) -> Refund:
    try:
        order_id = _order_of_gateway_refund(entity)
        payment = _lock_payment(entity["payment_id"], order_id)
        found = _find_refund(entity, payment)
        if found is None or found.status != entity.get("status"):
            _check_within_captured(payment, found, entity)
        refund = found or _record_unknown(entity, payment, order_id, actor, reason)
        refund.gateway_refund_id = entity["id"]
        refund.gateway_data = entity
        refund.sent_at = refund.sent_at or utcnow()
        target = entity.get("status", RefundStatus.PENDING)
        changed = not _is_stale(refund, target) and advance_to(
            refund, REFUND, target, actor=actor, reason=reason or f"gateway reports {target}"
        )
        if changed and target == RefundStatus.PROCESSED:
            refund.processed_at = utcnow()
            db.session.flush()
            settle_payment_and_order(payment, actor, f"refund {entity['id']} processed", refund.order)
        elif changed and target == RefundStatus.FAILED:
            refund.failure_reason = entity.get("error_description") or "refund failed at the gateway"
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if changed:
        run_refund_hooks(refund)
    return refund


def run_refund_hooks(refund: Refund) -> None:
    """Hooks that run once a refund's new state is safely recorded (e.g. the invoices' credit note)."""
    for hook in current_app.extensions.get("refund_hooks", []):
        hook(refund)
