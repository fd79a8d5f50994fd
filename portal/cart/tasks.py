"""Checkout schedules: expire unpaid checkouts and release their reservations every minute."""

from __future__ import annotations

import logging

from portal.cart.expiry import release_expired
from portal.jobs import crontab, schedule

log = logging.getLogger(__name__)


@schedule(crontab(minute="*"), lock_ttl=300)
def release_expired_reservations() -> int:
    """Checkouts past RESERVATION_TTL_MINUTES become `expired`; their stock and rental dates return.
    Also `flask checkout release-expired`."""
    summary = release_expired()
    if summary.checkouts:
        log.info("checkout release-expired: %s", summary.line(False))
    return len(summary.checkouts)
