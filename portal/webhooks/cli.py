"""`flask webhooks ...`: retry failed events, sweep up unpicked ones, apply stored ones now, purge old ones.

`retry` and `sweep` are the manual forms of the `retry_failed_webhooks` and `sweep_webhook_events`
schedules (portal/webhooks/tasks.py) and share their code.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.webhooks import services

webhooks_cli = AppGroup("webhooks", help="The Razorpay webhook log.")


def _summary(counts: dict[str, int], empty: str) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or empty


@webhooks_cli.command("retry")
@click.option("--dry-run", is_flag=True, help="List what would be retried; change nothing.")
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 100),
    default=services.DEFAULT_MAX_ATTEMPTS,
    show_default=True,
    help="Events that have been tried this many times are left for a person to look at.",
)
@click.option("--due-only", is_flag=True, help="Only failed events whose backoff has elapsed (as the schedule).")
def retry(dry_run: bool, max_attempts: int, due_only: bool) -> None:
    """Re-process failed webhook events (and pending ones stuck after a crash), each once per run."""
    counts = services.retry_failed(max_attempts=max_attempts, dry_run=dry_run, due_only=due_only)
    click.echo(f"webhooks retry{' (dry run)' if dry_run else ''}: {_summary(counts, 'nothing to retry')}")
    if counts.get("failed"):
        raise SystemExit(1)


@webhooks_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="Count what would be re-enqueued; change nothing.")
def sweep(dry_run: bool) -> None:
    """Re-enqueue pending events nobody picked up (a lost enqueue, a worker that died mid-event)."""
    count = services.sweep(dry_run=dry_run)
    verb = "would re-enqueue" if dry_run else "re-enqueued"
    click.echo(f"webhooks sweep: {verb} {count} event(s)")


@webhooks_cli.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True, help="Age in days.")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
def purge(days: int, dry_run: bool) -> None:
    """Delete processed and ignored events older than DAYS days (failed and pending ones are kept)."""
    count = services.purge(days, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"webhooks purge: {verb} {count} event(s) older than {days} day(s)")


@webhooks_cli.command("work")
@click.option("--dry-run", is_flag=True, help="Count the stored, unclaimed events; apply nothing.")
@click.option("--batch", type=click.IntRange(1, 1000), default=100, show_default=True)
def work(dry_run: bool, batch: int) -> None:
    """Apply stored, unclaimed webhook events now, in this process, until none is left (ops: no worker is
    running, or a backlog to clear by hand). Safe beside running workers: each event is claimed once."""
    waiting = services.count_unclaimed()
    if dry_run:
        click.echo(f"webhooks work (dry run): {waiting} event(s) waiting")
        return
    with click.progressbar(length=waiting, label="Applying events", show_pos=True, file=sys.stderr) as bar:
        counts = services.work(batch=batch, on_applied=lambda _status: bar.update(1))
    click.echo(f"webhooks work: {_summary(counts, 'nothing to do')}")
    if counts.get("failed"):
        raise SystemExit(1)
