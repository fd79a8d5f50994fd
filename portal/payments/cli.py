"""`flask payments ...`: reconciliation with the gateway (the manual form of `reconcile_recent_payments`)."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta

import click
from flask.cli import AppGroup

from portal.payments import tasks  # noqa: F401  (the payment schedules, registered with the jobs queue)
from portal.payments.reconcile import DEFAULT_SWEEP_DAYS, DEFAULT_WORKERS, orders_to_check
from portal.payments.reconcile import reconcile as reconcile_orders
from portal.timeutil import utcnow

payments_cli = AppGroup("payments", help="Payments and the gateway.")
_RELATIVE = re.compile(r"^(\d+)\s*([hd])$")


def parse_since(text: str) -> datetime:
    """'48h', '7d' or an ISO date/time (UTC)."""
    match = _RELATIVE.match(text.strip().lower())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return utcnow() - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount))
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=None)
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is not like 48h, 7d or 2025-01-31") from exc


@payments_cli.command("reconcile")
@click.option(
    "--since", default="3d", show_default=True, help="Also check orders created or changed since: 48h, 7d, 2025-01-31."
)
@click.option("--full", is_flag=True, help="Check every order with a gateway presence, settled or not.")
@click.option(
    "--sweep-days",
    default=DEFAULT_SWEEP_DAYS,
    show_default=True,
    type=click.IntRange(min=0),
    help="Also check 1/N of the settled orders (by id, rotating daily): each is re-checked every N days. 0: none.",
)
@click.option(
    "--workers",
    default=DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Orders fetched from the gateway at once (1: one after another).",
)
@click.option("--dry-run", is_flag=True, help="Report drift; change nothing.")
def reconcile(since: str, full: bool, sweep_days: int, workers: int, dry_run: bool) -> None:
    """Compare our payments and refunds with the gateway and repair drift, recording why.

    Checks what can still change (orders pending, payments created or authorized, refunds pending), what
    changed since --since, and a rotating 1/--sweep-days slice of the rest; --full checks everything.
    Our records the gateway has no record of, and refunds beyond what was captured, are reported as
    "needs review" and never changed. Exits 0 once every order was checked (drift or not), 1 when some
    order could not be checked (gateway unavailable), 2 on a usage error. See docs/cli.md."""
    cutoff = parse_since(since)
    order_ids = orders_to_check(cutoff, full=full, sweep_days=sweep_days)
    with click.progressbar(length=len(order_ids), label="Checking orders", show_pos=True, file=sys.stderr) as bar:
        summary = reconcile_orders(
            cutoff, dry_run=dry_run, workers=workers, order_ids=order_ids, on_checked=lambda _report: bar.update(1)
        )
    for report in summary.reports:
        if not report.in_sync:
            for line in report.lines():
                click.echo(line)
    checkouts_failed = _reconcile_checkouts(cutoff, dry_run)
    click.echo(f"payments reconcile{' (dry run)' if dry_run else ''}: {summary.line()}")  # the summary: last
    if summary.failed or checkouts_failed:
        raise SystemExit(1)


def _reconcile_checkouts(cutoff, dry_run: bool) -> int:
    """A checkout's payment pays several vendor orders that have no gateway order of their own: it is synced
    through its checkout (portal/cart/sync.py). Returns how many could not be checked."""
    from portal.cart.sync import summary_line, sync_checkouts
    from portal.history.services import Actor

    reports = sync_checkouts(cutoff, actor=Actor.system("reconcile"), dry_run=dry_run)
    for report in reports:
        for line in report.applied + ([f"could not sync: {report.error}"] if report.error else []):
            click.echo(f"{report.number}: {line}")
    if reports:  # a shop without checkouts keeps its one line
        click.echo(summary_line(reports, dry_run))
    return sum(r.error is not None for r in reports)


@payments_cli.command("resend-refunds")
@click.option("--dry-run", is_flag=True, help="List what would be sent; change nothing.")
def resend_refunds(dry_run: bool) -> None:
    """Send again the pending refunds the gateway never received (it was unreachable), once their backoff has
    elapsed, each with its own idempotency key — as the `resend_unsent_refunds` schedule does every minute."""
    from portal.refunds.resend import due, resend_unsent

    count = len(due())
    with click.progressbar(length=count, label="Sending refunds", show_pos=True, file=sys.stderr) as bar:
        counts = resend_unsent(dry_run=dry_run, on_each=lambda: bar.update(1))
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing to send"
    click.echo(f"payments resend-refunds{' (dry run)' if dry_run else ''}: {summary}")
    if counts.get("unsent") or counts.get("failed"):
        raise SystemExit(1)
