"""The staff alert for webhook failures: a schedule every 5 minutes, and `flask notifications
alert-webhook-failures [--dry-run]` for a manual run.

It counts webhook events whose last attempt failed within the last hour. At WEBHOOK_FAILURE_ALERT_THRESHOLD
(default 5) or more, each staff recipient gets one alert per clock hour: the key names the hour
(`staff_webhook_failures:2026-12-01T14:<recipient>`), so the twelve runs in that hour write it once, and a problem that
lasts into the next hour alerts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.extensions import db
from portal.jobs import crontab, schedule
from portal.timeutil import utcnow
from portal.webhooks.models import WebhookEvent, WebhookStatus

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class AlertSummary:
    failures: int
    threshold: int
    window: str
    queued: int
    dry_run: bool

    def line(self) -> str:
        if self.failures < self.threshold:
            return f"{self.failures} failed webhook(s) in the last hour (threshold {self.threshold}): no alert."
        verb = "would queue" if self.dry_run else "queued"
        return (
            f"{self.failures} failed webhook(s) in the last hour (threshold {self.threshold}): "
            f"{verb} {self.queued} alert(s) for the hour {self.window} (existing ones are not repeated)."
        )


def recent_failures(now: datetime) -> int:
    query = select(func.count()).where(
        WebhookEvent.status == WebhookStatus.FAILED, WebhookEvent.processed_at >= now - WINDOW
    )
    return db.session.scalar(query) or 0


def hour_window(now: datetime) -> str:
    return now.replace(minute=0, second=0, microsecond=0).strftime("%Y-%m-%dT%H")


def alert_on_webhook_failures(*, dry_run: bool = False, now: datetime | None = None) -> AlertSummary:
    """Queue the staff alert when failures in the last hour reach the threshold (once per recipient per hour).
    Commits unless `dry_run`."""
    from portal.notifications.rules import staff_message, staff_recipients

    now = now or utcnow()
    threshold = current_app.config.get("WEBHOOK_FAILURE_ALERT_THRESHOLD", 5)
    failures, window = recent_failures(now), hour_window(now)
    if failures < threshold:
        db.session.rollback()
        return AlertSummary(failures, threshold, window, 0, dry_run)
    if dry_run:
        queued = len(staff_recipients())
        db.session.rollback()
        return AlertSummary(failures, threshold, window, queued, True)
    context = {"failures": failures, "threshold": threshold, "window": window}
    try:
        queued = staff_message("staff_webhook_failures", f"staff_webhook_failures:{window}", context=context)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return AlertSummary(failures, threshold, window, queued, False)


@schedule(crontab(minute="*/5"), lock_ttl=240)
def alert_webhook_failures():
    """Every 5 minutes: the webhook-failure alert (see alert_on_webhook_failures)."""
    current_app.logger.info(alert_on_webhook_failures().line())


notifications_cli = AppGroup("notifications", help="Customer and staff messages.")


@notifications_cli.command("alert-webhook-failures")
@click.option("--dry-run", is_flag=True, help="Count and report; queue nothing.")
def alert_webhook_failures_command(dry_run: bool) -> None:
    """Alert staff when failed webhooks in the last hour reach WEBHOOK_FAILURE_ALERT_THRESHOLD (one per hour)."""
    click.echo(alert_on_webhook_failures(dry_run=dry_run).line())


def init_app(app) -> None:
    if "notifications" not in app.cli.commands:
        app.cli.add_command(notifications_cli)
    else:  # another module of the package already owns the group: add to it
        app.cli.commands["notifications"].add_command(alert_webhook_failures_command)
