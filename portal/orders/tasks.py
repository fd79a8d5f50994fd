"""Order schedules: expire unpaid orders every minute (also `flask orders expire [--dry-run]`)."""

from __future__ import annotations

import logging

from portal.jobs import crontab, schedule
from portal.orders.checkout import expire_overdue_orders

log = logging.getLogger(__name__)


@schedule(crontab(minute="*"), lock_ttl=300)
def expire_unpaid_orders() -> int:
    """Pending orders past their payment window become `expired` (stock back, payment links cancelled)."""
    summary = expire_overdue_orders()
    if summary.expired:
        log.info("orders expire: %s", summary.line(False))
    return len(summary.expired)
