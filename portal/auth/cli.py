"""`flask users ...`: staff, customers and API tokens."""

import click
from flask.cli import AppGroup

from portal.auth.models import STAFF_RANK, Role
from portal.auth.services import find_user, issue_token, upsert_user
from portal.vendors.services import vendor_by_name

users_cli = AppGroup("users", help="Manage staff users, customers and API tokens.")


def _password(password: str | None) -> str:
    return password or click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create-admin")
@click.argument("email")
@click.option(
    "--role", type=click.Choice([*map(str, STAFF_RANK), Role.VENDOR.value]), default="admin", show_default=True
)
@click.option("--vendor", "vendor_name", help="With --role vendor: the vendor (by name) whose staff this is.")
@click.option("--password", help="Prompted for when not given.")
def create_admin(email, role, vendor_name, password):
    """Create or update a staff user; `--role vendor --vendor NAME` makes a vendor's staff user, who sees
    that vendor's orders, payments, refunds and invoices only."""
    vendor_id = _vendor_id(role, vendor_name)
    try:
        user, created = upsert_user(email, _password(password), role, vendor_id=vendor_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    scope = f" of {user.vendor.name}" if user.vendor_id else ""
    click.echo(f"{'created' if created else 'updated'} {user.role}{scope} {user.email}")


def _vendor_id(role: str, vendor_name: str | None) -> int | None:
    """The vendor a vendor user belongs to; staff of the house belong to none."""
    if role != Role.VENDOR:
        if vendor_name:
            raise click.UsageError("--vendor goes with --role vendor only")
        return None
    if not vendor_name:
        raise click.UsageError("--role vendor needs --vendor NAME")
    vendor = vendor_by_name(vendor_name)
    if vendor is None:
        raise click.ClickException(f"no vendor named {vendor_name!r}: create it in /admin/vendors or import it")
    return vendor.id


@users_cli.command("create-customer")
@click.argument("email")
@click.option("--password", help="Prompted for when not given.")
@click.option("--name", default="")
def create_customer(email, password, name):
    """Create or update a customer."""
    try:
        user, created = upsert_user(email, _password(password), Role.CUSTOMER, name=name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'created' if created else 'updated'} customer {user.email}")


@users_cli.command("token")
@click.argument("email")
def token(email):
    """Issue an API token for a customer; the token is the last word printed."""
    user = find_user(email)
    if user is None or not user.is_customer:
        raise click.ClickException(f"no customer with email {email}")
    raw, record = issue_token(user)
    click.echo(f"token for {user.email}, expires {record.expires_at:%Y-%m-%d %H:%M} UTC: {raw}")
