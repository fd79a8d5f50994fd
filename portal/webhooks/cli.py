"""`flask webhooks ...`: re-process failed events, purge old ones."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.webhooks import consumer, services

webhooks_cli = AppGroup("webhooks", help="The Razorpay webhook log.")


@webhooks_cli.command("retry")
@click.option("--dry-run", is_flag=True, help="List what would be retried; change nothing.")
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 100),
    default=services.DEFAULT_MAX_ATTEMPTS,
    show_default=True,
    help="Events that have been tried this many times are left for a person to look at.",
)
def retry(dry_run: bool, max_attempts: int) -> None:
    """Re-process failed webhook events (and pending ones stuck after a crash), each once per run."""
    counts = services.retry_failed(max_attempts=max_attempts, dry_run=dry_run)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "nothing to retry"
    click.echo(f"webhooks retry{' (dry run)' if dry_run else ''}: {summary}")
    if counts.get("failed"):
        raise SystemExit(1)


@webhooks_cli.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True, help="Age in days.")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
def purge(days: int, dry_run: bool) -> None:
    """Delete processed and ignored events older than DAYS days (failed and pending ones are kept)."""
    count = services.purge(days, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"webhooks purge: {verb} {count} event(s) older than {days} day(s)")


@webhooks_cli.command("work")
@click.option("--once", is_flag=True, help="Stop when no unclaimed event is left (default: keep polling).")
@click.option("--batch", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--poll", type=click.FloatRange(0.05, 60), default=0.5, show_default=True, help="Seconds between polls.")
@click.option(
    "--nice", type=click.IntRange(0, 19), default=0, show_default=True, help="Lower this process's CPU priority."
)
def work(once: bool, batch: int, poll: float, nice: int) -> None:
    """Apply stored webhook events (WEBHOOK_PROCESSING=queue: the web process only stores them)."""
    import os

    if nice:
        os.nice(nice)

    def report(counts):
        click.echo("webhooks work: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))

    totals = consumer.work(batch=batch, poll=poll, until_empty=once, report=None if once else report)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(totals.items())) or "nothing to do"
    click.echo(f"webhooks work: {summary}")
    if totals.get("failed"):
        raise SystemExit(1)
