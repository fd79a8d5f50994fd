"""Disputes (chargebacks) the gateway reports on a payment: one record per gateway dispute, moving forward only."""

from __future__ import annotations

from sqlalchemy import select

from portal.dbutil import for_update
from portal.extensions import db
from portal.history.services import Actor, record_event
from portal.payments.models import Dispute, Payment
from portal.payments.status import DisputeStatus
from portal.refunds.errors import UnknownGatewayPayment
from portal.statemachine import IllegalTransition, Machine, advance_to
from portal.timeutil import from_unix

S = DisputeStatus
DISPUTE_TRANSITIONS = {
    S.OPEN: {S.UNDER_REVIEW, S.WON, S.LOST, S.CLOSED},
    S.UNDER_REVIEW: {S.WON, S.LOST, S.CLOSED},
    # Razorpay closes a dispute after its outcome; closed is the end of every path.
    S.WON: {S.CLOSED},
    S.LOST: {S.CLOSED},
}
DISPUTE = Machine("dispute", DisputeStatus, DISPUTE_TRANSITIONS, initial=S.OPEN)


def _lock_payment(gateway_payment_id: str) -> Payment:
    query = for_update(select(Payment).where(Payment.gateway_payment_id == gateway_payment_id), of=Payment)
    payment = db.session.scalar(query)
    if payment is None:
        raise UnknownGatewayPayment(gateway_payment_id)
    return payment


def _get_or_create(payment: Payment, entity: dict, actor: Actor, reason: str) -> Dispute:
    dispute = db.session.scalar(select(Dispute).where(Dispute.gateway_dispute_id == entity["id"]))
    if dispute is not None:
        return dispute
    dispute = Dispute(
        payment=payment,
        gateway_dispute_id=entity["id"],
        amount=int(entity["amount"]),
        currency=entity.get("currency") or payment.currency,
        status=S.OPEN,
    )
    db.session.add(dispute)
    db.session.flush()
    record_event(dispute, action="create", actor=actor, to_state=S.OPEN, reason=reason or "dispute opened")
    return dispute


def _copy_details(dispute: Dispute, entity: dict) -> None:
    dispute.phase = entity.get("phase") or dispute.phase
    dispute.reason_code = entity.get("reason_code") or dispute.reason_code
    dispute.respond_by = from_unix(entity.get("respond_by")) or dispute.respond_by
    dispute.gateway_data = entity


def apply_gateway_dispute(entity: dict, *, actor: Actor, reason: str = "") -> tuple[Dispute, bool]:
    """Record or advance a dispute from a gateway dispute entity. Commits; returns (dispute, stale).

    The payment row is locked, so concurrent events for one payment apply one at a time; an event
    older than what we hold (a `created` after `lost`) is recorded on the dispute and skipped.
    """
    target = entity.get("status") or S.OPEN
    if target not in set(S):
        raise ValueError(f"unknown dispute status {target!r}")
    try:
        payment = _lock_payment(entity["payment_id"])
        dispute = _get_or_create(payment, entity, actor, reason)
        _copy_details(dispute, entity)
        stale = False
        try:
            advance_to(dispute, DISPUTE, target, actor=actor, reason=reason or f"gateway reports {target}")
        except IllegalTransition:
            stale = True
        stale = stale or DISPUTE.is_behind(dispute.status, target)
        if stale:
            record_event(
                dispute, action="stale_update", actor=actor, reason=f"ignored '{target}': dispute is {dispute.status}"
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return dispute, stale
