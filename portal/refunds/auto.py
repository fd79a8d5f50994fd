"""Automatic refunds: a payment that lands on a cancelled or expired order is given back."""

from __future__ import annotations

from flask import current_app

from portal.history.services import Actor
from portal.payments.status import PaymentStatus
from portal.refunds.errors import RefundError
from portal.refunds.services import create_refund


def late_payment_form_token(gateway_payment_id: str) -> str:
    """One auto-refund per late payment: the unique form token makes the hook idempotent."""
    return f"late-{gateway_payment_id}"


def refund_late_payment(outcome) -> None:
    """Payment hook (runs after the payment commit) when AUTO_REFUND_LATE_PAYMENTS is on.

    Goes through `create_refund`, so it takes the same locks and money rules as a refund made by
    finance: it can never race one into refunding more than was captured. A gateway outage leaves
    the refund pending and unsent for `process`; the order stays flagged `needs_refund` until then.
    """
    if not current_app.config.get("AUTO_REFUND_LATE_PAYMENTS", True):
        return
    order, payment = outcome.order, outcome.payment
    if not order.needs_refund or payment.status != PaymentStatus.CAPTURED:
        return
    try:
        create_refund(
            payment.id,
            amount=None,
            reason="late_payment",
            notes=f"payment arrived after the order was {order.status}",
            actor=Actor.system("auto-refund"),
            form_token=late_payment_form_token(payment.gateway_payment_id),
        )
    except RefundError as exc:  # nothing left to refund (finance already did): nothing to do
        current_app.logger.info("auto-refund of %s skipped: %s", payment.gateway_payment_id, exc)
