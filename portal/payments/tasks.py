"""Payment schedules: reconcile the last 3 days with the gateway, hourly (also `flask payments reconcile`), and
send again the refunds the gateway never received, every minute (also `flask payments resend-refunds`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from portal.history.services import Actor
from portal.jobs import crontab, schedule
from portal.payments.reconcile import DEFAULT_SWEEP_DAYS, reconcile
from portal.timeutil import utcnow

log = logging.getLogger(__name__)
RECENT = timedelta(days=3)
SLICE_HOUR = 2  # UTC: the one hourly run a day that also checks the rotating slice of settled orders


@schedule(crontab(minute="17"), lock_ttl=3600)
def reconcile_recent_payments() -> str:
    """Hourly: what can still change, and what changed in the last 3 days, compared with the gateway and
    repaired. Once a day (02:17 UTC) the run adds the rotating 1/DEFAULT_SWEEP_DAYS slice of settled orders,
    as a daily `flask payments reconcile` does, so every order is still re-checked within that many days."""
    now = utcnow()
    sweep_days = DEFAULT_SWEEP_DAYS if now.hour == SLICE_HOUR else 0
    summary = reconcile(now - RECENT, sweep_days=sweep_days, actor=Actor.system("reconcile (scheduled)"))
    line = summary.line()
    (log.warning if summary.failed or summary.drifted else log.info)("payments reconcile: %s", line)
    return line


@schedule(crontab(minute="*"), lock_ttl=900)
def resend_unsent_refunds() -> dict[str, int]:
    """Every minute: refunds the gateway never received (it was unreachable) sent again, with backoff and
    their own idempotency keys (portal/refunds/resend.py; by hand `flask payments resend-refunds`)."""
    from portal.refunds.resend import resend_unsent

    counts = resend_unsent()
    if counts:
        log.info("refunds resend: %s", ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    return counts
