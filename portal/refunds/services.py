"""Refunds: creating them under a lock and sending them to the gateway (settling is in settlement.py).

The money rule — never refund more than was captured — is settled in one short transaction that
locks the order and payment rows (always in that order, as `apply_gateway_payment` does), computes
what is still refundable (captured − processed − pending), inserts the refund `pending` and commits.
Only then is the gateway called, with no lock held across the network. Each refund carries a stable
idempotency key sent as `X-Refund-Idempotency`, so sending it again after a timeout can never refund
twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.dbutil import for_update
from portal.extensions import db
from portal.gateway import GatewayRejected, GatewayUnavailable, get_gateway
from portal.history.services import Actor, diff, record_event
from portal.money import format_money
from portal.orders.models import Order
from portal.payments.models import Payment
from portal.refunds.errors import (
    InvalidRefund,
    PaymentNotRefundable,
    RefundActionNotAllowed,
    RefundExceedsRefundable,
    RefundNotFound,
)
from portal.refunds.lines import line_amounts
from portal.refunds.models import Refund
from portal.refunds.reasons import NOTES_REQUIRED_FOR, REFUND_REASONS, reason_label
from portal.refunds.settlement import (
    apply_gateway_refund,
    lock_order_then_payment,
    new_idempotency_key,
    order_for_refund,
    refundable_amount,
    run_refund_hooks,
    settle_payment_and_order,
)
from portal.refunds.status import REFUND, RefundStatus
from portal.statemachine import advance_to, transition
from portal.timeutil import utcnow

MAX_NOTES = 2000


# ---------------------------------------------------------------- creating


def _clean_reason(reason: str, notes: str) -> tuple[str, str]:
    reason, notes = (reason or "").strip(), (notes or "").strip()
    if reason not in REFUND_REASONS:
        raise InvalidRefund("Choose a reason for the refund.")
    if reason in NOTES_REQUIRED_FOR and not notes:
        raise InvalidRefund("Explain the reason in the notes.")
    if len(notes) > MAX_NOTES:
        raise InvalidRefund(f"Notes can be at most {MAX_NOTES} characters.")
    return reason, notes


def check_refundable(payment: Payment, amount: int | None, order_id: int | None = None) -> int:
    """The amount to refund (None = all that remains of the order's share), or a clear refusal. Call under
    the payment lock. `order_id`: the order the refund is for (see `order_for_refund`)."""
    if not payment.is_settled:
        raise PaymentNotRefundable(
            f"Payment {payment.gateway_payment_id} is {payment.status}: only captured payments can be refunded."
        )
    left = refundable_amount(payment, order_id)
    if left <= 0:
        raise RefundExceedsRefundable(f"Nothing is left to refund on payment {payment.gateway_payment_id}.")
    if amount is None:
        return left
    if amount <= 0:
        raise InvalidRefund("The refund amount must be more than zero.")
    if amount > left:
        raise RefundExceedsRefundable(
            f"{format_money(amount, payment.currency)} is more than the "
            f"{format_money(left, payment.currency)} still refundable on payment {payment.gateway_payment_id}."
        )
    return amount


def _amount_from_lines(order_id: int | None, amount: int | None, lines) -> tuple[int | None, list | None]:
    if not lines:
        return amount, None
    order = db.session.get(Order, order_id) if order_id is not None else None
    if order is None:
        raise InvalidRefund("This payment paid no order: refund it by amount.")
    priced = line_amounts(order, lines)
    total = sum(line["amount"] for line in priced)
    if amount is not None and amount != total:
        raise InvalidRefund("Give either an amount or order lines, not both.")
    return total, priced


@dataclass(frozen=True)
class RefundPreview:
    """What the confirmation shows before money moves."""

    payment: Payment
    amount: int
    refundable: int
    lines: list | None

    @property
    def remaining_after(self) -> int:
        return self.refundable - self.amount


def preview_refund(
    payment_id: int, *, amount: int | None, lines: list[dict] | None = None, order_id: int | None = None
) -> RefundPreview:
    """Check a refund request without creating it (no lock: `create_refund` checks again under one)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise RefundNotFound(f"There is no payment {payment_id}.")
    order_id = order_for_refund(payment_id, order_id)
    amount, priced = _amount_from_lines(order_id, amount, lines)
    amount = check_refundable(payment, amount, order_id)
    return RefundPreview(payment, amount, refundable_amount(payment, order_id), priced)


def _by_form_token(form_token: str | None) -> Refund | None:
    if not form_token:
        return None
    return db.session.scalar(select(Refund).where(Refund.form_token == form_token))


def _reserve(payment_id, order_id, amount, reason, notes, actor, form_token, lines) -> tuple[Refund, bool]:
    """Lock, check the money rule, insert the pending refund, commit. (refund, created)."""
    try:
        order_id = order_for_refund(payment_id, order_id)
        payment = lock_order_then_payment(payment_id, order_id)
        existing = _by_form_token(form_token)
        if existing is not None:  # the same form submitted twice: one refund
            db.session.commit()
            return existing, False
        amount, priced_lines = _amount_from_lines(order_id, amount, lines)
        amount = check_refundable(payment, amount, order_id)
        refund = Refund(
            payment=payment,
            order_id=order_id,
            checkout_id=payment.checkout_id if order_id is None else None,
            amount=amount,
            currency=payment.currency,
            status=RefundStatus.PENDING,
            reason=reason,
            notes=notes,
            idempotency_key=new_idempotency_key(),
            form_token=form_token or None,
            initiated_by_id=actor.id if actor.type == "user" else None,
            lines=priced_lines,
        )
        db.session.add(refund)
        db.session.flush()
        record_event(
            refund,
            action="create",
            actor=actor,
            to_state=RefundStatus.PENDING,
            reason=notes or reason_label(reason),
            changes={"amount": [None, refund.amount], "currency": [None, refund.currency]},  # the money filter shows it
        )
        db.session.commit()
        return refund, True
    except Exception:
        db.session.rollback()
        raise


def create_refund(
    payment_id: int,
    *,
    amount: int | None,
    reason: str,
    notes: str = "",
    actor: Actor,
    form_token: str | None = None,
    lines: list[dict] | None = None,
    order_id: int | None = None,
) -> Refund:
    """Refund `amount` minor units (None = all that remains, or the sum of `lines`) of a captured payment.

    `order_id` names which of the payment's orders the refund is for: required when the payment paid several
    (a checkout's payment, one allocation per vendor order), else its only order. The refund can take no more
    than that order's allocation less its other processed and pending refunds on this payment.

    Commits the pending refund before calling the gateway, then records what the gateway answered:
    processed/pending (with its refund id), failed (rejected, with the reason) or still pending and
    unsent (gateway unavailable; `process_refund` sends it later with the same idempotency key).
    A repeated `form_token` returns the refund the first submission created. Raises RefundError.
    """
    reason, notes = _clean_reason(reason, notes)
    try:
        refund, created = _reserve(payment_id, order_id, amount, reason, notes, actor, form_token, lines)
    except IntegrityError:  # a concurrent submission of the same form won the unique form_token
        existing = _by_form_token(form_token)
        if existing is None:
            raise
        return existing
    if not created:
        return refund
    return send_refund(refund.id, actor)


# ---------------------------------------------------------------- sending


def _gateway_request(refund: Refund) -> dict:
    # Deterministic notes: a resend with the same key must carry the same body (else the gateway answers 409).
    return {
        "payment_id": refund.payment.gateway_payment_id,
        "amount": refund.amount,
        "idempotency_key": refund.idempotency_key,
        "notes": {"refund_id": str(refund.id), "idempotency_key": refund.idempotency_key},
    }


def send_refund(refund_id: int, actor: Actor) -> Refund:
    """Send a committed pending refund to the gateway (no lock is held meanwhile) and record the answer."""
    refund = db.session.get(Refund, refund_id)
    request = _gateway_request(refund)
    db.session.commit()  # nothing to write: ends the read transaction before the network call
    try:
        entity = get_gateway().refund_payment(
            request["payment_id"],
            amount=request["amount"],
            idempotency_key=request["idempotency_key"],
            notes=request["notes"],
        )
    except GatewayRejected as exc:
        return _mark_failed(refund_id, str(exc), actor)
    except GatewayUnavailable as exc:
        return _mark_unsent(refund_id, str(exc) or "no answer", actor)
    _mark_sent(refund_id, entity)
    return apply_gateway_refund(entity, actor=Actor.gateway(), reason=f"gateway answered {entity.get('status')}")


def _lock_refund(refund_id: int) -> Refund:
    found = db.session.execute(select(Refund.payment_id, Refund.order_id).where(Refund.id == refund_id)).first()
    if found is None:
        raise RefundNotFound(f"There is no refund {refund_id}.")
    lock_order_then_payment(found.payment_id, found.order_id)
    return db.session.scalar(for_update(select(Refund).where(Refund.id == refund_id), of=Refund))


def _mark_failed(refund_id: int, message: str, actor: Actor) -> Refund:
    try:
        refund = _lock_refund(refund_id)
        if refund.status == RefundStatus.PENDING and not refund.was_sent:
            refund.failure_reason = message or "rejected by the gateway"
            transition(refund, REFUND, RefundStatus.FAILED, actor=actor, reason=f"gateway rejected: {message}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return refund


def _mark_unsent(refund_id: int, message: str, actor: Actor) -> Refund:
    try:
        refund = _lock_refund(refund_id)
        record_event(refund, action="send_failed", actor=actor, reason=f"gateway unavailable ({message}); not sent yet")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return refund


def _mark_sent(refund_id: int, entity: dict) -> None:
    try:
        refund = _lock_refund(refund_id)
        refund.gateway_refund_id = refund.gateway_refund_id or entity["id"]
        refund.sent_at = refund.sent_at or utcnow()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


# ---------------------------------------------------------------- actions: process, edit, delete


def _prepare_resend(refund_id: int, actor: Actor) -> Refund:
    """Under the lock: an unsent pending refund keeps its key; a failed one is re-checked and gets a new key
    (the failed attempt is final at the gateway, so a new attempt cannot refund twice)."""
    try:
        refund = _lock_refund(refund_id)
        if refund.status == RefundStatus.PENDING and refund.was_sent:
            raise RefundActionNotAllowed("This refund is already with the gateway; its answer will settle it.")
        if refund.status == RefundStatus.PROCESSED:
            raise RefundActionNotAllowed("This refund is already processed.")
        if refund.status == RefundStatus.FAILED:
            check_refundable(refund.payment, refund.amount, refund.order_id)
            key = new_idempotency_key()
            changes = {"idempotency_key": [refund.idempotency_key, key]}
            transition(refund, REFUND, RefundStatus.PENDING, actor=actor, reason="sent again", changes=changes)
            refund.idempotency_key = key
            refund.gateway_refund_id, refund.sent_at, refund.failure_reason = None, None, None
        else:
            record_event(refund, action="resend", actor=actor, reason="sent again with the same idempotency key")
        db.session.commit()
        return refund
    except Exception:
        db.session.rollback()
        raise


def record_offline_refund(refund_id: int, *, reference: str, actor: Actor) -> Refund:
    """Mark an unsent or failed refund as processed outside the gateway (bank transfer, cash), with its reference."""
    reference = (reference or "").strip()
    if not reference or len(reference) > 120:
        raise InvalidRefund("Give the reference of the refund made outside the gateway (up to 120 characters).")
    try:
        refund = _lock_refund(refund_id)
        if refund.status == RefundStatus.PROCESSED or (refund.was_sent and refund.status == RefundStatus.PENDING):
            raise RefundActionNotAllowed("Only an unsent or failed refund can be recorded as made outside the gateway.")
        if refund.status == RefundStatus.FAILED:
            check_refundable(refund.payment, refund.amount, refund.order_id)
        refund.offline_reference = reference
        refund.processed_at = utcnow()
        note = f"refunded outside the gateway: {reference}"
        advance_to(refund, REFUND, RefundStatus.PROCESSED, actor=actor, reason=note)
        db.session.flush()
        note = f"refund {refund.id} made outside the gateway ({reference})"
        settle_payment_and_order(refund.payment, actor, note, refund.order)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    run_refund_hooks(refund)
    return refund


def process_refund(refund_id: int, *, actor: Actor, offline_reference: str | None = None) -> Refund:
    """Send an unsent or failed refund (again), or — with `offline_reference` — record one made outside it."""
    if offline_reference:
        return record_offline_refund(refund_id, reference=offline_reference, actor=actor)
    refund = _prepare_resend(refund_id, actor)
    return send_refund(refund.id, actor)


def edit_refund(refund_id: int, *, reason: str, notes: str, actor: Actor) -> Refund:
    """Change the reason and notes (nothing else) of any refund; the change is recorded."""
    reason, notes = _clean_reason(reason, notes)
    try:
        refund = _lock_refund(refund_id)
        changes = diff(refund, {"reason": reason, "notes": notes})
        if changes:
            record_event(refund, action="edit", actor=actor, changes=changes, reason="reason/notes edited")
        db.session.commit()
        return refund
    except Exception:
        db.session.rollback()
        raise


def delete_refund(refund_id: int, *, actor: Actor) -> int:
    """Delete a pending refund that was never sent; returns its order id. The history keeps the record."""
    try:
        refund = _lock_refund(refund_id)
        if refund.status != RefundStatus.PENDING or refund.was_sent:
            raise RefundActionNotAllowed("Only a pending refund that was never sent can be deleted.")
        order_id = refund.order_id
        summary = f"refund {refund.id} of {format_money(refund.amount, refund.currency)} deleted"
        record_event(refund, action="delete", actor=actor, reason=summary)
        if refund.order is not None:
            record_event(refund.order, action="refund_deleted", actor=actor, reason=summary)
        db.session.delete(refund)
        db.session.commit()
        return order_id
    except Exception:
        db.session.rollback()
        raise
