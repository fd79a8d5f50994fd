"""The refund invariant — never more refunded than captured — as one predicate and one query.

`exceeds_captured` is what every path checks before it stores a refund the gateway reports (webhooks,
our own sends, reconciliation). `over_refunded_payments` is what the dashboard's needs-attention panel
and the reconcile report list: payments whose stored refunds already exceed their capture (data written
before the guard existed) and payments for which a gateway refund was refused for that reason.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, or_, select

from portal.history.models import HistoryEvent
from portal.payments.models import Payment
from portal.payments.status import PaymentStatus
from portal.timeutil import utcnow

REFUSED_ACTION = "refund_exceeds_captured"  # the history row on the payment when a gateway refund is refused
WINDOW = timedelta(days=30)  # bounded like every dashboard figure; reconcile may pass its own `since`


def exceeds_captured(captured: int, refunded: int) -> bool:
    """True when `refunded` minor units would be more than the `captured` amount."""
    return int(refunded) > int(captured)


def over_refunded_payments(since=None) -> Select:
    """Payments (changed since `since`, default 30 days) refunded beyond their capture, or with a refused
    gateway refund that would have made them so. Newest first by `Payment.updated_at`."""
    since = since or utcnow() - WINDOW
    refused = select(HistoryEvent.entity_id).where(
        HistoryEvent.action == REFUSED_ACTION,
        HistoryEvent.entity_type == "payment",
        HistoryEvent.created_at >= since,
    )
    stored = (
        Payment.status.in_([PaymentStatus.REFUNDED.value, PaymentStatus.PARTIALLY_REFUNDED.value])
        & (Payment.updated_at >= since)
        & (Payment.amount_refunded > Payment.amount)
    )
    return select(Payment).where(or_(stored, Payment.id.in_(refused)))
