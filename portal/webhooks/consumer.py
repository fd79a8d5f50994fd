"""The webhook consumer: `flask webhooks work` applies events the web process only stored.

With WEBHOOK_PROCESSING=queue the web process answers Razorpay right after the insert and never spends
CPU on applying payments; one or more consumer processes (Procfile `worker:`), optionally at a lower
CPU priority, take unclaimed events oldest first. Each event is claimed with a compare-and-set on
`attempts` (0 → 1), so any number of consumers apply it once; one that dies mid-event leaves it
`pending` with attempts=1, for the `flask webhooks retry` sweep.
"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from portal.extensions import db
from portal.webhooks.models import WebhookEvent, WebhookStatus
from portal.webhooks.services import run, try_claim


def unclaimed(limit: int) -> list[int]:
    query = (
        select(WebhookEvent.id)
        .where(WebhookEvent.status == WebhookStatus.PENDING, WebhookEvent.attempts == 0)
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(query))
    db.session.commit()  # end the read transaction: each claim below is its own
    return ids


def work_once(batch: int = 100) -> Counter:
    """Claim and apply up to `batch` unclaimed events; counts by resulting status."""
    counts: Counter = Counter()
    for event_pk in unclaimed(batch):
        if not try_claim(event_pk, 0, (WebhookStatus.PENDING,)):
            counts["claimed elsewhere"] += 1
            continue
        counts[str(run(db.session.get(WebhookEvent, event_pk)).status)] += 1
    return counts


def work(*, batch: int = 100, poll: float = 0.5, until_empty: bool = False, report=None) -> Counter:
    """Apply events as they arrive (sleeping `poll` seconds when there are none); returns the totals.

    With `until_empty` it stops once no unclaimed event is left (ops, tests, the benchmark).
    """
    totals: Counter = Counter()
    while True:
        counts = work_once(batch)
        totals.update(counts)
        if counts and report:
            report(counts)
        if not counts:
            if until_empty:
                return totals
            time.sleep(poll)
