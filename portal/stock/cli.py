"""`flask checkout release-expired [--dry-run]`: the manual form of the `release_expired_reservations` schedule."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

checkout_cli = AppGroup("checkout", help="Housekeeping of checkouts and their stock reservations.")


@checkout_cli.command("release-expired")
@click.option("--dry-run", is_flag=True, help="List what would expire; change nothing.")
def release_expired_command(dry_run):
    """Expire checkouts past RESERVATION_TTL_MINUTES and release their reservations (stock and rental dates).

    The jobs worker does this every minute (`release_expired_reservations`); this is the manual form."""
    from portal.cart.expiry import overdue_checkout_ids, release_expired

    count = len(overdue_checkout_ids())
    if dry_run or not count:
        summary = release_expired(dry_run=dry_run)
    else:
        with click.progressbar(length=count, label="Releasing reservations", show_pos=True, file=sys.stderr) as bar:
            summary = release_expired(on_each=lambda: bar.update(1))
    click.echo(summary.line(dry_run))


def init_app(app) -> None:
    app.cli.add_command(checkout_cli)
