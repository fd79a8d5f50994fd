"""Refunds: settling what the gateway says about a refund, and the money rules around it."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.orders.status import ORDER, OrderStatus
from portal.payments.models import Payment
from portal.payments.status import PAYMENT, PaymentStatus
from portal.refunds.models import Refund
from portal.refunds.status import REFUND, RefundStatus
from portal.statemachine import advance_to
from portal.timeutil import from_unix, utcnow


class UnknownGatewayPayment(LookupError):
    pass


def new_idempotency_key() -> str:
    """Stable per refund, sent as X-Refund-Idempotency (≥ 10 chars of [A-Za-z0-9_-])."""
    return "rfk_" + secrets.token_hex(12)


def refunded_total(payment: Payment, statuses=(RefundStatus.PROCESSED,)) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == payment.id, Refund.status.in_([str(s) for s in statuses])
            )
        )
    )


def refundable_amount(payment: Payment) -> int:
    """Captured − processed − pending: what can still be refunded."""
    if not payment.is_settled:
        return 0
    committed = refunded_total(payment, (RefundStatus.PROCESSED, RefundStatus.PENDING))
    return max(payment.amount - committed, 0)


def settle_payment_and_order(payment: Payment, actor: Actor, reason: str) -> None:
    """After a refund is processed: payment and order become partially_refunded / refunded."""
    payment.amount_refunded = refunded_total(payment)
    if payment.amount_refunded <= 0:
        return
    full = payment.amount_refunded >= payment.amount
    target_payment = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    advance_to(payment, PAYMENT, target_payment, actor=actor, reason=reason)
    order = payment.order
    paid_total = sum(p.amount for p in order.payments if p.is_settled)
    refunded = sum(p.amount_refunded for p in order.payments if p.is_settled)
    if order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
        target_order = OrderStatus.REFUNDED if refunded >= paid_total else OrderStatus.PARTIALLY_REFUNDED
        advance_to(order, ORDER, target_order, actor=actor, reason=reason)


def _lock_payment(gateway_payment_id: str) -> Payment:
    payment = db.session.scalar(
        select(Payment).where(Payment.gateway_payment_id == gateway_payment_id).with_for_update()
    )
    if payment is None:
        raise UnknownGatewayPayment(gateway_payment_id)
    return payment


def _find_refund(entity: dict, payment: Payment) -> Refund | None:
    refund = db.session.scalar(select(Refund).where(Refund.gateway_refund_id == entity["id"]))
    if refund is None:
        key = (entity.get("notes") or {}).get("idempotency_key") if isinstance(entity.get("notes"), dict) else None
        if key:
            refund = db.session.scalar(select(Refund).where(Refund.idempotency_key == key))
    return refund


def apply_gateway_refund(entity: dict, *, actor: Actor, reason: str = "") -> Refund:
    """Record or update a refund from a gateway refund entity; settle payment and order. Commits.

    Idempotent and monotonic like `apply_gateway_payment`.
    """
    try:
        payment = _lock_payment(entity["payment_id"])
        refund = _find_refund(entity, payment)
        if refund is None:
            refund = Refund(
                payment=payment,
                order_id=payment.order_id,
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
        refund.gateway_refund_id = entity["id"]
        refund.gateway_data = entity
        target = entity.get("status", RefundStatus.PENDING)
        if advance_to(refund, REFUND, target, actor=actor, reason=reason or f"gateway reports {target}"):
            if target == RefundStatus.PROCESSED:
                refund.processed_at = utcnow()
                db.session.flush()
                settle_payment_and_order(payment, actor, f"refund {entity['id']} processed")
            elif target == RefundStatus.FAILED:
                refund.failure_reason = entity.get("error_description") or "refund failed at the gateway"
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return refund
