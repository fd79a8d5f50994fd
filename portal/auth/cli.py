"""`flask users ...`: staff, customers and API tokens."""

import click
from flask.cli import AppGroup

from portal.auth.models import STAFF_RANK, Role
from portal.auth.services import find_user, issue_token, upsert_user

users_cli = AppGroup("users", help="Manage staff users, customers and API tokens.")


def _password(password: str | None) -> str:
    return password or click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--role", type=click.Choice([str(r) for r in STAFF_RANK]), default="admin", show_default=True)
@click.option("--password", help="Prompted for when not given.")
def create_admin(email, role, password):
    """Create or update a staff user."""
    try:
        user, created = upsert_user(email, _password(password), role)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'created' if created else 'updated'} {user.role} {user.email}")


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
