"""`flask payments ...`: reconciliation with the gateway."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import click
from flask.cli import AppGroup

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
@click.option("--since", default="3d", show_default=True, help="Orders created since: 48h, 7d or 2025-01-31.")
@click.option("--dry-run", is_flag=True, help="Report drift; change nothing.")
def reconcile(since: str, dry_run: bool) -> None:
    """Compare our payments and refunds with the gateway and repair drift, recording why.

    Our records the gateway has no record of, and refunds beyond what was captured, are reported as
    "needs review" and never changed. Exits 0 once every order was checked (drift or not), 1 when some
    order could not be checked (gateway unavailable), 2 on a usage error. See docs/cli.md."""
    summary = reconcile_orders(parse_since(since), dry_run=dry_run)
    for report in summary.reports:
        if not report.in_sync:
            for line in report.lines():
                click.echo(line)
    click.echo(f"payments reconcile{' (dry run)' if dry_run else ''}: {summary.line()}")
    if summary.failed:
        raise SystemExit(1)
