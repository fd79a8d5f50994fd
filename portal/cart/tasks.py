"""Checkout schedules: expire unpaid checkouts and release their reservations every minute; hourly, apply the
payments of open checkouts that neither verify nor the webhook brought (as `flask payments reconcile` does)."""

from __future__ import annotations

import logging
from datetime import timedelta

from portal.cart.expiry import release_expired
from portal.cart.sync import summary_line, sync_checkouts
from portal.history.services import Actor
from portal.jobs import crontab, schedule
from portal.timeutil import utcnow

log = logging.getLogger(__name__)


@schedule(crontab(minute="*"), lock_ttl=300)
def release_expired_reservations() -> int:
    """Checkouts past RESERVATION_TTL_MINUTES become `expired`; their stock and rental dates return.
    Also `flask checkout release-expired`."""
    summary = release_expired()
    if summary.checkouts:
        log.info("checkout release-expired: %s", summary.line(False))
    return len(summary.checkouts)


@schedule(crontab(minute="23"), lock_ttl=3600)
def sync_recent_checkouts() -> str:
    """Hourly: open checkouts, and those changed in the last 3 days, synced with their gateway order."""
    reports = sync_checkouts(utcnow() - timedelta(days=3), actor=Actor.system("reconcile (scheduled)"))
    line = summary_line(reports, False)
    (log.warning if any(r.error or r.applied for r in reports) else log.info)("%s", line)
    return line
