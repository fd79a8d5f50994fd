"""`flask demo ...`"""

import click
from flask.cli import AppGroup

from portal.demo import seed as demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--customers", default=40, show_default=True)
@click.option("--orders", default=150, show_default=True)
@click.option("--days", default=60, show_default=True, help="Spread orders over this many past days.")
def seed(customers, orders, days):
    """Build a realistic demo catalogue, customers and orders in every state (empty database only)."""
    with click.progressbar(length=orders, label="Seeding orders") as bar:
        try:
            result = demo.seed(customers=customers, orders=orders, days=days, progress=bar.update)
        except demo.NeedsSandbox as exc:
            raise click.ClickException(f"{exc}; nothing changed") from None
    if result["skipped"]:
        click.echo("demo seed: the database already has orders; nothing changed")
        return
    click.echo(f"demo seed: {result['products']} products, {result['customers']} customers, {result['orders']} orders")
    market = result["marketplace"]
    click.echo(
        f"demo seed: marketplace of {market['vendors']} vendors: {market['checkouts']} checkouts, "
        f"{market['vendor_orders']} vendor orders"
    )
    if result["overdue"]:
        click.echo(
            f"demo seed: order {', '.join(result['overdue'])} is unpaid past its payment window; the job worker "
            "(`make run` starts it) expires it within a minute"
        )
    click.echo(
        f"demo logins (password {demo.DEMO_PASSWORD}): "
        + ", ".join(email for email, _ in demo.DEMO_STAFF)
        + f"; vendor {demo.marketplace.VENDOR_USER[0]} ({demo.marketplace.VENDOR_USER[1]})"
        + f"; customer {demo.DEMO_CUSTOMER}"
    )
