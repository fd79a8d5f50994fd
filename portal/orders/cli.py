"""`flask orders ...`: housekeeping of unpaid orders."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.orders.checkout import expire_overdue_orders

orders_cli = AppGroup("orders", help="Housekeeping of customer orders.")


@orders_cli.command("expire")
@click.option("--dry-run", is_flag=True, help="List what would expire; change nothing.")
def expire(dry_run):
    """Expire pending orders past ORDER_PAYMENT_TTL_MINUTES and cancel their payment links."""
    summary = expire_overdue_orders(dry_run=dry_run)
    click.echo(summary.line(dry_run))
