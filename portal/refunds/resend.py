"""Refunds the gateway never received, sent again by a schedule with exponential backoff.

A refund is committed `pending` before the gateway is called (portal/refunds/services.py); when the call
fails transiently (GatewayUnavailable: a timeout, a 5xx, 429 past the adapter's own retries) it stays
pending and unsent, with a `send_failed` history row. Until now a person had to press "Process" on it.
`resend_unsent_refunds` (every minute, portal/payments/tasks.py; by hand `flask payments resend-refunds`)
sends each such refund again once its backoff has elapsed — RESEND_BASE doubled per failed send, capped
at RESEND_CAP, at most RESEND_MAX_SENDS sends, then left for a person — always with the refund's own
idempotency key (X-Refund-Idempotency), so a send that timed out after the gateway acted is answered
with the refund already made, never a second one. The history rows are the attempt count: no new column.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.refunds.errors import RefundError
from portal.refunds.models import Refund
from portal.refunds.status import RefundStatus
from portal.timeutil import utcnow

RESEND_AFTER = timedelta(minutes=2)  # younger unsent refunds may still be in their own request's send
RESEND_BASE = timedelta(minutes=1)
RESEND_CAP = timedelta(hours=1)
RESEND_MAX_SENDS = 8  # failed sends after which the refund waits for a person ("Process" on its page)
ACTOR = Actor.system("refund resend")


def resend_delay(failed_sends: int) -> timedelta:
    return min(RESEND_BASE * 2 ** max(failed_sends - 1, 0), RESEND_CAP)


def due(now=None) -> list[int]:
    """Unsent pending refunds whose backoff has elapsed, oldest first."""
    now = now or utcnow()
    unsent = (
        select(Refund.id)
        .where(
            Refund.status == RefundStatus.PENDING,
            Refund.sent_at.is_(None),
            Refund.gateway_refund_id.is_(None),
            Refund.created_at < now - RESEND_AFTER,
        )
        .order_by(Refund.id)
    )
    ids = list(db.session.scalars(unsent))
    if not ids:
        db.session.commit()
        return []
    failures = {
        refund_id: (count, last)
        for refund_id, count, last in db.session.execute(
            select(HistoryEvent.entity_id, func.count(), func.max(HistoryEvent.created_at))
            .where(
                HistoryEvent.entity_type == "refund",
                HistoryEvent.action == "send_failed",
                HistoryEvent.entity_id.in_(ids),
            )
            .group_by(HistoryEvent.entity_id)
        )
    }
    db.session.commit()  # end the read: each send is its own work
    ready = []
    for refund_id in ids:
        count, last = failures.get(refund_id, (0, None))
        if count >= RESEND_MAX_SENDS:
            continue
        if last is None or last + resend_delay(count) <= now:
            ready.append(refund_id)
    return ready


def resend_unsent(*, dry_run: bool = False, now=None, on_each=None) -> dict[str, int]:
    """Send every due refund again (same idempotency key); counts by outcome: the refund's status after the
    gateway's answer, `unsent` when the gateway is still unreachable, `skipped` when someone acted first."""
    from portal.refunds.services import process_refund

    counts: dict[str, int] = {}
    for refund_id in due(now):
        if on_each:
            on_each()
        if dry_run:
            outcome = "would_resend"
        else:
            try:
                refund = process_refund(refund_id, actor=ACTOR)
                outcome = "unsent" if refund.status == RefundStatus.PENDING and not refund.was_sent else refund.status
            except RefundError:  # sent, processed or deleted by a person meanwhile
                outcome = "skipped"
        counts[str(outcome)] = counts.get(str(outcome), 0) + 1
    return counts
