"""`flask orders ...`: housekeeping of unpaid orders (the manual form of the `expire_unpaid_orders` schedule)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.orders import tasks  # noqa: F401  (the order schedules, registered with the jobs queue)
from portal.orders.checkout import expire_overdue_orders, overdue_order_ids

orders_cli = AppGroup("orders", help="Housekeeping of customer orders.")
PROGRESS_FROM = 100  # a bar (on stderr) only for a run this long: after downtime, not the usual handful


@orders_cli.command("expire")
@click.option("--dry-run", is_flag=True, help="List what would expire; change nothing.")
def expire(dry_run):
    """Expire pending orders past ORDER_PAYMENT_TTL_MINUTES and cancel their payment links.

    The jobs worker does this every minute (`expire_unpaid_orders`); this is the manual form."""
    order_ids = overdue_order_ids()
    if dry_run or len(order_ids) < PROGRESS_FROM:
        summary = expire_overdue_orders(dry_run=dry_run, order_ids=order_ids)
    else:
        with click.progressbar(length=len(order_ids), label="Expiring orders", show_pos=True, file=sys.stderr) as bar:
            summary = expire_overdue_orders(order_ids=order_ids, on_each=lambda: bar.update(1))
    click.echo(summary.line(dry_run))
