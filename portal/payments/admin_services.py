"""Admin-only payment operations: a manual status correction and deleting a failed payment.

Both lock the payment row, write history in the same transaction, and commit or roll back whole.
"""

from __future__ import annotations

from sqlalchemy import select

from portal.dbutil import for_update
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.payments.models import Payment
from portal.payments.status import PAYMENT, PaymentStatus
from portal.statemachine import transition
from portal.timeutil import utcnow


class PaymentNotFound(LookupError):
    pass


class PaymentNotDeletable(Exception):
    """Only a failed payment with no refunds and no disputes may be deleted."""


def _lock(payment_id: int) -> Payment:
    payment = db.session.scalar(for_update(select(Payment).where(Payment.id == payment_id), of=Payment))
    if payment is None:
        raise PaymentNotFound(payment_id)
    return payment


def change_payment_status(payment_id: int, target: str, *, actor: Actor, reason: str) -> Payment:
    """Move a payment to a legal next status with a reason (a correction; the gateway is not called). Commits."""
    if not reason.strip():
        raise ValueError("A reason is required.")
    try:
        payment = _lock(payment_id)
        transition(payment, PAYMENT, target, actor=actor, reason=reason)
        now = utcnow()
        if target in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
            payment.authorized_at = payment.authorized_at or now
        if target == PaymentStatus.CAPTURED:
            payment.captured_at = payment.captured_at or now
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return payment


def delete_payment(payment_id: int, *, actor: Actor, reason: str = "") -> str:
    """Delete a failed payment that has no refunds or disputes; the history keeps a row. Commits.

    Returns the deleted payment's gateway id.
    """
    try:
        payment = _lock(payment_id)
        if payment.status != PaymentStatus.FAILED:
            raise PaymentNotDeletable(f"Payment {payment.gateway_payment_id} is {payment.status}; only failed ones.")
        if payment.refunds or payment.disputes:
            raise PaymentNotDeletable(f"Payment {payment.gateway_payment_id} has refunds or disputes.")
        gateway_id = payment.gateway_payment_id
        record_event(payment, action="delete", actor=actor, from_state=str(payment.status), reason=reason or "deleted")
        db.session.delete(payment)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return gateway_id
